"""The `Metric` declaration shared by every family module, and `Family`: metrics read from the
same rows of a base table, computed together in one aggregate when asked together."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial

import ibis.expr.types as ir

from dealscope.analytics.dimensions import Frame, aggregate, as_text
from dealscope.analytics.specs import ADDITIVE_UNITS, Dimension, Unit


@dataclass(frozen=True)
class Measure:
    """A metric as an aggregate over its family's rows (`doc` says what it means):
    `value(rows, where)` aggregates the
    rows `where(rows)` keeps (every row when `where` is None), and a key has a value only
    where it has such rows. `needs` names the optional parts of the rows it reads (joins or
    row kinds the family adds only when a member needs them)."""

    doc: str  # what the number means, in its units
    value: Callable[[ir.Table, ir.BooleanValue | None], ir.Value]
    where: Callable[[ir.Table], ir.BooleanValue] | None = None
    needs: frozenset[str] = frozenset()


def _value(measure: Measure, rows: ir.Table) -> ir.Value:
    return measure.value(rows, None if measure.where is None else measure.where(rows))


def _rows(where: Callable[[ir.Table], ir.BooleanValue], rows: ir.Table) -> ir.Value:
    return rows.count(where=where(rows))


class Family:
    """Metrics computed from the same rows: `rows(frame, needs)` gives the frame's shaped rows
    (its keys and every column the members' measures read). Asked together, the members are
    one aggregate over one scan; asked alone, a member is that aggregate with one measure,
    so a figure is the same either way."""

    def __init__(self, name: str, rows: Callable[[Frame, frozenset[str]], ir.Table]) -> None:
        self.name = name
        self.rows = rows

    def wide(
        self,
        frame: Frame,
        needs: frozenset[str],
        values: dict[str, Callable[[ir.Table], ir.Value]],
    ) -> ir.Table:
        """The frame's keys and one aggregate column per entry of `values`."""
        return aggregate(frame, self.rows(frame, needs), **values)

    def tables(self, frame: Frame, measures: Sequence[Measure]) -> list[ir.Table]:
        """One metric table (the frame's keys and `value`) per measure, from one aggregate."""
        needs = frozenset().union(*(m.needs for m in measures))
        values: dict[str, Callable[[ir.Table], ir.Value]] = {}
        for i, m in enumerate(measures):
            values[f"_v{i}"] = partial(_value, m)
            if frame.keys and m.where is not None:
                # The keys the measure's own rows have (a lone metric has no others).
                values[f"_n{i}"] = partial(_rows, m.where)
        # Rows keep their keys as they are (ids, not text): the keys become text once grouped.
        wide = as_text(frame, self.wide(frame, needs, values))
        out = []
        for i, m in enumerate(measures):
            part = wide
            if frame.keys and m.where is not None:
                part = wide.filter(wide[f"_n{i}"] > 0)
            out.append(part.select(*frame.keys, value=part[f"_v{i}"]))
        return out

    def build(self, measure: Measure) -> Callable[[Frame], ir.Table]:
        """The metric table of one measure alone."""

        def build(frame: Frame) -> ir.Table:
            return self.tables(frame, [measure])[0]

        build.__doc__ = measure.doc
        return build


@dataclass(frozen=True)
class Metric:
    """A named number: `build(frame)` returns an unexecuted Ibis table with one column per
    key of the frame (bucket, then dimensions) and `value`. A metric of a `family` has its
    `measure` there; `build` is then the family's table of that measure alone."""

    slug: str
    label: str
    unit: Unit
    description: str
    dimensions: frozenset[Dimension]
    higher_is_better: bool
    build: Callable[[Frame], ir.Table]
    summable: bool = True  # False for money per thing (averages, costs per lead)
    family: Family | None = None
    measure: Measure | None = None

    @property
    def additive(self) -> bool:
        """Totals of counts or money: 0 over no rows, summable across dimension values, and
        the metrics plans (targets) can be set for. Averages are not, even in money."""
        return self.unit in ADDITIVE_UNITS and self.summable


def family_metric(
    family: Family,
    measure: Measure,
    slug: str,
    label: str,
    unit: Unit,
    description: str,
    dimensions: frozenset[Dimension],
    higher_is_better: bool,
    summable: bool = True,
) -> Metric:
    """A metric of `family` computed by `measure`."""
    return Metric(
        slug,
        label,
        unit,
        description,
        dimensions,
        higher_is_better,
        family.build(measure),
        summable,
        family,
        measure,
    )


def build_tables(frame: Frame, metrics: Sequence[Metric]) -> list[ir.Table]:
    """The metric tables of `metrics` over `frame`, in order; members of one family share
    one aggregate."""
    out: list[ir.Table | None] = [None] * len(metrics)
    groups: dict[int, list[int]] = {}
    for i, metric in enumerate(metrics):
        if metric.family is not None and metric.measure is not None:
            groups.setdefault(id(metric.family), []).append(i)
        else:
            out[i] = metric.build(frame)
    for members in groups.values():
        family = metrics[members[0]].family
        assert family is not None
        measures = [metrics[i].measure for i in members]
        tables = family.tables(frame, [m for m in measures if m is not None])
        for i, table in zip(members, tables, strict=True):
            out[i] = table
    return [t for t in out if t is not None]
