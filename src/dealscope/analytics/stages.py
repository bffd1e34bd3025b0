"""Positions of the canonical pipeline stages (defined in `warehouse.stages`)."""

from __future__ import annotations

from dealscope.errors import ValidationFailed
from dealscope.warehouse.stages import LOST, PIPELINE_STAGES, WON

__all__ = ["LOST", "PIPELINE_STAGES", "STAGE_INDEX", "WON", "stage_index"]

STAGE_INDEX: dict[str, int] = {stage: i for i, stage in enumerate(PIPELINE_STAGES)}


def stage_index(stage: str) -> int:
    """The position of `stage` in the pipeline (0 for "new"); ValidationFailed if unknown."""
    try:
        return STAGE_INDEX[stage]
    except KeyError:
        known = ", ".join(PIPELINE_STAGES)
        raise ValidationFailed(f"unknown stage {stage!r}; the stages are {known}") from None
