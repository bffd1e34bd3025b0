"""Which pages a user sees: every role reads the analytics pages (their own rows for an
agent, their team's for a manager); Settings is for those who manage users or API keys."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from dealscope.client import MeRead
from dealscope.kit.roles import Permission, Role

PAGES_DIR = Path(__file__).with_name("views")


@dataclass(frozen=True)
class PageSpec:
    file: str
    title: str
    icon: str
    section: str
    url_path: str


ANALYTICS = (
    PageSpec("summary.py", "Executive summary", ":material/dashboard:", "Analytics", "summary"),
    PageSpec("pipeline.py", "Pipeline", ":material/filter_alt:", "Analytics", "pipeline"),
    PageSpec("revenue.py", "Revenue", ":material/payments:", "Analytics", "revenue"),
    PageSpec("agents.py", "Agents", ":material/groups:", "Analytics", "agents"),
    PageSpec("forecast.py", "Forecast", ":material/trending_up:", "Analytics", "forecast"),
    PageSpec("funnel.py", "Funnel", ":material/conversion_path:", "Analytics", "funnel"),
    PageSpec("speed.py", "Speed to lead", ":material/timer:", "Analytics", "speed-to-lead"),
    PageSpec("anomalies.py", "Anomalies", ":material/troubleshoot:", "Analytics", "anomalies"),
)
OPERATIONS = (
    PageSpec("alerts.py", "Alerts", ":material/notifications:", "Operations", "alerts"),
    PageSpec("reports.py", "Reports", ":material/description:", "Operations", "reports"),
)
SETTINGS = PageSpec("settings.py", "Settings", ":material/settings:", "Admin", "settings")


def pages_for(me: MeRead) -> list[PageSpec]:
    """The pages `me` may open, in menu order."""
    pages = list(ANALYTICS)
    if me.role == Role.AGENT:
        pages[3] = PageSpec("agents.py", "My scorecard", ":material/person:", "Analytics", "agents")
    pages.extend(OPERATIONS)
    if me.can(Permission.MANAGE_USERS) or me.can(Permission.MANAGE_API_KEYS):
        pages.append(SETTINGS)
    return pages
