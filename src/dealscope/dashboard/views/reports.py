"""Reports: build a report over the metric catalog (sections of metrics, splits, filters,
period, comparison and visual), preview it, save it, download it as PDF, Excel or CSV; the
built-in templates and saved reports; and the schedules that mail them, with their log."""

from __future__ import annotations

from typing import Any

import streamlit as st

from dealscope.client import ApiError
from dealscope.dashboard import builder, frames, session
from dealscope.dashboard.widgets import empty, explain, fetch, table
from dealscope.kit.roles import Permission, Role

FORMATS = {"pdf": "PDF", "xlsx": "Excel", "csv": "CSV (zip)"}


def _download(made_key: str) -> None:
    rendered = st.session_state.get(made_key)
    if rendered is not None:
        st.download_button(
            f"Download {rendered.filename}",
            rendered.content,
            file_name=rendered.filename,
            mime=rendered.content_type,
            icon=":material/download:",
            on_click="ignore",
            key=f"dl-{made_key}",
        )


def _render(made_key: str, fmt: str, **source: Any) -> None:
    try:
        with st.spinner("Rendering..."):
            made = user.client.generate_report(format=fmt, **source)
            st.session_state[made_key] = user.client.download_report(made)
    except ApiError as exc:
        st.session_state.pop(made_key, None)
        st.error(explain(exc, "the report"), icon=":material/error:")


user = session.require()
st.title("Reports")
listing = fetch(user.client.reports, "the reports")
may_build = user.me.can(Permission.BUILD_REPORTS)

if may_build:
    catalog = fetch(user.client.metric_catalog, "the metric catalog")
    with st.container(border=True):
        st.subheader("Build a report")
        report_title = st.text_input("Report title", value="My report", key="rb-report-title")
        count = int(
            st.number_input("Sections", min_value=1, max_value=builder.MAX_SECTIONS, key="rb-n")
        )
        sections = []
        for number in range(1, count + 1):
            with st.expander(f"Section {number}", expanded=number == 1):
                sections.append(builder.section_form(user, catalog, number))
        spec: dict[str, Any] = {"title": report_title.strip() or "My report", "sections": sections}
        missing = [s["title"] for s in sections if not s["metrics"]]
        if missing:
            st.caption(f"Choose metrics for: {', '.join(missing)}.")
        a, b = st.columns(2)
        shared = a.multiselect(
            "Share with roles",
            [r.value for r in Role if r != Role.ADMIN],
            key="rb-share",
            help="Admins always see saved reports.",
        )
        with b:
            fmt = (
                st.segmented_control(
                    "Format",
                    list(FORMATS),
                    default="pdf",
                    format_func=FORMATS.__getitem__,
                    required=True,
                    key="rb-format",
                )
                or "pdf"
            )
        p, r, s = st.columns(3)
        if p.button("Preview", icon=":material/visibility:", disabled=bool(missing)):
            st.session_state["rb-preview"] = spec
        if r.button("Render this report", icon=":material/description:", disabled=bool(missing)):
            _render("built_file", fmt, spec=spec)
        if s.button("Save", type="primary", icon=":material/save:", disabled=bool(missing)):
            try:
                saved = user.client.save_report(spec["title"], spec, shared)
                st.success(f"Saved “{saved.name}” (report {saved.id}).", icon=":material/check:")
                listing = user.client.reports()
            except ApiError as exc:
                st.error(explain(exc, "saving the report"), icon=":material/error:")
        _download("built_file")
    shown = st.session_state.get("rb-preview")
    if shown is not None:
        st.subheader(f"Preview: {shown['title']}")
        for section in shown["sections"]:
            with st.container(border=True):
                st.markdown(f"**{section['title']}**")
                try:
                    result = user.client.query_metrics(builder.section_query(section)).data
                except ApiError as exc:
                    st.warning(explain(exc, section["title"]), icon=":material/warning:")
                    continue
                builder.preview(section, result, user.me.tenant.currency)

choices: dict[str, tuple[str | None, int | None]] = {
    f"{t.title} (template)": (t.name, None) for t in listing.templates
}
choices |= {f"{r.name} (saved)": (None, r.id) for r in listing.reports}

with st.container(border=True):
    st.subheader("Render a report")
    name = st.selectbox("Report", list(choices), key="render-report")
    fmt = (
        st.segmented_control(
            "Format",
            list(FORMATS),
            default="pdf",
            format_func=FORMATS.__getitem__,
            required=True,
            key="render-format",
        )
        or "pdf"
    )
    if st.button("Render", type="primary", icon=":material/description:"):
        template, report_id = choices[name]
        _render("report_file", fmt, template=template, report_id=report_id)
    _download("report_file")

st.subheader("Templates")
table(frames.of(listing.templates, ["title", "name", "audience", "sections"]), "templates")
st.subheader("Saved reports")
if listing.reports:
    table(
        frames.of(listing.reports, ["id", "name", "template", "audience", "editable"]),
        "saved reports",
    )
else:
    empty("No saved reports shared with you yet. Build one above (analysts and managers).")

st.subheader("Schedules")
if may_build:
    with st.form("schedule", border=True):
        st.markdown("**Schedule a report by email**")
        target = st.selectbox("Report", list(choices), key="sc-report")
        left, right = st.columns(2)
        cron = left.text_input(
            "Cron (minute hour day month weekday)", value="0 7 * * 1", key="sc-cron"
        )
        zone = right.text_input("Time zone", value=user.me.tenant.timezone, key="sc-zone")
        recipients = st.text_area(
            "Recipients (one email address per line or comma-separated)", key="sc-to"
        )
        formats = st.multiselect(
            "Formats", list(FORMATS), default=["pdf"], format_func=FORMATS.__getitem__,
            key="sc-formats",
        )  # fmt: skip
        if st.form_submit_button("Schedule", type="primary", icon=":material/schedule_send:"):
            template, report_id = choices[target]
            addresses = [a.strip() for a in recipients.replace(",", "\n").splitlines() if a.strip()]
            try:
                made = user.client.schedule_report(
                    cron=cron.strip(),
                    report_id=report_id,
                    template=template,
                    timezone=zone.strip() or None,
                    recipients=addresses,
                    formats=formats,
                )
                st.success(
                    f"Scheduled: next run {made.next_run_at:%d %b %Y %H:%M} UTC.",
                    icon=":material/check:",
                )
            except ApiError as exc:
                st.error(explain(exc, "the schedule"), icon=":material/error:")
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
        "No scheduled reports. "
        + (
            "Schedule one with the form above: it mails the report on its cron."
            if may_build
            else "Analysts and managers schedule them."
        )
    )
if may_build:
    st.subheader("Deliveries")
    deliveries = fetch(user.client.report_deliveries, "the delivery log")
    if deliveries:
        frame = frames.of(
            deliveries,
            ["id", "schedule_id", "report_id", "scheduled_for", "status", "attempts", "error"],
        )
        frame["sent_to"] = [
            ", ".join(a for t in d.targets for a in (t.to or [t.channel])) for d in deliveries
        ]
        table(frame, "deliveries")
    else:
        empty("No deliveries yet: each scheduled run is logged here once it is due.")
