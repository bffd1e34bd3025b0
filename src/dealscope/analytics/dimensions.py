"""The frame every metric is built in, and how a base table gets its dimension columns.

A `Frame` is one evaluation of metrics: scoped sources, the period (tenant-local dates),
`as_of`, the tenant's time zone, the grain and the dimensions and filters asked for.
Timestamps are UTC in the warehouse; a day of the tenant starts at local midnight, so the
period's bounds and the grain buckets are turned into UTC instants here (daylight saving
included), and buckets are assigned by comparing with those instants, the same SQL on
every backend.

`shape` turns a base table into `measures + bucket + dimension columns` (dimension columns
named by the dimension, values as strings), joining agents (team, office) and contacts
(UTM medium and campaign) only when a requested dimension or filter needs them.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Literal
from zoneinfo import ZoneInfo

import ibis
import ibis.expr.datatypes as idt
import ibis.expr.types as ir

from dealscope.analytics.periods import Grain, Period, buckets
from dealscope.analytics.sources import Sources
from dealscope.analytics.specs import Dimension

BUCKET = "bucket"


@dataclass(frozen=True)
class Via:
    """Where a dimension's value comes from for one base table: a column of the table itself,
    of the agent the row belongs to (agents table), or of its contact (contacts table)."""

    column: str
    through: Literal["self", "agent", "contact"] = "self"


# The usual wiring of agent-owned rows: team and office through the agents table.
AGENT_ORG: dict[Dimension, Via] = {
    Dimension.TEAM: Via("team_id", "agent"),
    Dimension.OFFICE: Via("office_id", "agent"),
}
CONTACT_UTM: dict[Dimension, Via] = {
    Dimension.MEDIUM: Via("utm_medium", "contact"),
    Dimension.CAMPAIGN: Via("utm_campaign", "contact"),
}


@dataclass(frozen=True)
class Frame:
    """One evaluation of metrics: who asks (sources), over what, split and filtered how."""

    sources: Sources
    period: Period
    as_of: dt.date
    zone: ZoneInfo = field(default_factory=lambda: ZoneInfo("UTC"))
    grain: Grain | None = None
    dimensions: tuple[Dimension, ...] = ()
    filters: Mapping[Dimension, tuple[str, ...]] = field(default_factory=dict)

    def at(self, period: Period) -> Frame:
        """The same frame over another period (comparisons, snapshot buckets)."""
        return replace(self, period=period)

    def instant(self, day: dt.date) -> dt.datetime:
        """Local midnight at the start of `day`, in UTC."""
        local = dt.datetime.combine(day, dt.time(), tzinfo=self.zone)
        return local.astimezone(dt.UTC)

    @property
    def start_at(self) -> dt.datetime:
        return self.instant(self.period.start)

    @property
    def end_at(self) -> dt.datetime:
        """The end of the period, or of `as_of` if that comes first: a period reaching past
        `as_of` counts only what was known by then (closings dated later, for instance)."""
        return min(self.instant(self.period.end), self.as_of_end)

    @property
    def end_day(self) -> dt.date:
        """The first day not counted: the period's end, or the day after `as_of`."""
        return min(self.period.end, self.as_of + dt.timedelta(days=1))

    @property
    def as_of_end(self) -> dt.datetime:
        """The end of the `as_of` day: nothing after it is known to the query."""
        return self.instant(self.as_of + dt.timedelta(days=1))

    @property
    def keys(self) -> list[str]:
        """The grouping columns of every metric table: bucket (with a grain), dimensions."""
        head = [BUCKET] if self.grain is not None else []
        return head + [d.value for d in self.dimensions]

    @property
    def wanted(self) -> set[Dimension]:
        return set(self.dimensions) | set(self.filters)

    def bucket_starts(self) -> list[dt.date]:
        return buckets(self.period, self.grain) if self.grain is not None else []

    def in_period(self, column: ir.TimestampValue) -> ir.BooleanValue:
        return (column >= ts_literal(self.start_at)) & (column < ts_literal(self.end_at))

    def dates_in_period(self, column: ir.DateValue) -> ir.BooleanValue:
        return (column >= date_literal(self.period.start)) & (column < date_literal(self.end_day))

    def bucket_of(self, column: ir.Value, kind: Literal["timestamp", "date"]) -> ir.Value:
        """The first day of the grain bucket holding `column` (a value inside the period)."""
        starts = self.bucket_starts()
        if len(starts) == 1:
            return date_literal(starts[0])
        cases = []
        for start, following in itertools.pairwise(starts):
            bound = (
                ts_literal(self.instant(following))
                if kind == "timestamp"
                else date_literal(following)
            )
            cases.append((column < bound, date_literal(start)))
        return ibis.cases(*cases, else_=date_literal(starts[-1]))


def frame_key(frame: Frame) -> Hashable:
    """What a metric expression built in `frame` depends on (its sources apart): equal keys,
    equal SQL."""
    filters = tuple(sorted((d.value, tuple(v)) for d, v in frame.filters.items()))
    return (
        frame.sources.cache_key(),
        frame.period,
        frame.as_of,
        frame.zone.key,
        frame.grain,
        frame.dimensions,
        filters,
    )


@ibis.udf.scalar.builtin(name="epoch_us")
def epoch_us(value: idt.Timestamp(timezone="UTC")) -> idt.int64:  # type: ignore[valid-type]
    """DuckDB's microseconds since 1970 of an instant."""


def on_duckdb(frame: Frame) -> bool:
    return bool(frame.sources.warehouse.ibis().name == "duckdb")


def within_days(
    frame: Frame, value: ir.TimestampValue, start: ir.TimestampValue, days: int
) -> ir.BooleanValue:
    """`value < start + days` (days of 24 hours: the session is in UTC). On DuckDB compared
    as microseconds since 1970, exactly the same, without a calendar addition per row."""
    if on_duckdb(frame):
        span: ir.IntegerValue = epoch_us(start)
        return epoch_us(value) < span + days * 86_400_000_000
    return value < start + ibis.interval(days=days)


def epoch_seconds(frame: Frame, value: ir.TimestampValue) -> ir.FloatingValue:
    """Seconds since 1970 of the instant `value`: what `value.epoch_seconds()` gives with the
    session in UTC (as our engines set it), the same float. On DuckDB it is worked out from
    the instant's microseconds: Ibis's form turns each value into a zone-less timestamp
    first, a calendar computation that costs some twenty times more."""
    if on_duckdb(frame):
        micros: ir.IntegerValue = epoch_us(value)
        return micros.cast("float64") / 1_000_000.0
    return value.epoch_seconds()


def ts_literal(value: dt.datetime) -> ir.TimestampScalar:
    return ibis.literal(value, type="timestamp('UTC')")


def date_literal(value: dt.date) -> ir.DateScalar:
    return ibis.literal(value, type="date")


def shape(
    frame: Frame,
    table: ir.Table,
    dims: Mapping[Dimension, Via],
    measures: Mapping[str, ir.Value],
    when: ir.Value | None = None,
    when_kind: Literal["timestamp", "date"] = "timestamp",
    agent: str | None = None,
    contact: str | None = None,
    text: bool = True,
) -> ir.Table:
    """`table` as `measures` + bucket (from `when`) + the frame's dimension columns, with the
    frame's filters applied. `agent`/`contact` name the columns that join agents/contacts.
    Dimension values are text, or with `text=False` the columns as they are (for a caller
    that groups first and turns the few keys into text after: `as_text`)."""

    def keyed(value: ir.Value) -> ir.Value:
        return value.cast("string") if text else value

    wanted = [d for d in dims if d in frame.wanted]
    base: dict[str, ir.Value] = dict(measures)
    if frame.grain is not None:
        if when is None:
            raise ValueError("a bucketed metric needs the time of its rows")
        base[BUCKET] = frame.bucket_of(when, when_kind)
    for dim in wanted:
        if dims[dim].through == "self":
            base[dim.value] = keyed(table[dims[dim].column])
    joins = {dims[d].through for d in wanted} - {"self"}
    if "agent" in joins:
        assert agent is not None, "agent-joined dimension without an agent column"
        base["_agent_key"] = table[agent]
    if "contact" in joins:
        assert contact is not None, "contact-joined dimension without a contact column"
        base["_contact_key"] = table[contact]
    narrowing = _id_filters(frame, table, dims)
    for dim, _ in narrowing:
        base[f"_raw_{dim.value}"] = table[dims[dim].column]
    out = table.select(**base)
    # A filter on an id (an agent, a team...) first keeps the rows by the id itself, not by
    # its text; the text filter below still decides, on far fewer rows.
    for dim, ids in narrowing:
        out = out.filter(out[f"_raw_{dim.value}"].isin(ids)).drop(f"_raw_{dim.value}")
    if "agent" in joins:
        agents = frame.sources.table("agents")
        for dim in wanted:
            ids = _ids(frame.filters.get(dim, ()))
            column = dims[dim].column
            if dims[dim].through == "agent" and ids and _is_integer(agents, column):
                members = agents.filter(agents[column].isin(ids)).id
                out = out.filter(out._agent_key.isin(members))
    for through, key, name in (
        ("agent", "_agent_key", "agents"),
        ("contact", "_contact_key", "contacts"),
    ):
        if through not in joins:
            continue
        side = frame.sources.table(name)
        cols = {
            f"_j_{d.value}": keyed(side[dims[d].column])
            for d in wanted
            if dims[d].through == through
        }
        side = side.select(_j_key=side.id, **cols)
        joined = out.left_join(side, out[key] == side._j_key)
        keep = [c for c in out.columns if c != key]
        out = joined.select(*keep, **{c[3:]: joined[c] for c in cols})
    for dim, values in frame.filters.items():
        if dim not in dims:
            raise ValueError(f"filter on {dim.value} reached a metric without it")
        out = out.filter(out[dim.value].cast("string").isin(list(values)))
    return out.select(
        *[
            c
            for c in out.columns
            if c not in (d.value for d in frame.filters if d not in frame.dimensions)
        ]
    )


def as_text(frame: Frame, table: ir.Table) -> ir.Table:
    """`table` with the frame's dimension columns as text (see `shape`'s `text`)."""
    if not frame.dimensions:
        return table
    return table.mutate(**{d.value: table[d.value].cast("string") for d in frame.dimensions})


def _ids(values: Sequence[str]) -> list[int]:
    """The values that an integer column's text can equal, as integers."""
    return [int(v) for v in values if v.lstrip("-").isdigit() and str(int(v)) == v]


def _is_integer(table: ir.Table, column: str) -> bool:
    return bool(table[column].type().is_integer())


def _id_filters(
    frame: Frame, table: ir.Table, dims: Mapping[Dimension, Via]
) -> list[tuple[Dimension, list[int]]]:
    """The frame's filters on integer columns of `table` itself, with the ids they keep."""
    out = []
    for dim, values in frame.filters.items():
        via = dims.get(dim)
        ids = _ids(values)
        if via is not None and via.through == "self" and ids and _is_integer(table, via.column):
            out.append((dim, ids))
    return out


def aggregate(frame: Frame, table: ir.Table, **values: Callable[[ir.Table], ir.Value]) -> ir.Table:
    """`table` grouped by the frame's keys with the named aggregates."""
    metrics = {name: fn(table) for name, fn in values.items()}
    if not frame.keys:
        return table.aggregate(**metrics)
    return table.group_by(frame.keys).aggregate(**metrics)


def divide(numerator: ir.NumericValue, denominator: ir.NumericValue) -> ir.NumericValue:
    """numerator / denominator as a float, null when the denominator is 0 or null."""
    return numerator.cast("float64") / denominator.cast("float64").nullif(0.0)


def combine(
    frame: Frame, parts: Sequence[ir.Table], formula: Callable[[ir.Table], ir.Value]
) -> ir.Table:
    """Metric tables of the same keys, each with some of the columns `formula` reads, stacked
    and summed per key (a missing column counts as null), then `formula` gives `value`. Keys
    with nulls group together, which an outer join on them would not do."""
    names = sorted({c for p in parts for c in p.columns} - set(frame.keys))
    aligned = []
    for part in parts:
        cols: dict[str, ir.Value] = {k: part[k] for k in frame.keys}
        for name in names:
            cols[name] = (
                part[name].cast("float64") if name in part.columns else ibis.null("float64")
            )
        aligned.append(part.select(**cols))
    stacked = ibis.union(*aligned) if len(aligned) > 1 else aligned[0]
    summed = aggregate(frame, stacked, **{n: (lambda t, n=n: t[n].sum()) for n in names})
    return summed.select(*frame.keys, value=formula(summed))


def snapshot(frame: Frame, build_at: Callable[[Frame, dt.datetime], ir.Table]) -> ir.Table:
    """A state metric (open deals, pipeline value...) taken at the end of the period, or at the
    end of every bucket with a grain: `build_at(frame, instant)` gives the table without
    bucket at `instant`; the buckets are stacked."""
    if frame.grain is None:
        return build_at(frame, frame.end_at)
    starts = frame.bucket_starts()
    ends = [*starts[1:], frame.period.end]
    tables = []
    flat = replace(frame, grain=None)
    for start, end in zip(starts, ends, strict=True):
        at = min(frame.instant(min(end, frame.period.end)), frame.as_of_end)
        part = build_at(flat, at)
        tables.append(part.select(bucket=date_literal(start), **{c: part[c] for c in part.columns}))
    return ibis.union(*tables) if len(tables) > 1 else tables[0]
