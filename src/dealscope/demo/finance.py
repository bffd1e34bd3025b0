"""Money and plans around the deals: mortgage rates, marketing spend, costs and targets."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from dealscope.demo import arrays
from dealscope.demo.catalog import MORTGAGE_RATE_MEAN, SOURCES
from dealscope.demo.leads import Leads


def mortgage_rate_path(rng: np.random.Generator, horizon_days: int) -> np.ndarray:
    """A weekly 30-year rate (mean-reverting walk, %) held for each day of the period."""
    weeks = horizon_days // 7 + 2
    rate = np.empty(weeks)
    rate[0] = MORTGAGE_RATE_MEAN + rng.normal(0, 0.4)
    for w in range(1, weeks):
        rate[w] = rate[w - 1] + 0.04 * (MORTGAGE_RATE_MEAN - rate[w - 1]) + rng.normal(0, 0.08)
    weekly = np.round(np.clip(rate, 4.5, 8.5), 2)
    return np.repeat(weekly, 7)[:horizon_days]


def build_market_series(origin_day: int, daily_rate: np.ndarray) -> pa.Table:
    """MORTGAGE30US as FRED publishes it: one observation per week, on Thursdays."""
    day = np.arange(len(daily_rate))
    thursdays = day[(origin_day + day + 3) % 7 == 3]
    return pa.table(
        {
            "id": np.arange(len(thursdays)),
            "series_id": ["MORTGAGE30US"] * len(thursdays),
            "observed_on": arrays.dates(origin_day, thursdays.astype(float)),
            "value": daily_rate[thursdays],
            "source": ["fred"] * len(thursdays),
        }
    )


def _month_index(origin_day: int, days: np.ndarray) -> np.ndarray:
    epoch = (origin_day + np.floor(days)).astype("int64").astype("datetime64[D]")
    return epoch.astype("datetime64[M]").astype(int)


def _month_starts(months: np.ndarray) -> pa.Array:
    return pa.array(months.astype("datetime64[M]").astype("datetime64[D]"), type=pa.date32())


def build_marketing_spend(
    rng: np.random.Generator, leads: Leads, origin_day: int, horizon_days: int
) -> pa.Table:
    """Monthly spend per source: per-lead costs on the leads it bought, plus fixed programs."""
    months = np.unique(_month_index(origin_day, np.arange(horizon_days, dtype=float)))
    lead_month = _month_index(origin_day, leads.arrival) - months[0]
    first_gen = ~leads.is_repeat & (leads.referred_by < 0)
    counts = np.zeros((len(months), len(SOURCES)))
    np.add.at(counts, (lead_month[first_gen], leads.source[first_gen]), 1)
    rows = []
    for s, source in enumerate(SOURCES):
        amount = counts[:, s] * source.cost_per_lead * arrays.lognormal(rng, 1.0, 0.10, len(months))
        amount += source.fixed_monthly_cost * (1 + rng.normal(0, 0.03, len(months)))
        paid = source.medium in ("cpc", "paid_social")
        cpc = 2.4 if source.medium == "cpc" else 0.9
        clicks = np.round(amount / cpc).astype(np.int64)
        impressions = np.round(clicks / (0.035 if source.medium == "cpc" else 0.012))
        rows.append(
            pa.table(
                {
                    "spend_month": _month_starts(months),
                    "source": [source.key] * len(months),
                    "medium": [source.medium] * len(months),
                    "campaign": [f"{source.key}_always_on"] * len(months),
                    "amount": arrays.money(amount),
                    "impressions": arrays.masked(
                        impressions.astype(np.int64), np.full(len(months), paid), pa.int64()
                    ),
                    "clicks": arrays.masked(clicks, np.full(len(months), paid), pa.int64()),
                }
            )
        )
    table = pa.concat_tables(rows)
    table = table.filter(pa.compute.greater(table["amount"], 0))
    return table.append_column("id", pa.array(np.arange(table.num_rows)))


# Monthly running costs per office at the start of the period, dollars.
OFFICE_COSTS = {
    "rent": 11_500.0,
    "staff": 21_000.0,
    "technology": 3_200.0,
    "insurance": 1_450.0,
    "utilities": 900.0,
    "brand_marketing": 2_500.0,
}
COMPANY_COSTS = {
    "accounting": 2_800.0,
    "legal": 1_600.0,
    "mls_and_board_dues": 2_200.0,
    "crm_software": 1_900.0,
}


def build_operating_costs(
    rng: np.random.Generator, n_offices: int, origin_day: int, horizon_days: int
) -> pa.Table:
    months = np.unique(_month_index(origin_day, np.arange(horizon_days, dtype=float)))
    inflation = 1.03 ** ((months - months[0]) / 12)
    rows = []
    for office in [*range(n_offices), None]:
        costs = OFFICE_COSTS if office is not None else COMPANY_COSTS
        scale = 1.0 if office is None else rng.uniform(0.75, 1.3)
        for category, base in costs.items():
            amount = base * scale * inflation * (1 + rng.normal(0, 0.04, len(months)))
            rows.append(
                pa.table(
                    {
                        "office_id": pa.array([office] * len(months), type=pa.int64()),
                        "cost_month": _month_starts(months),
                        "category": [category] * len(months),
                        "amount": arrays.money(amount),
                        "description": [category.replace("_", " ").capitalize()] * len(months),
                    }
                )
            )
    table = pa.concat_tables(rows)
    return table.append_column("id", pa.array(np.arange(table.num_rows)))


def build_targets(
    leads: Leads,
    close_day: np.ndarray,
    gci: np.ndarray,
    agent: np.ndarray,
    team_of_agent: np.ndarray,
    origin_day: int,
    horizon_days: int,
    steady_from_day: int,
) -> pa.Table:
    """Plans as a brokerage sets them: last year's pace plus 10%, for every month from
    `steady_from_day` to the end of the current year, for the company, teams and agents."""
    months = np.unique(_month_index(origin_day, np.arange(horizon_days, dtype=float)))
    first = _month_index(origin_day, np.array([float(steady_from_day)]))[0] + 1
    m0 = first - first % 3  # plans run in whole quarters, through December
    history = m0 - months[0]  # months on record before the first plan
    months = np.arange(m0, (int(months[-1] // 12) + 1) * 12)
    n_months = len(months)
    # Month indices count from the first month on record; plans start `history` months in.
    n_all = history + n_months
    close_month = _month_index(origin_day, close_day) - (m0 - history)
    lead_month = _month_index(origin_day, leads.arrival) - (m0 - history)
    horizon_month = int(
        _month_index(origin_day, np.array([horizon_days - 1.0]))[0] - (m0 - history)
    )

    def plan(values_by_month: np.ndarray) -> np.ndarray:
        """Same month last year (3-month smoothed) +10% where a steady year is on record;
        before that, +5% on the month's own smoothed pace."""
        actual = values_by_month[: horizon_month + 1]
        smooth = np.convolve(np.pad(actual, 1, mode="edge"), np.ones(3) / 3, mode="valid")
        target = np.empty(n_months)
        for i in range(n_months):
            m = history + i
            if m - 12 >= history:
                target[i] = 1.10 * smooth[m - 12]
            else:
                target[i] = 1.05 * smooth[min(m, len(smooth) - 1)]
        return target

    rows: list[tuple[str, int | None, str, np.ndarray]] = []
    company_gci = np.bincount(close_month, weights=gci, minlength=n_all)
    company_deals = np.bincount(close_month, minlength=n_all).astype(float)
    company_leads = np.bincount(lead_month, minlength=n_all).astype(float)
    rows.append(("company", None, "gci", plan(company_gci)))
    rows.append(("company", None, "deals_won", np.round(plan(company_deals))))
    rows.append(("company", None, "new_leads", np.round(plan(company_leads))))
    n_agents = len(team_of_agent)
    agent_gci = np.zeros((n_agents, n_all))
    np.add.at(agent_gci, (agent, close_month), gci)
    agent_targets = np.array([plan(agent_gci[a]) for a in range(n_agents)])
    for a in range(n_agents):
        if agent_targets[a].sum() > 0:
            rows.append(("agent", a, "gci", agent_targets[a]))
    for t in np.unique(team_of_agent):
        rows.append(("team", int(t), "gci", agent_targets[team_of_agent == t].sum(axis=0)))

    scope, scope_id, metric, grain, start, value = [], [], [], [], [], []
    for who, who_id, name, monthly in rows:
        for period, size in (("month", 1), ("quarter", 3), ("year", 12)):
            skip = (12 - m0 % 12) % 12 if period == "year" else 0  # years start in January
            totals = monthly[skip:].reshape(-1, size).sum(axis=1)
            firsts = months[skip::size]
            for first, total in zip(firsts, totals, strict=True):
                scope.append(who)
                scope_id.append(who_id)
                metric.append(name)
                grain.append(period)
                start.append(first)
                value.append(total)
    table = pa.table(
        {
            "scope": scope,
            "scope_id": pa.array(scope_id, type=pa.int64()),
            "metric": metric,
            "grain": grain,
            "period_start": _month_starts(np.array(start)),
            "value": arrays.money(np.array(value)),
        }
    )
    return table.append_column("id", pa.array(np.arange(table.num_rows)))
