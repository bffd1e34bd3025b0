"""Response-cache keys: the scope label and the parameter hash."""

from __future__ import annotations

import datetime as dt

from dealscope.api.cache import CacheKey, params_digest, scope_label
from dealscope.warehouse.tenancy import TenantScope


def test_scope_label_separates_tenant_wide_agents_and_no_one() -> None:
    assert scope_label(TenantScope(1)) == "all"
    assert scope_label(TenantScope.for_agents(1, [9, 3])) == "agents:3,9"
    assert scope_label(TenantScope.for_agents(1, [])) == "agents:"


def test_params_digest_ignores_order_and_sees_every_value() -> None:
    day = dt.date(2025, 3, 31)
    assert params_digest({"a": 1, "as_of": day}) == params_digest({"as_of": day, "a": 1})
    assert params_digest({"as_of": day}) != params_digest({"as_of": dt.date(2025, 3, 30)})
    assert params_digest({"a": None}) != params_digest({})


def test_the_key_names_every_part() -> None:
    key = CacheKey("summary", 7, 42, "agents:3", "abc")
    assert str(key) == "summary:t7:v42:agents:3:abc"
