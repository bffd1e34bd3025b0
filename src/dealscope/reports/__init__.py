"""Reports: saved specs, built-in templates, and renderers to PDF, Excel and CSV.

`render(report, fmt, warehouse, scope, as_of=...)` is the entry point (see `service`);
`repository` stores saved reports and schedules.
"""

from dealscope.reports.service import RenderedReport, agent_scope, render
from dealscope.reports.specs import PeriodOverride, ReportFormat, ReportSpec, SectionSpec

__all__ = [
    "PeriodOverride",
    "RenderedReport",
    "ReportFormat",
    "ReportSpec",
    "SectionSpec",
    "agent_scope",
    "render",
]
