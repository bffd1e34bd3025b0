"""Building blocks every page uses: guarded fetches with errors that say what to do, charts
with their CSV export and drill-down, tables, empty states and the freshness line."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Sequence
from typing import Any, NoReturn, TypeVar

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from dealscope.client import ApiError, ApiUnavailable, SessionExpired, Snapshot
from dealscope.dashboard import session
from dealscope.dashboard.formatting import ago

T = TypeVar("T")

PLOTLY_CONFIG = {"displaylogo": False, "responsive": True, "modeBarButtonsToRemove": ["lasso2d"]}


def _stop() -> NoReturn:
    st.stop()
    raise AssertionError("unreachable")  # st.stop raises; this keeps type checkers honest


def explain(exc: ApiError | ApiUnavailable, what: str) -> str:
    """What went wrong fetching `what`, and what the user can do about it."""
    if isinstance(exc, ApiUnavailable):
        return (
            f"The dashboard cannot reach the DealScope API at **{session.api_url()}** "
            f"({exc.reason}). Start it with `dealscope serve` (or run everything with "
            "`dealscope demo`), or set `DEALSCOPE_API_URL` to where your API runs, then retry."
        )
    if exc.status_code == 429:
        wait = f" in {exc.retry_after:.0f} s" if exc.retry_after else " in a minute"
        return f"Too many requests for {what} just now: retry{wait}. ({exc.detail})"
    if exc.status_code == 403:
        return f"Your role may not see {what}: {exc.detail}. An admin can change your role."
    if exc.status_code in (400, 422):
        return f"The API refused the request for {what}: {exc.detail}. Change the controls above."
    return (
        f"The API could not answer with {what}: {exc.detail} ({exc.code}, HTTP "
        f"{exc.status_code}). Retry; if it keeps failing, the API's log has the details."
    )


def fetch(call: Callable[[], T], what: str) -> T:
    """`call()`'s answer; on failure the page shows why and what to do, and stops."""
    try:
        return call()
    except SessionExpired:
        session.end("Your session has ended (signed out elsewhere or expired): sign in again.")
        st.rerun()
    except (ApiUnavailable, ApiError) as exc:
        st.error(explain(exc, what), icon=":material/error:")
        st.button("Retry", type="primary", key=f"retry-{what}")
        _stop()


def try_fetch(call: Callable[[], T], what: str) -> T | None:
    """Like `fetch`, but a refusal (403) or bad request shows a note and returns None, so the
    rest of the page still renders."""
    try:
        return call()
    except SessionExpired:
        session.end("Your session has ended (signed out elsewhere or expired): sign in again.")
        st.rerun()
    except ApiError as exc:
        if exc.status_code in (400, 403, 422):
            st.info(explain(exc, what), icon=":material/info:")
            return None
        st.error(explain(exc, what), icon=":material/error:")
        return None
    except ApiUnavailable as exc:
        st.error(explain(exc, what), icon=":material/error:")
        return None


def freshness(snapshot: Snapshot[Any], now: dt.datetime | None = None, live: str = "") -> None:
    """'Data version 12 · as of 8 s ago' (the version moves with every write to the data)."""
    moment = now or dt.datetime.now(dt.UTC)
    seconds = max(0.0, (moment - snapshot.fetched_at).total_seconds())
    version = "" if snapshot.data_version is None else f"Data version {snapshot.data_version} · "
    st.caption(f":material/update: {version}as of {ago(seconds)}{live}")


def empty(message: str) -> None:
    """An empty state that says why there is nothing and what would fill it."""
    st.info(message, icon=":material/info:")


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def csv_button(frame: pd.DataFrame, name: str, key: str | None = None) -> None:
    st.download_button(
        "Download CSV",
        frame.to_csv(index=False).encode(),
        file_name=f"{slug(name)}.csv",
        mime="text/csv",
        icon=":material/download:",
        key=key or f"csv-{slug(name)}",
        type="tertiary",
        on_click="ignore",
    )


def chart(
    figure: go.Figure,
    frame: pd.DataFrame,
    name: str,
    *,
    select: bool = False,
    height: int | None = None,
) -> list[dict[str, Any]]:
    """Draw `figure` with a CSV of `frame` (the numbers behind it) under it. With `select`,
    clicking a point reruns the page and its points are returned (for a drill-down)."""
    if height is not None:
        figure.update_layout(height=height)
    key = f"chart-{slug(name)}"
    if select:
        state = st.plotly_chart(
            figure,
            key=key,
            on_select="rerun",
            selection_mode=("points",),
            config=PLOTLY_CONFIG,
        )
    else:
        st.plotly_chart(figure, key=key, config=PLOTLY_CONFIG)
        state = None
    csv_button(frame, name)
    if state is None:
        return []
    try:
        points: list[dict[str, Any]] = list(state["selection"]["points"])
    except (KeyError, TypeError):
        return []
    return points


def table(
    frame: pd.DataFrame,
    name: str,
    column_config: dict[str, Any] | None = None,
    hide_index: bool = True,
) -> None:
    st.dataframe(frame, hide_index=hide_index, column_config=column_config, width="stretch")
    csv_button(frame, name, key=f"csv-table-{slug(name)}")


def selected(points: Sequence[dict[str, Any]], field: str) -> list[Any]:
    """The `field` (x, y, label, customdata...) of each clicked point."""
    values = []
    for point in points:
        value = point.get(field)
        if isinstance(value, list) and value:
            value = value[0]
        if value is not None:
            values.append(value)
    return values
