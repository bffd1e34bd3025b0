"""The controls above every analytics page (period, comparison, filters) and the page's own
settings, all kept in the URL's query string so a view can be shared as a link.

Widgets keep their values in session state; on a first visit those start from the URL, and
after every run the URL is rewritten from them (only what differs from the defaults)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import TypeVar

import streamlit as st

from dealscope.client import Compare, Dimension, MetricQuery, PeriodQuery, RangeName
from dealscope.dashboard import data
from dealscope.dashboard.session import SignedIn
from dealscope.dashboard.state import (
    COMPARE_LABELS,
    FILTER_DIMENSIONS,
    RANGE_LABELS,
    ViewState,
)
from dealscope.dashboard.widgets import try_fetch

V = TypeVar("V")
_PREFIX = "ctl_"
_FILTER_LABELS = {Dimension.TEAM: "Teams", Dimension.OFFICE: "Offices", Dimension.SOURCE: "Sources"}
OPTIONS_LOOKBACK = PeriodQuery(RangeName.YEAR_TO_DATE)


def _query() -> dict[str, str | list[str]]:
    return {k: st.query_params.get_all(k) for k in st.query_params}


def _seed(view: ViewState) -> None:
    """Widget values from the URL, the first time this session sees them."""
    if f"{_PREFIX}seeded" in st.session_state:
        return
    st.session_state[f"{_PREFIX}seeded"] = True
    st.session_state[f"{_PREFIX}range"] = view.range
    st.session_state[f"{_PREFIX}compare"] = view.compare
    if view.start and view.end:
        st.session_state[f"{_PREFIX}dates"] = (view.start, view.end)
    st.session_state[f"{_PREFIX}as_of"] = view.as_of
    for dimension in FILTER_DIMENSIONS:
        st.session_state[f"{_PREFIX}{dimension.value}"] = list(view.filters.get(dimension, ()))


def current_view() -> ViewState:
    """The view the widgets hold now (before the bar is drawn: as the URL or last run left it)."""
    parsed = ViewState.from_query(_query())
    _seed(parsed)
    state = st.session_state
    range_name = state.get(f"{_PREFIX}range") or RangeName.LAST_30_DAYS
    start = end = None
    if range_name == RangeName.CUSTOM:
        dates = tuple(state.get(f"{_PREFIX}dates") or ())
        if len(dates) == 2:
            start, end = dates[0], dates[1]
        else:
            range_name = RangeName.LAST_30_DAYS
    filters = {
        d: tuple(sorted(state.get(f"{_PREFIX}{d.value}") or ()))
        for d in FILTER_DIMENSIONS
        if state.get(f"{_PREFIX}{d.value}")
    }
    return ViewState(
        range=RangeName(range_name),
        start=start,
        end=end,
        compare=Compare(state.get(f"{_PREFIX}compare") or Compare.PREVIOUS_PERIOD),
        as_of=state.get(f"{_PREFIX}as_of"),
        filters=filters,
        problems=parsed.problems,
    )


def _filter_options(user: SignedIn, dimension: Dimension) -> tuple[list[str], dict[str, str]]:
    query = MetricQuery.over(OPTIONS_LOOKBACK, ["new_leads"], dimensions=[dimension])
    snapshot = try_fetch(lambda: data.fetch_metrics(user.client, user.key, query), "filter values")
    if snapshot is None:
        return [], {}
    rows = snapshot.data.metrics[0].rows
    keys = sorted({r.dimensions.get(dimension.value) or "" for r in rows} - {""})
    return keys, snapshot.data.labels.get(dimension.value, {})


def view_bar(user: SignedIn, filters: bool = True, compare: bool = True) -> ViewState:
    """Draw the period / comparison / filter controls; the view they select."""
    view = current_view()
    for problem in view.problems:
        st.warning(
            f"The link's {problem}; showing the default instead.", icon=":material/link_off:"
        )
    left, middle, right = st.columns([3, 2, 1], vertical_alignment="bottom")
    with left:
        st.segmented_control(
            "Period",
            list(RANGE_LABELS),
            format_func=lambda r: RANGE_LABELS[r],
            key=f"{_PREFIX}range",
            required=True,
            wrap=True,
        )
    if st.session_state.get(f"{_PREFIX}range") == RangeName.CUSTOM:
        today = dt.date.today()
        st.session_state.setdefault(f"{_PREFIX}dates", (today - dt.timedelta(days=29), today))
        st.date_input("Custom dates (first and last day)", key=f"{_PREFIX}dates")
    if compare:
        with middle:
            st.selectbox(
                "Compare with",
                list(COMPARE_LABELS),
                format_func=lambda c: COMPARE_LABELS[c],
                key=f"{_PREFIX}compare",
            )
    if filters:
        with right, st.popover("Filters", icon=":material/filter_list:", width="stretch"):
            st.caption("Filters narrow the trend and quota charts and the tables by team.")
            for dimension in FILTER_DIMENSIONS:
                keys, names = _filter_options(user, dimension)
                chosen = st.session_state.get(f"{_PREFIX}{dimension.value}") or []
                st.multiselect(
                    _FILTER_LABELS[dimension],
                    sorted(set(keys) | set(chosen)),
                    format_func=lambda k, n=names: n.get(k, k),  # type: ignore[misc]
                    key=f"{_PREFIX}{dimension.value}",
                    placeholder="All",
                )
    view = current_view()
    publish(view.to_query())
    return view


# --- the page's own settings ------------------------------------------------------------


_PAGE_PARAMS = "ctl_page_params"


def param(
    name: str, default: V, parse: Callable[[str], V], choices: Sequence[V] | None = None
) -> V:
    """A page setting's starting value: from the URL when it holds a valid one."""
    raw = st.query_params.get(name)
    if raw is None:
        return default
    try:
        value = parse(raw)
    except ValueError:
        return default
    if choices is not None and value not in choices:
        return default
    return value


def keep(name: str, value: object, default: object) -> None:
    """Record a page setting for the URL (dropped when it is the default)."""
    params: dict[str, str] = st.session_state.setdefault(_PAGE_PARAMS, {})
    if value is None or value == default:
        params.pop(name, None)
    else:
        params[name] = str(value.value if hasattr(value, "value") else value)
    publish(None)


def publish(view_params: dict[str, str] | None) -> None:
    """Rewrite the URL's query string: the view's parameters (None: as last published) and
    the page's settings."""
    if view_params is not None:
        st.session_state["ctl_view_params"] = view_params
    wanted = {
        **st.session_state.get("ctl_view_params", {}),
        **st.session_state.get(_PAGE_PARAMS, {}),
    }
    if {k: st.query_params.get(k) for k in st.query_params} != wanted:
        st.query_params.from_dict(wanted)


def reset_page_params() -> None:
    """A new page starts with only the view's parameters in the URL."""
    st.session_state[_PAGE_PARAMS] = {}
