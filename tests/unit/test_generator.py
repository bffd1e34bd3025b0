"""The generated brokerage has the statistical shape it promises, not just rows.

Expected figures come from the catalog's parameters (source shares, stage medians, the
spring season), checked on one seeded brokerage with tolerances wide enough for its size.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from dealscope.demo.catalog import (
    MONTH_SEASONALITY,
    OUR_MARKET_SHARE,
    SOURCES,
    STAGE_MEDIAN_DAYS,
    WARM_UP_DAYS,
)
from dealscope.demo.conversations import INBOUND_NEGATIVE, INBOUND_POSITIVE
from dealscope.demo.generator import REFERENCES, Brokerage, BrokerageSpec, generate_brokerage

END = dt.date(2025, 6, 30)
SPEC = BrokerageSpec(leads=30_000, seed=11, end=END, years=3)


@pytest.fixture(scope="module")
def brokerage() -> Brokerage:
    return generate_brokerage(SPEC)


@pytest.fixture(scope="module")
def frames(brokerage: Brokerage) -> dict[str, pd.DataFrame]:
    return {name: table.to_pandas() for name, table in brokerage.tables.items()}


def _matured(opps: pd.DataFrame, days: int = 240) -> pd.DataFrame:
    """Leads old enough that nearly all have an outcome."""
    cutoff = pd.Timestamp(END, tz="UTC") - pd.Timedelta(days=days)
    return opps[opps.created_at < cutoff]


def test_same_seed_same_brokerage_and_another_seed_differs(brokerage: Brokerage) -> None:
    small = BrokerageSpec(leads=2_000, seed=3, end=END)
    first, again = generate_brokerage(small), generate_brokerage(small)
    other = generate_brokerage(BrokerageSpec(leads=2_000, seed=4, end=END))
    for name in first.tables:
        assert first.tables[name].equals(again.tables[name]), name
    assert not first.tables["opportunities"].equals(other.tables["opportunities"])


def test_every_reference_points_at_an_existing_row(frames: dict[str, pd.DataFrame]) -> None:
    for table, columns in REFERENCES.items():
        for column, target in columns.items():
            values = frames[table][column].dropna()
            assert values.isin(frames[target]["id"]).all(), f"{table}.{column} -> {target}"


def test_source_mix_follows_the_configured_shares(frames: dict[str, pd.DataFrame]) -> None:
    first_gen = frames["opportunities"][~frames["opportunities"].is_repeat]
    first_gen = first_gen[
        ~first_gen.contact_id.isin(
            frames["contacts"].loc[frames["contacts"].referred_by_contact_id.notna(), "id"]
        )
    ]
    share = first_gen.source.value_counts(normalize=True)
    for source in SOURCES:
        # The configured share drifts by share_growth over the period; the mean is halfway.
        expected = source.share * (1 + source.share_growth / 2)
        expected /= sum(s.share * (1 + s.share_growth / 2) for s in SOURCES)
        assert share[source.key] == pytest.approx(expected, rel=0.08), source.key


def test_conversion_differs_by_source_as_configured(frames: dict[str, pd.DataFrame]) -> None:
    opps = _matured(frames["opportunities"])
    opps = opps[~opps.is_repeat]
    win = opps.groupby("source").status.apply(lambda s: (s == "won").mean())
    configured = {s.key: s.close_rate for s in SOURCES}
    # Same ranking as configured, for sources whose rates differ clearly.
    assert win["sphere"] > win["zillow"] * 3
    assert win["referral"] > win["website"] * 3
    assert win["paid_social"] == win.min()
    assert win["zillow"] > win["paid_social"] * 2
    # And each rate near its configured level (agents, speed and rates move it somewhat).
    for key, rate in configured.items():
        assert 0.5 * rate < win[key] < 1.6 * rate, (key, win[key], rate)


def test_stage_durations_have_the_configured_medians(frames: dict[str, pd.DataFrame]) -> None:
    history = frames["stage_history"]
    moves = history[history.from_stage.notna() & (history.to_stage != "lost")]
    entered = history[["opportunity_id", "to_stage", "changed_at"]].rename(
        columns={"to_stage": "from_stage", "changed_at": "entered_at"}
    )
    moves = moves.merge(entered, on=["opportunity_id", "from_stage"])
    days = (moves.changed_at - moves.entered_at).dt.total_seconds() / 86400
    median = days.groupby(moves.from_stage).median()
    stages = ["contacted", "qualified", "appointment", "showing", "offer", "under_contract"]
    for stage, expected in zip(stages, STAGE_MEDIAN_DAYS, strict=True):
        # Stronger agents (who also close more) move faster: medians sit a little lower.
        assert 0.7 * expected < median[stage] < 1.1 * expected, (stage, median[stage])
    assert (days >= 0).all()


def test_stage_history_is_complete_and_ordered(frames: dict[str, pd.DataFrame]) -> None:
    history = frames["stage_history"].sort_values(["opportunity_id", "changed_at", "id"])
    first = history.groupby("opportunity_id").head(1)
    assert (first.to_stage == "new").all() and first.from_stage.isna().all()
    assert len(first) == len(frames["opportunities"])
    last = history.groupby("opportunity_id").tail(1).set_index("opportunity_id")
    opps = frames["opportunities"].set_index("id")
    won = opps.status == "won"
    assert (last.loc[won[won].index, "to_stage"] == "closed_won").all()
    lost = opps.status == "lost"
    assert (last.loc[lost[lost].index, "to_stage"] == "lost").all()
    # Each row's from_stage is the previous row's to_stage.
    prev = history.groupby("opportunity_id").to_stage.shift()
    chained = history.from_stage.notna()
    assert (history.from_stage[chained] == prev[chained]).all()


def test_spring_season_and_growth(frames: dict[str, pd.DataFrame]) -> None:
    created = frames["opportunities"].created_at.dt.tz_convert("America/Chicago")
    per_month = created.dt.month.value_counts().sort_index()
    days_in = np.array([31, 28.25, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31])
    daily = per_month.to_numpy() / days_in
    spring = daily[[3, 4]].mean()  # April, May
    winter = daily[[11, 0]].mean()  # December, January
    expected = MONTH_SEASONALITY[[3, 4]].mean() / MONTH_SEASONALITY[[11, 0]].mean()
    assert spring / winter == pytest.approx(expected, rel=0.15)
    by_year = created[created >= pd.Timestamp("2023-01-01", tz="America/Chicago")].dt.year
    counts = by_year.value_counts().sort_index()
    assert counts[2024] > counts[2023] * 1.08  # about 15% a year, rates move it


def test_slow_speed_to_lead_converts_worse(frames: dict[str, pd.DataFrame]) -> None:
    opps = _matured(frames["opportunities"])
    acts = frames["activities"]
    outbound = acts[acts.direction == "outbound"].groupby("opportunity_id").occurred_at.min()
    first = pd.Series(outbound.reindex(opps.id).to_numpy(), index=opps.index)
    opps = opps.assign(response=(first - opps.created_at).dt.total_seconds() / 60)
    won = opps.status == "won"
    fast = won[opps.response < 5].mean()
    medium = won[(opps.response >= 30) & (opps.response < 240)].mean()
    slow = won[opps.response >= 240].mean()
    assert fast > medium > slow
    assert fast > 1.8 * slow
    # And the spread comes from agents: their median response times differ widely.
    per_agent = opps.groupby("assigned_agent_id").response.median()
    assert per_agent.quantile(0.9) > 5 * per_agent.quantile(0.1)


def test_gci_splits_add_up_to_the_cent(frames: dict[str, pd.DataFrame]) -> None:
    tx = frames["transactions"]
    cents = {
        c: np.round(tx[c] * 100).astype(np.int64)
        for c in ("gci", "referral_fee", "agent_commission", "company_dollar")
    }
    assert (
        cents["gci"] - cents["referral_fee"] - cents["agent_commission"] == cents["company_dollar"]
    ).all()
    assert (np.round(tx.sale_price * tx.commission_rate * 100) == cents["gci"]).all()
    zillow = tx[tx.source == "zillow"]
    assert (zillow.referral_fee / zillow.gci).round(4).eq(0.35).mean() > 0.9  # portal fee
    assert (tx.company_dollar > 0).all()


def test_prices_follow_zip_and_property_type(frames: dict[str, pd.DataFrame]) -> None:
    tx = frames["transactions"]
    by_zip = tx[tx.property_type == "single_family"].groupby("postal_code").sale_price.median()
    assert by_zip["78746"] > 2.5 * by_zip["78640"]  # West Lake Hills vs Kyle
    by_type = tx.groupby("property_type").sale_price.median()
    assert by_type["condo"] < by_type["single_family"]


def test_past_clients_come_back_and_refer(frames: dict[str, pd.DataFrame]) -> None:
    opps, contacts = frames["opportunities"], frames["contacts"]
    repeats = opps[opps.is_repeat]
    assert len(repeats) > 20
    clients = set(opps.loc[opps.status == "won", "contact_id"])
    assert set(repeats.contact_id) <= clients
    referred = contacts[contacts.referred_by_contact_id.notna()]
    assert len(referred) > 20
    assert set(referred.referred_by_contact_id.astype(int)) <= clients
    # A returning client closes far more often than an internet lead.
    matured = _matured(opps)
    assert (matured[matured.is_repeat].status == "won").mean() > 0.2


def test_open_pipeline_at_every_stage(frames: dict[str, pd.DataFrame]) -> None:
    open_deals = frames["opportunities"][frames["opportunities"].status == "open"]
    stages = set(open_deals.stage_key)
    assert {"new", "contacted", "qualified", "appointment", "showing", "under_contract"} <= stages
    assert open_deals.expected_close_date.notna().all()


def test_conversations_carry_sentiment_that_matches_the_outcome(
    frames: dict[str, pd.DataFrame],
) -> None:
    messages, opps = frames["messages"], frames["opportunities"]
    inbound = messages[messages.direction == "inbound"]
    outcome = opps.groupby("contact_id").status.agg(
        lambda s: "won" if (s == "won").any() else ("lost" if (s == "lost").all() else "open")
    )
    inbound = inbound.assign(outcome=outcome.reindex(inbound.contact_id).to_numpy())
    positive = inbound.body.isin(INBOUND_POSITIVE)
    negative = inbound.body.isin(INBOUND_NEGATIVE)
    assert (
        positive[inbound.outcome == "won"].mean() > 2 * positive[inbound.outcome == "lost"].mean()
    )
    assert (
        negative[inbound.outcome == "lost"].mean() > 3 * negative[inbound.outcome == "won"].mean()
    )
    outbound = messages[messages.direction == "outbound"]
    assert outbound.body.str.match(r"^(Hi|Hello|Good morning|Hey) [A-Z][a-z]+, ").all()


def test_journeys_touch_before_the_inquiry(frames: dict[str, pd.DataFrame]) -> None:
    touches, opps = frames["touchpoints"], frames["opportunities"]
    conversions = touches[touches.is_conversion]
    assert len(conversions) == len(opps)
    prior = touches[~touches.is_conversion]
    first_lead = opps.groupby("contact_id").created_at.min()
    assert (prior.occurred_at.to_numpy() < first_lead.reindex(prior.contact_id).to_numpy()).all()
    paid = touches[touches.utm_medium == "cpc"]
    assert paid.click_id.str.startswith("Cj0KCQiA").all()
    # Paid social leads had more touches before they asked than sphere leads.
    contacts = frames["contacts"].set_index("id")
    per_contact = prior.groupby("contact_id").size().reindex(contacts.index, fill_value=0)
    by_source = per_contact.groupby(contacts.source).mean()
    assert by_source["paid_social"] > 2 * by_source["sphere"]


def test_market_share_and_listings(frames: dict[str, pd.DataFrame]) -> None:
    listings = frames["listings"]
    closed = listings[listings.standard_status == "Closed"]
    ours = "Summit Ridge Realty"
    sides = (closed.list_office_name == ours).sum() + (closed.buyer_office_name == ours).sum()
    assert sides / (2 * len(closed)) == pytest.approx(OUR_MARKET_SHARE, rel=0.15)
    assert {"Active", "Pending", "Expired", "Withdrawn", "Canceled"} <= set(
        listings.standard_status
    )
    assert (closed.close_price / closed.list_price).between(0.8, 1.1).all()
    assert listings.listing_key.is_unique
    # Our transactions are on the MLS under their listing key.
    assert frames["transactions"].listing_key.isin(listings.listing_key).all()


def test_money_and_plans(brokerage: Brokerage, frames: dict[str, pd.DataFrame]) -> None:
    rates = frames["market_series"]
    assert (pd.to_datetime(rates.observed_on).dt.day_of_week == 3).all()  # Thursdays, like FRED
    assert rates.value.between(4.5, 8.5).all()
    spend = frames["marketing_spend"]
    per_source = spend.groupby("source").amount.sum()
    leads = frames["opportunities"].groupby("source").size()
    # Paid search costs more per lead than paid social, as configured ($32 vs $16).
    cpl = per_source / leads
    assert cpl["paid_search"] > 1.5 * cpl["paid_social"]
    targets = frames["targets"]
    company = targets[(targets.scope == "company") & (targets.metric == "gci")]
    quarters = company[company.grain == "quarter"].set_index("period_start").value
    months = company[company.grain == "month"]
    months = months.assign(
        q=pd.to_datetime(months.period_start).dt.to_period("Q").dt.start_time.dt.date
    )
    assert np.allclose(months.groupby("q").value.sum().loc[quarters.index], quarters, atol=0.05)
    # Plans run to the end of the current year and start after the warm-up history.
    assert max(company.period_start) == dt.date(END.year, 12, 1)
    start = dt.date.fromordinal(END.toordinal() + 1 - round(3 * 365.25) - WARM_UP_DAYS)
    assert min(company.period_start) > start


def test_spec_rejects_nonsense() -> None:
    with pytest.raises(ValueError, match="leads must be at least 1"):
        BrokerageSpec(leads=0, end=END)
    with pytest.raises(ValueError, match="years"):
        BrokerageSpec(years=50, end=END)
