"""How fast the synthetic brokerage is generated and written to the warehouse."""

from __future__ import annotations

import datetime as dt
import resource
import secrets
import tempfile
import time
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet

from dealscope.demo.generator import BrokerageSpec, generate_brokerage
from dealscope.demo.loader import load_brokerage
from dealscope.kit.crypto import PiiCipher
from dealscope.warehouse.engine import open_warehouse
from dealscope.warehouse.migrate import upgrade


def throwaway_cipher() -> PiiCipher:
    """A fresh key per run: the benchmark measures encryption, it need not read data back."""
    return PiiCipher([Fernet.generate_key()], secrets.token_bytes(32))


# Fixed so that runs on different days generate the same data and compare fairly.
BENCH_END = dt.date(2026, 6, 30)


def bench_generate(
    sizes: list[int], seed: int = 42, database_url: str | None = None
) -> dict[str, Any]:
    """For each size: seconds to simulate, seconds to write, rows written, peak memory.
    Writes to a fresh DuckDB file in a temporary folder unless `database_url` is given
    (then into a tenant named bench-<size>, replaced on each run)."""
    runs = []
    for size in sizes:
        with tempfile.TemporaryDirectory(prefix="dealscope-bench-") as tmp:
            url = database_url or f"duckdb:///{Path(tmp) / 'bench.duckdb'}"
            with open_warehouse(url) as warehouse:
                upgrade(warehouse)
                started = time.perf_counter()
                brokerage = generate_brokerage(BrokerageSpec(leads=size, seed=seed, end=BENCH_END))
                simulated = time.perf_counter()
                result = load_brokerage(
                    warehouse, brokerage, f"bench-{size}", cipher=throwaway_cipher(), replace=True
                )
                finished = time.perf_counter()
        rows = sum(result.rows.values())
        runs.append(
            {
                "leads": size,
                "backend": url.split(":", 1)[0],
                "generate_seconds": round(simulated - started, 3),
                "write_seconds": round(finished - simulated, 3),
                "total_seconds": round(finished - started, 3),
                "rows_written": rows,
                "rows_per_second": round(rows / (finished - started)),
                "rows_by_table": result.rows,
            }
        )
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {
        "runs": runs,
        "peak_rss_mib": round(peak_mib, 1),
        "seed": seed,
        "target": "1,000,000 leads in under 120 s on 2 cores",
    }
