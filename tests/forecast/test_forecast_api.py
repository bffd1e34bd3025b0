"""The forecast endpoints on a small generated brokerage, on DuckDB and PostgreSQL: shapes,
invariants, scope, cache, ledger and accuracy, and bad input."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import sqlalchemy as sa
from accounts import Brokerage, add_brokerage, add_user, bearer_of
from cryptography.fernet import Fernet
from fastapi.testclient import TestClient

from dealscope.analytics.forecast_backtest import run_backtest
from dealscope.analytics.forecast_history import cutoff_utc
from dealscope.analytics.forecast_ledger import record_forecasts
from dealscope.analytics.sources import Sources
from dealscope.demo.catalog import TIMEZONE
from dealscope.demo.generator import BrokerageSpec, generate_brokerage
from dealscope.demo.loader import load_brokerage
from dealscope.kit.crypto import PiiCipher
from dealscope.kit.roles import Role
from dealscope.warehouse.engine import Warehouse
from dealscope.warehouse.schema import agents, forecasts, opportunities, transactions
from dealscope.warehouse.tenancy import TenantScope

END = dt.date(2025, 3, 31)
CIPHER = PiiCipher([Fernet.generate_key()], b"k")


def _load(warehouse: Warehouse) -> tuple[int, int]:
    spec = BrokerageSpec(leads=1500, seed=3, end=END, years=2, agents=6)
    tenant_id = load_brokerage(warehouse, generate_brokerage(spec), "demo", cipher=CIPHER).tenant_id
    with warehouse.engine.connect() as conn:
        agent_id, team_id = conn.execute(
            sa.select(agents.c.id, agents.c.team_id)
            .where(agents.c.tenant_id == tenant_id)
            .order_by(agents.c.id)
        ).first()  # type: ignore[misc]
    brokerage = Brokerage(tenant_id, "demo", int(team_id), int(agent_id))
    add_user(warehouse, brokerage, "admin@demo.example", Role.ADMIN)
    add_user(warehouse, brokerage, "agent@demo.example", Role.AGENT, agent_id=int(agent_id))
    return tenant_id, int(agent_id)


def _open_deals(warehouse: Warehouse, tenant_id: int, agent_id: int | None = None) -> int:
    """Deals open at the end of END (tenant's zone), counted by hand in SQL."""
    cut = cutoff_utc(END, TIMEZONE)
    o = opportunities.c
    where = (o.tenant_id == tenant_id) & (o.created_at < cut) & o.deleted_at.is_(None)
    where &= o.closed_at.is_(None) | (o.closed_at >= cut)
    if agent_id is not None:
        where &= o.assigned_agent_id == agent_id
    with warehouse.engine.connect() as conn:
        return int(conn.execute(sa.select(sa.func.count()).where(where)).scalar_one())


def _get(api: TestClient, path: str, headers: dict[str, str], **params: Any) -> Any:
    response = api.get(f"/api/v1/analytics/{path}", headers=headers, params=params)
    assert response.status_code == 200, response.text
    return response


def test_forecasts_scope_cache_and_ledger(api: TestClient, warehouse: Warehouse) -> None:
    tenant_id, agent_id = _load(warehouse)
    admin, agent = bearer_of(api, "admin@demo.example"), bearer_of(api, "agent@demo.example")
    params = {"as_of": END.isoformat(), "iterations": 2000, "horizon_days": 60, "grain": "month"}
    first = _get(api, "forecast", admin, target=100000, **params)
    got = first.json()
    assert first.headers["X-Cache"] == "miss"
    assert got["period_start"] == "2025-04-01" and got["period_end"] == "2025-05-30"
    assert [b["start"] for b in got["buckets"]] == ["2025-04-01", "2025-05-01"]
    total = got["total"]
    assert total["p10"] <= total["p50"] <= total["p90"] and total["mean"] > 0
    # The last bucket's cumulative figures are the total's (same simulated futures).
    assert got["buckets"][-1]["cumulative"]["p50"] == pytest.approx(total["p50"])
    assert got["pipeline_mean"] + got["new_business_mean"] == pytest.approx(total["mean"])
    assert [(m["days"], m["end"]) for m in got["milestones"]] == [
        (30, "2025-04-30"),
        (60, "2025-05-30"),
    ]
    assert got["milestones"][-1]["band"] == pytest.approx(total)  # the horizon's end: the total
    assert sum(got["density"]["counts"]) == 2000 and len(got["density"]["percentiles"]) == 99
    assert 0.0 <= got["probability_of_target"] <= 1.0
    cases = {s["scenario"]["name"]: s["total"]["p50"] for s in got["scenarios"]}
    assert cases["worst"] <= cases["expected"] <= cases["best"]
    assert got["drivers"]["open_deals"] == _open_deals(warehouse, tenant_id)
    again = _get(api, "forecast", admin, target=100000, **params)
    assert again.headers["X-Cache"] == "hit" and again.json() == got

    mine = _get(api, "forecast", agent, **params).json()
    assert mine["drivers"]["open_deals"] == _open_deals(warehouse, tenant_id, agent_id)
    assert mine["total"]["mean"] < total["mean"]

    body = {"as_of": END.isoformat(), "iterations": 3000, "seed": 5, "horizon_days": 30}
    run = api.post("/api/v1/analytics/monte-carlo", headers=admin, json=body)
    assert run.status_code == 200, run.text
    assert run.json()["iterations"] == 3000 and run.json()["scenarios"] == []
    other = api.post("/api/v1/analytics/monte-carlo", headers=admin, json={**body, "seed": 6})
    assert other.json()["total"] != run.json()["total"]
    nothing = api.post(
        "/api/v1/analytics/monte-carlo",
        headers=admin,
        json={**body, "conversion": 0.0, "lead_volume": 0.0},
    ).json()
    assert nothing["total"] == {"p10": 0.0, "p50": 0.0, "p90": 0.0, "mean": 0.0}
    assert nothing["scenario"]["name"] == "expected (custom)"

    with warehouse.engine.connect() as conn:
        rows = conn.execute(
            sa.select(forecasts.c.method, forecasts.c.params, forecasts.c.p50).where(
                forecasts.c.tenant_id == tenant_id
            )
        ).all()
    scopes = sorted(str(r.params["scope"]) for r in rows)
    assert scopes == ["agents:" + str(agent_id), "all", "all", "all", "all"]  # hits not stored

    series = _get(
        api, "forecast/timeseries", admin, metric="new_leads", periods=2, as_of=END.isoformat()
    ).json()
    assert [p["start"] for p in series["periods"]] == ["2025-04-01", "2025-05-01"]
    assert series["history"][-1]["start"] == "2025-03-01"
    metric = api.post(
        "/api/v1/metrics/query",
        headers=admin,
        json={
            "metrics": ["new_leads"],
            "range": "custom",
            "start": "2025-03-01",
            "end": "2025-03-31",
            "as_of": END.isoformat(),
        },
    ).json()
    assert series["history"][-1]["value"] == metric["metrics"][0]["rows"][0]["value"]


def test_backtest_accuracy_against_hand_sums(api: TestClient, warehouse: Warehouse) -> None:
    tenant_id, _ = _load(warehouse)
    admin = bearer_of(api, "admin@demo.example")
    scope = TenantScope(tenant_id)
    report = run_backtest(
        Sources(warehouse, scope),
        TIMEZONE,
        END,
        dates=2,
        horizons=(1,),
        iterations=500,
        methods=("monte_carlo", "ets"),
    )
    assert report.as_of_dates == [dt.date(2025, 1, 31), dt.date(2025, 2, 28)]
    record_forecasts(warehouse, scope, report.records(), dt.datetime(2025, 4, 1, tzinfo=dt.UTC))
    with warehouse.engine.connect() as conn:
        march = conn.execute(
            sa.select(sa.func.sum(transactions.c.gci)).where(
                (transactions.c.tenant_id == tenant_id)
                & (transactions.c.close_date >= dt.date(2025, 3, 1))
                & (transactions.c.close_date <= dt.date(2025, 3, 31))
            )
        ).scalar_one()
    got = _get(api, "forecast/accuracy", admin, kind="backtest", as_of=END.isoformat()).json()
    assert {(s["method"], s["forecasts"]) for s in got["scores"]} == {
        ("monte_carlo", 2),
        ("timeseries:ets", 2),
    }
    scored = [r for r in got["recent"] if r["as_of"] == "2025-02-28"]
    assert len(scored) == 2 and all(r["actual"] == pytest.approx(float(march)) for r in scored)
    for score in got["scores"]:
        rows = [r for r in got["recent"] if r["method"] == score["method"]]
        inside = [r["p10"] <= r["actual"] <= r["p90"] for r in rows]
        assert score["coverage"] == pytest.approx(sum(inside) / len(inside))
        errors = [abs(r["p50"] - r["actual"]) / r["actual"] for r in rows if r["actual"] > 0]
        if errors:  # MAPE is over windows where something closed
            assert score["mape"] == pytest.approx(sum(errors) / len(errors), rel=1e-6)
        else:
            assert score["mape"] is None
    # An issued forecast of this period is not matured yet on END.
    assert _get(api, "forecast/accuracy", admin, kind="issued").json()["scores"] == []


def test_bad_input_is_named(api: TestClient, warehouse: Warehouse) -> None:
    add_user(warehouse, add_brokerage(warehouse, "empty"), "admin@empty.example", Role.ADMIN)
    admin = bearer_of(api, "admin@empty.example")
    # A tenant without history gets a forecast of nothing, with the reason.
    empty = _get(api, "forecast", admin, iterations=500).json()
    assert empty["total"]["p90"] == 0.0 and empty["warnings"]
    bad = api.get("/api/v1/analytics/forecast", headers=admin, params={"horizon_days": 0})
    assert bad.status_code == 422
    wrong = api.get("/api/v1/analytics/forecast", headers=admin, params={"scenario": "rosy"})
    assert wrong.status_code == 400 and "rosy" in wrong.json()["detail"]
    series = api.get(
        "/api/v1/analytics/forecast/timeseries", headers=admin, params={"metric": "bogus"}
    )
    assert series.status_code == 400 and "bogus" in series.json()["detail"]
    too_many = api.post(
        "/api/v1/analytics/monte-carlo", headers=admin, json={"iterations": 2_000_000}
    )
    assert too_many.status_code == 422
