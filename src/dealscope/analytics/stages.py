"""The canonical pipeline stages every CRM stage maps to (`pipeline_stages.stage_key`).

A deal moves forward through `PIPELINE_STAGES`; `LOST` ends it anywhere along the way and
leaves the stage it was lost at in `opportunities.stage_key` (with status "lost").
"""

from __future__ import annotations

from dealscope.errors import ValidationFailed

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
STAGE_INDEX: dict[str, int] = {stage: i for i, stage in enumerate(PIPELINE_STAGES)}


def stage_index(stage: str) -> int:
    """The position of `stage` in the pipeline (0 for "new"); ValidationFailed if unknown."""
    try:
        return STAGE_INDEX[stage]
    except KeyError:
        known = ", ".join(PIPELINE_STAGES)
        raise ValidationFailed(f"unknown stage {stage!r}; the stages are {known}") from None
