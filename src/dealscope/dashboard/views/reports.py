"""Reports: the built-in templates and saved reports, rendered to PDF, Excel or CSV and
downloaded here; and the schedules that send them."""

from __future__ import annotations

import streamlit as st

from dealscope.client import ApiError
from dealscope.dashboard import frames, session
from dealscope.dashboard.widgets import empty, explain, fetch, table

FORMATS = {"pdf": "PDF", "xlsx": "Excel", "csv": "CSV (zip)"}

user = session.require()
st.title("Reports")
listing = fetch(user.client.reports, "the reports")
choices: dict[str, tuple[str | None, int | None]] = {
    f"{t.title} (template)": (t.name, None) for t in listing.templates
}
choices |= {f"{r.name} (saved)": (None, r.id) for r in listing.reports}

with st.container(border=True):
    st.subheader("Render a report")
    name = st.selectbox("Report", list(choices))
    fmt = (
        st.segmented_control(
            "Format", list(FORMATS), default="pdf", format_func=lambda f: FORMATS[f], required=True
        )
        or "pdf"
    )
    if st.button("Render", type="primary", icon=":material/description:"):
        template, report_id = choices[name]
        try:
            with st.spinner("Rendering..."):
                made = user.client.generate_report(
                    template=template, report_id=report_id, format=fmt
                )
                st.session_state["report_file"] = user.client.download_report(made)
        except ApiError as exc:
            st.error(explain(exc, "the report"), icon=":material/error:")
    rendered = st.session_state.get("report_file")
    if rendered is not None:
        st.download_button(
            f"Download {rendered.filename}",
            rendered.content,
            file_name=rendered.filename,
            mime=rendered.content_type,
            icon=":material/download:",
            on_click="ignore",
        )

st.subheader("Templates")
table(frames.of(listing.templates, ["title", "name", "audience", "sections"]), "templates")
st.subheader("Saved reports")
if listing.reports:
    table(
        frames.of(listing.reports, ["id", "name", "template", "audience", "editable"]),
        "saved reports",
    )
else:
    empty("No saved reports shared with you yet. Analysts and managers save them via the API.")
st.subheader("Schedules")
schedules = fetch(user.client.report_schedules, "the schedules")
if schedules:
    table(
        frames.of(
            schedules,
            [
                "id",
                "report_id",
                "cron",
                "timezone",
                "formats",
                "recipients",
                "is_enabled",
                "next_run_at",
                "last_run_at",
            ],
        ),
        "schedules",
    )
else:
    empty(
        "No scheduled reports. A schedule mails a report on a cron (POST /api/v1/reports/schedule)."
    )
