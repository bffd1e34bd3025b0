"""How long the monthly executive report takes to render on a generated brokerage: the
figures (every section through AnalyticsService on DuckDB) and the PDF (Jinja2 + SVG charts
+ WeasyPrint), cold (first rendering after opening the warehouse) and warm. Wall-clock
seconds, and the CPU seconds the process used (DuckDB's threads included), which depend less
on what else the machine runs; the load average is recorded beside them."""

from __future__ import annotations

import datetime as dt
import os
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from dealscope.bench.generate import BENCH_END, throwaway_cipher
from dealscope.demo.generator import BrokerageSpec, generate_brokerage
from dealscope.demo.loader import find_tenant, load_brokerage
from dealscope.errors import NotFound
from dealscope.reports.document import build_document
from dealscope.reports.service import render_document, resolve_spec
from dealscope.reports.specs import ReportFormat
from dealscope.warehouse.engine import describe_url, open_warehouse
from dealscope.warehouse.migrate import upgrade
from dealscope.warehouse.tenancy import TenantScope

TARGET_SECONDS = 5.0
TEMPLATE = "monthly_executive"


def _seconds(samples: list[float]) -> dict[str, float]:
    values = np.array(samples)
    return {
        "p50": round(float(np.percentile(values, 50)), 3),
        "max": round(float(values.max()), 3),
        "min": round(float(values.min()), 3),
    }


def _generated(url: str, leads: int, seed: int) -> int:
    with open_warehouse(url) as warehouse:
        upgrade(warehouse)
        brokerage = generate_brokerage(BrokerageSpec(leads=leads, seed=seed, end=BENCH_END))
        return load_brokerage(
            warehouse, brokerage, "bench-reports", cipher=throwaway_cipher()
        ).tenant_id


def bench_reports(
    leads: int,
    repeat: int,
    seed: int = 42,
    database_url: str | None = None,
    tenant: str | None = None,
) -> dict[str, Any]:
    """Seconds to render the monthly executive report as PDF (and XLSX, CSV) on `leads`
    generated leads, `repeat` times each after a cold first rendering; with the target.
    With `database_url` and `tenant`, an existing warehouse's tenant (generated with
    `dealscope generate --end 2026-06-30`) is read instead of generating one."""
    spec = resolve_spec(TEMPLATE)
    with tempfile.TemporaryDirectory(prefix="dealscope-bench-reports-") as tmp:
        url = database_url or f"duckdb:///{Path(tmp) / 'bench.duckdb'}"
        loading = time.perf_counter()
        if database_url is None:
            tenant_id = _generated(url, leads, seed)
        else:
            with open_warehouse(url, read_only=True) as warehouse:
                found = find_tenant(warehouse, tenant or "")
            if found is None:
                raise NotFound(f"no tenant {tenant!r} in {describe_url(url)}")
            tenant_id = found
        load_seconds = time.perf_counter() - loading
        with open_warehouse(url, read_only=True) as warehouse:
            scope = TenantScope(tenant_id)

            def once(fmt: ReportFormat) -> tuple[float, float, float, int]:
                started, cpu = time.perf_counter(), time.process_time()
                now = dt.datetime.now(dt.UTC)
                document = build_document(spec, warehouse, scope, BENCH_END, now)
                computed = time.perf_counter()
                rendered = render_document(document, fmt)
                finished = time.perf_counter()
                used = time.process_time() - cpu
                return computed - started, finished - computed, used, len(rendered.content)

            cold_figures, cold_file, cold_cpu, size = once(ReportFormat.PDF)
            runs: dict[str, dict[str, Any]] = {}
            for fmt in ReportFormat:
                totals, figures, files, cpus = [], [], [], []
                for _ in range(repeat):
                    compute, draw, used, size = once(fmt)
                    totals.append(compute + draw)
                    figures.append(compute)
                    files.append(draw)
                    cpus.append(used)
                runs[fmt.value] = {
                    "total_seconds": _seconds(totals),
                    "figures_seconds": _seconds(figures),
                    "file_seconds": _seconds(files),
                    "cpu_seconds": _seconds(cpus),
                    "bytes": size,
                }
    pdf_p50 = runs["pdf"]["total_seconds"]["p50"]
    cold_total = cold_figures + cold_file
    return {
        "leads": leads if database_url is None else None,
        "warehouse": "generated" if database_url is None else describe_url(url),
        "repeat": repeat,
        "seed": seed,
        "as_of": BENCH_END.isoformat(),
        "backend": "duckdb",
        "template": TEMPLATE,
        "sections": len(spec.sections),
        "load_seconds": round(load_seconds, 1),
        "cold_pdf": {
            "total_seconds": round(cold_total, 3),
            "figures_seconds": round(cold_figures, 3),
            "file_seconds": round(cold_file, 3),
            "cpu_seconds": round(cold_cpu, 3),
        },
        "load_average_1m": round(os.getloadavg()[0], 2),  # other work on the machine meanwhile
        "formats": runs,
        "target_seconds": TARGET_SECONDS,
        # The target is the running server's: warm, the warehouse open and WeasyPrint loaded.
        "pdf_target_met": pdf_p50 < TARGET_SECONDS,
        "cold_pdf_target_met": cold_total < TARGET_SECONDS,
    }
