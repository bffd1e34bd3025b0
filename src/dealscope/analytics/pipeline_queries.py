"""The pipeline dashboard's one query: every figure counted in the database, in one statement.

Stage history is read once, for the deals any figure follows (the cohort, the deals open at
the cut-off, and those that changed stage in the period), and walked with one window over
each deal's rows (the row before: flows and velocity; the last one: where an open deal
stands). The counts come back stacked, one `kind` per figure, in the shared columns of
`COLUMNS` (keys a kind does not use are NULL): a few hundred rows, whatever the number of
deals.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import ibis

from dealscope.analytics.dimensions import epoch_us
from dealscope.analytics.observation import Observation, local_midnight_utc
from dealscope.analytics.pipeline_health import AGING_BUCKETS, HOT_DAYS, WARM_DAYS
from dealscope.analytics.sources import Sources
from dealscope.analytics.stages import LOST, PIPELINE_STAGES, STAGE_INDEX, WON

if TYPE_CHECKING:
    import ibis.expr.types as ir

# The kinds of rows, and what their columns hold.
BY_SOURCE_DAY = 0  # cohort deals (n, won) by source (s1) and local day of creation (a)
BY_AGENT = 1  # cohort deals (n, won) by assigned agent (a; NULL: none)
BY_CLOCK = 2  # cohort deals (n) by local weekday (a, Monday 0) and hour (b) of creation
BY_PROGRESS = 3  # cohort deals (n) by furthest stage index (a) and lost flag (b)
FLOWS = 4  # cohort deals' moves (n) from stage s1 to stage s2 before the cut-off
VELOCITY = 5  # exits (n) from stage s1 in the period; median (x1), p90 (x2) days in it
OPEN = 6  # deals open at the cut-off (n) by aging bucket (a), stage index (b), touch (c)
OUTBOUND = 7  # outbound activities of the period (n) by local weekday (a) and hour (b)

COLUMNS: dict[str, str] = {
    "kind": "int64",
    "s1": "string",
    "s2": "string",
    "a": "int64",
    "b": "int64",
    "c": "int64",
    "n": "int64",
    "won": "int64",
    "x1": "float64",
    "x2": "float64",
}


@dataclass(frozen=True)
class PipelineCounts:
    """The rows of `build_pipeline_counts`, by kind (tuples in the order given)."""

    by_source_day: list[tuple[str, dt.date, int, int]] = field(default_factory=list)  # n, won
    by_agent: list[tuple[int | None, int, int]] = field(default_factory=list)  # n, won
    by_clock: list[tuple[int, int, int]] = field(default_factory=list)  # weekday, hour, n
    by_progress: list[tuple[int, bool, int]] = field(default_factory=list)  # furthest, lost, n
    flows: list[tuple[str, str, int]] = field(default_factory=list)
    velocity: list[tuple[str, int, float | None, float | None]] = field(default_factory=list)
    open: list[tuple[int, int, int, int]] = field(default_factory=list)  # bucket, stage, touch
    outbound: list[tuple[int, int, int]] = field(default_factory=list)  # weekday, hour, n

    @property
    def cohort_leads(self) -> int:
        return sum(n for _, _, n, _ in self.by_source_day)


def _stacked(table: ir.Table, kind: int, **values: ir.Value) -> ir.Table:
    """`table` as rows of `kind` in the shared columns (`values` fill some of them)."""
    columns = {
        name: values[name].cast(kind_type) if name in values else ibis.null(kind_type)
        for name, kind_type in COLUMNS.items()
        if name != "kind"
    }
    return table.select(kind=ibis.literal(kind, "int64"), **columns)


EPOCH = dt.date(1970, 1, 1)  # a Thursday: weekday 3, Monday being 0
MICROS_PER_DAY, MICROS_PER_HOUR = 86_400_000_000, 3_600_000_000


def _micros(sources: Sources, instants: ir.TimestampValue) -> ir.IntegerValue:
    """Microseconds since 1970 of `instants`. DuckDB reads them off the instant; any
    calendar arithmetic there (casts, differences, extracting an hour) goes through its
    calendar library, several times dearer per row."""
    if sources.warehouse.ibis().name == "duckdb":
        micros: ir.IntegerValue = epoch_us(instants)
        return micros
    return instants.epoch_seconds() * 1_000_000  # exact: PostgreSQL's epoch is numeric


@dataclass(frozen=True)
class _Clock:
    """Local calendar day (days since 1970), weekday (Monday 0) and hour of instants."""

    day: ir.IntegerValue
    weekday: ir.IntegerValue
    hour: ir.IntegerValue


def _local_clock(sources: Sources, observation: Observation, instants: ir.TimestampValue) -> _Clock:
    """The tenant's wall clock at `instants` (of the observation's period)."""
    offset = observation.offset_micros(instants, observation.start_utc, observation.end_utc)
    local = _micros(sources, instants) + offset
    day = local // MICROS_PER_DAY
    return _Clock(day=day, weekday=(day + 3) % 7, hour=(local % MICROS_PER_DAY) // MICROS_PER_HOUR)


def _elapsed_days(
    sources: Sources, later: ir.TimestampValue, earlier: ir.TimestampValue
) -> ir.FloatingValue:
    """Days from `earlier` to `later`: their difference in whole microseconds / 86.4e9."""
    if sources.warehouse.ibis().name == "duckdb":
        micros = _micros(sources, later) - _micros(sources, earlier)
    else:
        micros = later.delta(earlier, unit="microsecond")
    return micros / float(MICROS_PER_DAY)


def _midnight_before(observation: Observation, days: int) -> dt.datetime:
    """The first instant (UTC) of the day `days` days before `as_of` (tenant's calendar):
    an instant before the cut-off is at most `days` whole days before `as_of` when it is
    not earlier."""
    return local_midnight_utc(observation.as_of - dt.timedelta(days=days), observation.zone)


def _followed(sources: Sources, observation: Observation) -> ir.Table:
    """The deals any figure follows, not deleted and created before the cut-off: the
    cohort (created in the period), the candidates for the open pipeline (open, or closed
    only after the cut-off), and the deals with a stage change in the period."""
    start, end, cutoff = observation.start_utc, observation.end_utc, observation.cutoff_utc
    opp = sources.table("opportunities")
    live = opp.filter(opp.deleted_at.isnull(), opp.created_at < cutoff)
    history = sources.table("stage_history")
    moved = history.filter(history.changed_at >= start, history.changed_at < end)
    deals = live.select(
        opportunity_id=live.id,
        created_at=live.created_at,
        source=live.source,
        agent_id=live.assigned_agent_id,
        cohort=(live.created_at >= start) & (live.created_at < end),
        candidate=(live.status == "open") | live.closed_at.isnull() | (live.closed_at >= cutoff),
    )
    return deals.filter(
        deals.cohort | deals.candidate | deals.opportunity_id.isin(moved.opportunity_id)
    )


def _walked(sources: Sources, deals: ir.Table, cutoff: dt.datetime) -> ir.Table:
    """The stage changes of `deals` before `cutoff`, each with the deal's change before it
    (`from_stage`, `entered_at`; NULL for its first) and whether one follows it (`last`),
    in the order (changed_at, id); with the deal's cohort and candidate flags."""
    table = sources.table("stage_history")
    history = table.filter(table.changed_at < cutoff)
    rows = history.inner_join(
        deals.select("opportunity_id", "cohort", "candidate"), "opportunity_id"
    )
    deal = ibis.window(group_by=rows.opportunity_id, order_by=[rows.changed_at, rows.id])
    return rows.select(
        "opportunity_id",
        "to_stage",
        "changed_at",
        "cohort",
        "candidate",
        from_stage=rows.to_stage.lag().over(deal),
        entered_at=rows.changed_at.lag().over(deal),
        last=rows.id.lead().over(deal).isnull(),
    )


def _cohort_parts(
    sources: Sources, deals: ir.Table, walked: ir.Table, observation: Observation
) -> list[ir.Table]:
    """The cohort counted by source and day, agent, local clock and progress; its flows."""
    moves = walked.filter(walked.cohort)
    index = moves.to_stage.cases(*STAGE_INDEX.items(), else_=ibis.null("int64"))
    progress = moves.group_by("opportunity_id").agg(
        furthest=index.max(), lost=ibis.ifelse(moves.to_stage == LOST, 1, 0).max()
    )
    cohort = deals.filter(deals.cohort)
    joined = cohort.left_join(progress, "opportunity_id")
    clock = _local_clock(sources, observation, joined.created_at)
    furthest = joined.furthest.fill_null(0)
    base = joined.select(
        source=joined.source.fill_null("unknown"),
        agent_id=joined.agent_id,
        day=clock.day,
        weekday=clock.weekday,
        hour=clock.hour,
        furthest=furthest,
        lost=joined.lost.fill_null(0),
        won=ibis.ifelse(furthest == STAGE_INDEX[WON], 1, 0),
    )
    counted = {"n": ibis._.count(), "won": base.won.sum()}
    pairs = moves.filter(moves.from_stage.notnull())
    flows = pairs.group_by("from_stage", "to_stage").agg(n=ibis._.count())
    return (
        [
            _stacked(t, BY_SOURCE_DAY, s1=t.source, a=t.day, n=t.n, won=t.won)
            for t in [base.group_by("source", "day").agg(**counted)]
        ]
        + [
            _stacked(t, BY_AGENT, a=t.agent_id, n=t.n, won=t.won)
            for t in [base.group_by("agent_id").agg(**counted)]
        ]
        + [
            _stacked(t, BY_CLOCK, a=t.weekday, b=t.hour, n=t.n)
            for t in [base.group_by("weekday", "hour").agg(n=ibis._.count())]
        ]
        + [
            _stacked(t, BY_PROGRESS, a=t.furthest, b=t.lost, n=t.n)
            for t in [base.group_by("furthest", "lost").agg(n=ibis._.count())]
        ]
        + [_stacked(flows, FLOWS, s1=flows.from_stage, s2=flows.to_stage, n=flows.n)]
    )


def _velocity_part(sources: Sources, walked: ir.Table, observation: Observation) -> ir.Table:
    """Exits made in the period per stage left, with the median and 90th percentile
    (linear interpolation) of the days spent in the stage before them."""
    pairs = walked.filter(
        walked.from_stage.notnull(),
        walked.changed_at >= observation.start_utc,
        walked.changed_at < observation.end_utc,
    )
    days = _elapsed_days(sources, pairs.changed_at, pairs.entered_at)
    spent = pairs.group_by("from_stage").agg(
        n=ibis._.count(), x1=days.quantile(0.5), x2=days.quantile(0.9)
    )
    return _stacked(spent, VELOCITY, s1=spent.from_stage, n=spent.n, x1=spent.x1, x2=spent.x2)


def _open_part(
    sources: Sources, deals: ir.Table, walked: ir.Table, observation: Observation
) -> ir.Table:
    """Deals open at the cut-off by aging bucket, stage index and last touch. A deal stands
    where its last stage change before the cut-off put it (in "new" at its creation when it
    has none); it is open unless that is won or lost."""
    cutoff = observation.cutoff_utc
    last = walked.filter(walked.candidate, walked.last).select(
        "opportunity_id", "to_stage", "changed_at"
    )
    activities = sources.table("activities")
    recent = activities.filter(
        activities.occurred_at >= _midnight_before(observation, WARM_DAYS - 1),
        activities.occurred_at < cutoff,
        activities.opportunity_id.notnull(),
    )
    touched = recent.group_by("opportunity_id").agg(last_touch=recent.occurred_at.max())
    candidates = deals.filter(deals.candidate)
    joined = candidates.left_join(last, "opportunity_id")
    standing = joined.select(
        opportunity_id=joined.opportunity_id,
        stage=joined.to_stage.fill_null(PIPELINE_STAGES[0]),
        changed_at=joined.changed_at.fill_null(joined.created_at),
    )
    standing = standing.filter(~standing.stage.isin([WON, LOST]))
    joined = standing.left_join(touched, "opportunity_id")
    bucket: ir.IntegerValue = ibis.literal(len(AGING_BUCKETS) - 1, "int64")
    for i in reversed(range(len(AGING_BUCKETS) - 1)):
        high = AGING_BUCKETS[i][2]
        assert high is not None and AGING_BUCKETS[i + 1][1] == high + 1
        bucket = ibis.ifelse(joined.changed_at >= _midnight_before(observation, high), i, bucket)
    touch = ibis.cases(
        (joined.last_touch.isnull(), 0),
        (joined.last_touch >= _midnight_before(observation, HOT_DAYS - 1), 2),
        else_=1,
    )
    keyed = joined.select(
        bucket=bucket,
        stage=joined.stage.cases(*STAGE_INDEX.items(), else_=0),
        touch=touch,
    )
    counts = keyed.group_by("bucket", "stage", "touch").agg(n=ibis._.count())
    return _stacked(counts, OPEN, a=counts.bucket, b=counts.stage, c=counts.touch, n=counts.n)


def _outbound_part(sources: Sources, observation: Observation) -> ir.Table:
    """Outbound activities of the period by local weekday and hour."""
    table = sources.table("activities")
    rows = table.filter(
        table.occurred_at >= observation.start_utc,
        table.occurred_at < observation.end_utc,
        table.direction == "outbound",
    )
    clock = _local_clock(sources, observation, rows.occurred_at)
    counts = rows.group_by(weekday=clock.weekday, hour=clock.hour).agg(n=ibis._.count())
    return _stacked(counts, OUTBOUND, a=counts.weekday, b=counts.hour, n=counts.n)


def build_pipeline_counts(sources: Sources, observation: Observation) -> ir.Table:
    """Every count of the pipeline dashboard for `observation`, stacked by kind."""
    deals = _followed(sources, observation)
    walked = _walked(sources, deals, observation.cutoff_utc)
    parts = [
        *_cohort_parts(sources, deals, walked, observation),
        _velocity_part(sources, walked, observation),
        _open_part(sources, deals, walked, observation),
        _outbound_part(sources, observation),
    ]
    return ibis.union(*parts)


def _quantile(value: Any) -> float | None:
    """A quantile from the database (NULL when there is none)."""
    return None if value is None or value != value else float(value)


def fetch_pipeline_counts(sources: Sources, observation: Observation) -> PipelineCounts:
    """`build_pipeline_counts` run (its SQL kept per observation and scope), by kind."""
    names, rows = sources.fetch(
        lambda: build_pipeline_counts(sources, observation), ("pipeline.counts", observation)
    )
    at = {name: i for i, name in enumerate(names)}
    counts = PipelineCounts()
    for row in rows:
        kind, s1, s2 = int(row[at["kind"]]), row[at["s1"]], row[at["s2"]]
        a, b, c, n = row[at["a"]], row[at["b"]], row[at["c"]], int(row[at["n"]])
        if kind == BY_SOURCE_DAY:
            day = EPOCH + dt.timedelta(days=int(a))
            counts.by_source_day.append((str(s1), day, n, int(row[at["won"]])))
        elif kind == BY_AGENT:
            counts.by_agent.append((None if a is None else int(a), n, int(row[at["won"]])))
        elif kind == BY_CLOCK:
            counts.by_clock.append((int(a), int(b), n))
        elif kind == BY_PROGRESS:
            counts.by_progress.append((int(a), bool(b), n))
        elif kind == FLOWS:
            counts.flows.append((str(s1), str(s2), n))
        elif kind == VELOCITY:
            x1, x2 = _quantile(row[at["x1"]]), _quantile(row[at["x2"]])
            counts.velocity.append((str(s1), n, x1, x2))
        elif kind == OPEN:
            counts.open.append((int(a), int(b), int(c), n))
        else:
            counts.outbound.append((int(a), int(b), n))
    return counts
