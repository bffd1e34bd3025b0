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
    summable: bool = True  # False for money per thing (averages, costs per lead)

    @property
    def additive(self) -> bool:
        """Totals of counts or money: 0 over no rows, summable across dimension values, and
        the metrics plans (targets) can be set for. Averages are not, even in money."""
        return self.unit in ADDITIVE_UNITS and self.summable
