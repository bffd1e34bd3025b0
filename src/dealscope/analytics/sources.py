"""The warehouse tables an analytics query may read, already narrowed to the caller's scope.

Every analytics read starts here, so tenant and agent scoping (warehouse.tenancy) is applied
once, before any metric or dashboard logic sees a row.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from dealscope.warehouse.engine import Warehouse
from dealscope.warehouse.tenancy import TenantScope, scope_table

if TYPE_CHECKING:
    import ibis.expr.types as ir


class Sources:
    """Scoped Ibis tables of one warehouse for one caller."""

    def __init__(self, warehouse: Warehouse, scope: TenantScope) -> None:
        self.warehouse = warehouse
        self.scope = scope
        self._tables: dict[str, ir.Table] = {}

    def table(self, name: str) -> ir.Table:
        """Table `name` with only the rows the scope may see (raises ScopeViolation for a
        table the scope may not read at all)."""
        if name not in self._tables:
            raw = self.warehouse.ibis().table(name)
            self._tables[name] = scope_table(raw, name, self.scope)
        return self._tables[name]

    def execute(self, expr: ir.Expr) -> object:
        """Run an expression on the warehouse's backend."""
        return self.warehouse.ibis().execute(expr)

    def frame(self, expr: ir.Table) -> pd.DataFrame:
        """Run a table expression; its rows as a DataFrame."""
        result = self.execute(expr)
        assert isinstance(result, pd.DataFrame)
        return result
