"""The canonical pipeline stages every CRM stage maps to (`pipeline_stages.stage_key`,
`opportunities.stage_key`, `stage_history.to_stage`): part of the data model, so every layer
that writes or reads deals (ingest, analytics, the generator) names them from here.

A deal moves forward through `PIPELINE_STAGES`; `LOST` ends it anywhere along the way and
leaves the stage it was lost at in `opportunities.stage_key` (with status "lost").
"""

from __future__ import annotations

PIPELINE_STAGES: tuple[str, ...] = (
    "new",
    "contacted",
    "qualified",
    "appointment",
    "showing",
    "offer",
    "under_contract",
    "closed_won",
)
WON = "closed_won"
LOST = "lost"
