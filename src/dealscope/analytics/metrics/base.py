"""The `Metric` declaration shared by every family module."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import ibis.expr.types as ir

from dealscope.analytics.dimensions import Frame
from dealscope.analytics.specs import ADDITIVE_UNITS, Dimension, Unit


@dataclass(frozen=True)
class Metric:
    """A named number: `build(frame)` returns an unexecuted Ibis table with one column per
    key of the frame (bucket, then dimensions) and `value`."""

    slug: str
    label: str
    unit: Unit
    description: str
    dimensions: frozenset[Dimension]
    higher_is_better: bool
    build: Callable[[Frame], ir.Table]

    @property
    def additive(self) -> bool:
        """Counts and money: 0 over no rows, and summable across buckets and dimensions."""
        return self.unit in ADDITIVE_UNITS
