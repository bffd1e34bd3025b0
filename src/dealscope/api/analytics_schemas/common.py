"""Pieces shared by the dashboard responses."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict, Field


class Read(BaseModel):
    """A response model filled from the analytics layer's dataclasses."""

    model_config = ConfigDict(from_attributes=True)


class PeriodFields(Read):
    period_start: dt.date = Field(description="First day of the period (tenant's calendar).")
    period_end: dt.date = Field(description="Last day of the period, inclusive.")
    as_of: dt.date = Field(description="Figures include what happened up to the end of this day.")
    timezone: str = Field(description="The tenant's time zone, in which days and hours are read.")
