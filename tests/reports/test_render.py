"""Every built-in report rendered to PDF, XLSX and CSV on a generated brokerage, and what is
inside each file checked: the PDF's text (pypdf), the workbook's cells, formats, frozen
headers and native charts (openpyxl and the chart XML), the CSV rows. Headline figures are
checked against counts made by hand from the warehouse rows."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import zipfile
from collections.abc import Iterator
from zoneinfo import ZoneInfo

import openpyxl
import pandas as pd
import pytest
import sqlalchemy as sa
from pypdf import PdfReader
from report_world import END, HOSTILE, World, load_world, module_warehouse

from dealscope.analytics.service import AnalyticsService
from dealscope.analytics.sources import Sources
from dealscope.analytics.specs import MetricQuery
from dealscope.reports.document import ReportDocument, build_document
from dealscope.reports.service import (
    RenderedReport,
    agent_scope,
    render,
    render_document,
    resolve_spec,
)
from dealscope.reports.specs import ReportFormat, ReportSpec
from dealscope.reports.templates import TemplateName
from dealscope.warehouse.schema import contacts, tenants, transactions
from dealscope.warehouse.tenancy import TenantScope

GENERATED = dt.datetime(2025, 4, 1, 11, 30, tzinfo=dt.UTC)
_documents: dict[tuple[int, str], ReportDocument] = {}
_files: dict[tuple[int, str, str], RenderedReport] = {}


def _scope(world: World, template: str) -> TenantScope:
    if template == TemplateName.AGENT_SCORECARD:
        return agent_scope(world.tenant_id, world.agent_ids[0])
    return TenantScope(world.tenant_id)


def rendered(world: World, template: str, fmt: str) -> RenderedReport:
    """Each template built once and each format drawn once per module run."""
    key = (id(world), template)
    if key not in _documents:
        spec = resolve_spec(template)
        _documents[key] = build_document(
            spec, world.warehouse, _scope(world, template), END, GENERATED
        )
    file_key = (id(world), template, fmt)
    if file_key not in _files:
        _files[file_key] = render_document(_documents[key], ReportFormat(fmt))
    return _files[file_key]


def pdf_pages(report: RenderedReport) -> list[str]:
    return [page.extract_text() for page in PdfReader(io.BytesIO(report.content)).pages]


def workbook(report: RenderedReport) -> openpyxl.Workbook:
    return openpyxl.load_workbook(io.BytesIO(report.content))


def csv_files(report: RenderedReport) -> dict[str, list[list[str]]]:
    archive = zipfile.ZipFile(io.BytesIO(report.content))
    return {
        name: list(csv.reader(io.StringIO(archive.read(name).decode("utf-8-sig"))))
        for name in archive.namelist()
    }


@pytest.fixture(scope="module")
def world(request: pytest.FixtureRequest) -> Iterator[World]:
    """Rendering is the same on both backends (the figures are the API's, tested on both):
    these tests read a DuckDB warehouse."""
    with module_warehouse(request, "duckdb") as warehouse:
        yield load_world(warehouse)


def _zone(world: World) -> ZoneInfo:
    with world.warehouse.engine.connect() as conn:
        name = conn.execute(
            sa.select(tenants.c.timezone).where(tenants.c.id == world.tenant_id)
        ).scalar_one()
    return ZoneInfo(name)


def march_new_leads(world: World, agent_id: int | None = None) -> int:
    """By hand: contacts created in March 2025 (tenant's calendar), deleted ones left out."""
    zone = _zone(world)
    with world.warehouse.engine.connect() as conn:
        stmt = sa.select(contacts.c.created_at, contacts.c.assigned_agent_id).where(
            contacts.c.tenant_id == world.tenant_id, contacts.c.deleted_at.is_(None)
        )
        frame = pd.DataFrame(conn.execute(stmt).all(), columns=["created_at", "agent"])
    local = pd.to_datetime(frame["created_at"], utc=True).dt.tz_convert(zone)
    march = (local >= pd.Timestamp("2025-03-01", tz=zone)) & (
        local < pd.Timestamp("2025-04-01", tz=zone)
    )
    if agent_id is not None:
        march &= frame["agent"] == agent_id
    return int(march.sum())


def march_gci(world: World) -> float:
    """By hand: GCI of transactions closed in March 2025."""
    with world.warehouse.engine.connect() as conn:
        total = conn.execute(
            sa.select(sa.func.coalesce(sa.func.sum(transactions.c.gci), 0)).where(
                transactions.c.tenant_id == world.tenant_id,
                transactions.c.close_date >= dt.date(2025, 3, 1),
                transactions.c.close_date <= dt.date(2025, 3, 31),
            )
        ).scalar_one()
    return float(total)


def service_values(world: World, scope: TenantScope, **query: object) -> dict[str, float | None]:
    """What POST /metrics/query answers for the same question (totals, no dimensions)."""
    service = AnalyticsService(Sources(world.warehouse, scope), END, _zone(world).key)
    result = service.query(MetricQuery(as_of=END, **query))  # type: ignore[arg-type]
    return {s.slug: s.rows[0].value for s in result.metrics}


def local(world: World, moment: dt.datetime) -> str:
    return moment.astimezone(_zone(world)).strftime("%Y-%m-%d %H:%M %Z")


def money(value: float) -> str:
    return f"${value:,.0f}"


# --- every template, every format -------------------------------------------------------


@pytest.mark.parametrize("template", [t.value for t in TemplateName])
def test_every_template_renders_to_every_format(world: World, template: str) -> None:
    spec = resolve_spec(template)
    titles = [s.title for s in spec.sections]

    pdf = rendered(world, template, "pdf")
    assert pdf.content.startswith(b"%PDF") and pdf.content_type == "application/pdf"
    pages = pdf_pages(pdf)
    text = "\n".join(pages)
    assert spec.title in pages[0] and "ACME REALTY" in pages[0]  # the cover, in capitals
    for title in titles:
        assert title in text, title
    assert f"Page 2 of {len(pages)}" in pages[1]  # the cover has no footer
    assert "Generated 2025-04-01" in pages[1] and "data as of 2025-03-31" in pages[1]

    xlsx = rendered(world, template, "xlsx")
    book = workbook(xlsx)
    assert book.sheetnames[0] == "Summary" and len(book.sheetnames) == len(titles) + 1
    for name, title in zip(book.sheetnames[1:], titles, strict=True):
        assert book[name]["A1"].value == title
        assert book[name].freeze_panes is not None and book[name].freeze_panes.endswith("5")

    files = csv_files(rendered(world, template, "csv"))
    assert len(files) == len(titles)
    assert all(re.fullmatch(r"\d\d-[a-z0-9-]+\.csv", name) for name in files)
    assert pdf.filename.endswith(f"-{END.isoformat()}.pdf")


# --- the monthly executive report, in detail -----------------------------------------------


def test_monthly_pdf_shows_hand_counted_headlines_and_vector_charts(world: World) -> None:
    report = rendered(world, "monthly_executive", "pdf")
    pages = pdf_pages(report)
    cover = pages[0]
    assert "1 March 2025 to 31 March 2025" in cover
    assert "Acme Realty: all agents" in cover
    assert local(world, GENERATED) in cover  # generated-at, in the tenant's time zone
    headline = pages[1]
    leads, gci = march_new_leads(world), march_gci(world)
    assert leads > 50 and gci > 0
    assert re.search(rf"NEW LEADS\s*{leads:,}\s", headline), headline
    assert re.search(rf"GCI\s*{re.escape(money(gci))}\s", headline), headline
    text = "\n".join(pages)
    assert "of the stage before" in text  # the funnel chart's own labels
    assert "GCI (target)" in text  # the plan line's legend
    for page in PdfReader(io.BytesIO(report.content)).pages:
        assert list(page.images) == []  # charts are vector drawings, not pictures
    top_agents = [n for n in world.agent_names.values() if n.split()[0] in text]
    assert len(top_agents) >= 3


def _chart_parts(content: bytes) -> dict[str, str]:
    archive = zipfile.ZipFile(io.BytesIO(content))
    return {
        n: archive.read(n).decode() for n in archive.namelist() if n.startswith("xl/charts/chart")
    }


def _cells(book: openpyxl.Workbook, reference: str) -> list[object]:
    sheet, cells = reference.rsplit("!", 1)
    ws = book[sheet.strip("'")]
    found = ws[cells.replace("$", "")]
    flat = [c for row in found for c in row] if isinstance(found, tuple) else [found]
    return [c.value for c in flat]


def test_monthly_workbook_numbers_formats_and_native_charts(world: World) -> None:
    report = rendered(world, "monthly_executive", "xlsx")
    book = workbook(report)
    summary = book["Summary"]
    assert summary["A1"].value == "Acme Realty: Monthly executive report"
    assert summary["B5"].value == local(world, GENERATED)

    cards = book["Headline figures"]
    header = [c.value for c in cards[4]]
    assert header[:3] == ["GCI", "GCI (previous period)", "GCI change"]
    values = dict(zip(header, [c.value for c in cards[5]], strict=True))
    assert values["New leads"] == march_new_leads(world)
    assert values["GCI"] == pytest.approx(march_gci(world))
    expected = service_values(
        world, TenantScope(world.tenant_id), metrics=["win_rate", "gci"], range="mtd",
        compare="previous_period",
    )  # fmt: skip
    assert values["Win rate"] == pytest.approx(expected["win_rate"])
    assert cards["A5"].number_format == '"$"#,##0'
    assert cards["C5"].number_format == "+0.0%;-0.0%;0.0%"
    assert cards.freeze_panes == "A5"

    agents = book["Top agents"]
    assert agents["A4"].value == "Agent" and agents.freeze_panes == "B5"
    names = [agents.cell(row=r, column=1).value for r in range(5, 5 + 10)]
    assert {n for n in names if n} <= set(world.agent_names.values())
    rows = [r for r in range(5, agents.max_row + 1) if agents.cell(row=r, column=1).value]
    gcis = [agents.cell(row=r, column=2).value for r in rows]
    assert len(gcis) >= 3 and all(isinstance(g, float | int) for g in gcis)
    assert gcis == sorted(gcis, reverse=True)  # largest GCI first

    charts = _chart_parts(report.content)
    plan = next(x for x in charts.values() if "GCI against plan" in x)
    gci_ref = re.findall(r"<c:val><c:numRef><c:f>([^<]+)</c:f>", plan)[0]  # actual, then plan
    month_ref = re.findall(r"<c:cat><c:(?:str|num)Ref><c:f>([^<]+)</c:f>", plan)[0]
    assert _cells(book, month_ref) == ["Jan 2025", "Feb 2025", "Mar 2025"]
    assert _cells(book, gci_ref)[-1] == pytest.approx(march_gci(world))
    kinds = sorted(re.findall(r"<c:(lineChart|barChart|doughnutChart)>", "".join(charts.values())))
    assert kinds == ["barChart", "barChart", "doughnutChart", "lineChart"]
    for xml in charts.values():
        for values_ref, categories_ref in zip(
            re.findall(r"<c:val><c:numRef><c:f>([^<]+)</c:f>", xml),
            re.findall(r"<c:cat><c:(?:str|num)Ref><c:f>([^<]+)</c:f>", xml),
            strict=True,
        ):
            data, labels = _cells(book, values_ref), _cells(book, categories_ref)
            assert len(data) == len(labels) and all(label for label in labels)
            if "Lead funnel" in values_ref:  # the funnel's first stage: the month's new leads
                assert labels[0] == "New leads" and data[0] == march_new_leads(world)


def test_monthly_csv_files_hold_raw_numbers(world: World) -> None:
    report = rendered(world, "monthly_executive", "csv")
    assert report.content_type == "application/zip" and report.filename.endswith(".zip")
    files = csv_files(report)
    assert next(iter(files)) == "01-headline-figures.csv"
    header, row = files["01-headline-figures.csv"]
    values = dict(zip(header, row, strict=True))
    assert float(values["New leads"]) == march_new_leads(world)
    assert float(values["GCI"]) == pytest.approx(march_gci(world))
    sources = files["05-gci-by-source.csv"]
    assert sources[0] == ["Source", "GCI"]
    assert sum(float(r[1]) for r in sources[1:]) == pytest.approx(march_gci(world))


# --- scope -------------------------------------------------------------------------------


def test_agent_scorecard_shows_only_that_agents_figures(world: World) -> None:
    agent = world.agent_ids[0]
    name = world.agent_names[agent]
    report = rendered(world, "agent_scorecard", "pdf")
    text = "\n".join(pdf_pages(report))
    assert name in text
    for other, other_name in world.agent_names.items():
        if other != agent:
            assert other_name not in text
    assert report.filename.startswith("agent-scorecard-" + name.lower().replace(" ", "-"))

    files = csv_files(rendered(world, "agent_scorecard", "csv"))
    header, row = files["01-your-month.csv"]
    mine = dict(zip(header, row, strict=True))
    leads = march_new_leads(world, agent)
    assert float(mine["New leads"]) == leads < march_new_leads(world)
    expected = service_values(
        world, agent_scope(world.tenant_id, agent), metrics=["gci", "closings"], range="mtd"
    )
    assert float(mine["GCI"]) == pytest.approx(expected["gci"])
    assert float(mine["Closings"]) == expected["closings"]


# --- formula injection -------------------------------------------------------------------------


def test_cells_that_would_run_as_formulas_are_neutralized(world: World) -> None:
    spec = ReportSpec.model_validate(
        {
            "title": "Campaigns",
            "sections": [
                {"title": "By campaign", "visual": "table", "metrics": ["new_leads"],
                 "dimensions": ["campaign"], "range": "mtd"},
                {"title": "Total", "visual": "kpi_cards", "metrics": ["new_leads"], "range": "mtd"},
            ],
        }
    )  # fmt: skip
    scope = TenantScope(world.tenant_id)
    files = csv_files(render(spec, "csv", world.warehouse, scope, as_of=END))
    cells = [row[0] for row in files["01-by-campaign.csv"][1:]]
    for name in HOSTILE:
        assert "'" + name in cells, name
        assert name not in cells
    book = workbook(render(spec, "xlsx", world.warehouse, scope, as_of=END))
    sheet = book["By campaign"]
    texts = [sheet.cell(row=r, column=1) for r in range(5, sheet.max_row + 1)]
    for name in HOSTILE:
        cell = next(c for c in texts if c.value == "'" + name)
        assert cell.data_type == "s"
    for ws in book.worksheets:
        assert all(c.data_type != "f" for row in ws.iter_rows() for c in row)
