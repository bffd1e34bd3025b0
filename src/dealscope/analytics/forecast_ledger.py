"""The accuracy ledger: every forecast issued (and every backtest forecast) is kept in the
`forecasts` table, with the model version that made it, so its error can be scored once its
period has passed.

A row is one forecast of one metric over one period (`period_start`..`period_end`, the days
after `as_of`): P10/P50/P90 and the mean. `params` says who it was for (`scope`: `all` or
`agents:<ids>`, the same label the response cache uses), how far ahead (`horizon_days`),
whether it was `issued` or made by a `backtest`, the scenario and the settings. Callers only
ever read the rows of their own scope.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from typing import Any

import pandas as pd
import sqlalchemy as sa

import dealscope
from dealscope.warehouse.engine import Warehouse
from dealscope.warehouse.schema import forecasts, model_versions
from dealscope.warehouse.tenancy import TenantScope, scope_select
from dealscope.warehouse.unit_of_work import UnitOfWork, unit_of_work

ISSUED = "issued"
BACKTEST = "backtest"


def scope_key(scope: TenantScope) -> str:
    """`all` for a tenant-wide scope, else `agents:<sorted ids>`."""
    if scope.agent_ids is None:
        return "all"
    return "agents:" + ",".join(str(a) for a in sorted(scope.agent_ids))


@dataclass(frozen=True)
class ForecastRecord:
    method: str  # monte_carlo | timeseries:<ets|prophet>
    metric: str
    as_of: dt.date
    period_start: dt.date
    period_end: dt.date
    p10: float
    p50: float
    p90: float
    mean: float
    kind: str = ISSUED
    scenario: str = "expected"
    target: float | None = None
    probability_of_target: float | None = None
    settings: dict[str, Any] | None = None

    @property
    def horizon_days(self) -> int:
        return (self.period_end - self.as_of).days


def _model_version(
    uow: UnitOfWork, tenant_id: int, method: str, settings: dict[str, Any], now: dt.datetime
) -> int:
    """The id of the model version (code version + settings) of `method`, made once."""
    canonical = json.dumps(settings, sort_keys=True, default=str)
    version = f"{dealscope.__version__}+{hashlib.sha256(canonical.encode()).hexdigest()[:12]}"
    where = (
        (model_versions.c.tenant_id == tenant_id)
        & (model_versions.c.model_name == method)
        & (model_versions.c.version == version)
    )
    found = uow.connection.execute(sa.select(model_versions.c.id).where(where)).scalar()
    if found is not None:
        return int(found)
    new_id = uow.next_id(model_versions)
    uow.connection.execute(
        model_versions.insert().values(
            id=new_id,
            tenant_id=tenant_id,
            model_name=method,
            version=version,
            trained_at=now,
            params=settings,
            is_active=True,
        )
    )
    return new_id


def record_forecasts(
    warehouse: Warehouse, scope: TenantScope, records: list[ForecastRecord], now: dt.datetime
) -> list[int]:
    """Store `records` for `scope` in one transaction; their ids. Storing a forecast does
    not change the tenant's data (its data version stays)."""
    ids: list[int] = []
    if not records:
        return ids
    with unit_of_work(warehouse) as uow:
        versions: dict[str, int] = {}
        for record in records:
            settings = record.settings or {}
            key = record.method + json.dumps(settings, sort_keys=True, default=str)
            if key not in versions:
                versions[key] = _model_version(uow, scope.tenant_id, record.method, settings, now)
            new_id = uow.next_id(forecasts)
            uow.connection.execute(
                forecasts.insert().values(
                    id=new_id,
                    tenant_id=scope.tenant_id,
                    method=record.method,
                    metric=record.metric,
                    issued_at=now,
                    as_of=record.as_of,
                    period_start=record.period_start,
                    period_end=record.period_end,
                    p10=round(record.p10, 2),
                    p50=round(record.p50, 2),
                    p90=round(record.p90, 2),
                    mean=round(record.mean, 2),
                    target=None if record.target is None else round(record.target, 2),
                    prob_hit_target=record.probability_of_target,
                    params={
                        "scope": scope_key(scope),
                        "kind": record.kind,
                        "scenario": record.scenario,
                        "horizon_days": record.horizon_days,
                        "settings": settings,
                    },
                    model_version_id=versions[key],
                )
            )
            ids.append(new_id)
    return ids


def list_forecasts(
    warehouse: Warehouse,
    scope: TenantScope,
    metric: str | None = None,
    matured_by: dt.date | None = None,
) -> pd.DataFrame:
    """The scope's stored forecasts (newest first), optionally of one metric and only those
    whose period ended on or before `matured_by`. Columns: id, method, metric, issued_at,
    as_of, period_start, period_end, p10, p50, p90, mean, kind, scenario, horizon_days."""
    stmt = sa.select(forecasts)
    stmt = scope_select(stmt, forecasts, TenantScope(scope.tenant_id))
    if metric is not None:
        stmt = stmt.where(forecasts.c.metric == metric)
    if matured_by is not None:
        stmt = stmt.where(forecasts.c.period_end <= matured_by)
    stmt = stmt.order_by(forecasts.c.issued_at.desc(), forecasts.c.id.desc())
    with warehouse.engine.connect() as connection:
        rows = connection.execute(stmt).mappings().all()
    mine = scope_key(scope)
    records = []
    for row in rows:
        params = row["params"] or {}
        if isinstance(params, str):
            params = json.loads(params)
        if params.get("scope") != mine:
            continue
        records.append(
            {
                "id": int(row["id"]),
                "method": row["method"],
                "metric": row["metric"],
                "issued_at": row["issued_at"],
                "as_of": row["as_of"],
                "period_start": row["period_start"],
                "period_end": row["period_end"],
                **{k: None if row[k] is None else float(row[k]) for k in ("p10", "p50", "p90")},
                "mean": None if row["mean"] is None else float(row["mean"]),
                "kind": params.get("kind", ISSUED),
                "scenario": params.get("scenario", "expected"),
                "horizon_days": int(params.get("horizon_days", 0)),
            }
        )
    columns = [
        "id", "method", "metric", "issued_at", "as_of", "period_start", "period_end",
        "p10", "p50", "p90", "mean", "kind", "scenario", "horizon_days",
    ]  # fmt: skip
    return pd.DataFrame.from_records(records, columns=columns)
