"""Argument types shared by the commerce tools (descriptions are what the model reads)."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field

Site = Annotated[str, Field(description="Site id the call acts on, e.g. 'us', 'de', 'jp'")]
Limit = Annotated[int, Field(ge=1, le=500, description="Page size (at most 500)")]
Offset = Annotated[int, Field(ge=0, description="Rows to skip, for the next page")]
Descending = Annotated[bool, Field(description="Sort from largest to smallest")]
StartDate = Annotated[str | None, Field(description="First day, ISO date (default: 30 days before end_date)")]
EndDate = Annotated[str | None, Field(description="Last day, ISO date (default: today)")]
PiiGrant = Annotated[
    str | None,
    Field(description="PII grant from the console; without one, emails and phones are masked"),
]

DryRun = Annotated[bool, Field(description="Only describe the change (before → after); needs no approval")]
Token = Annotated[str | None, Field(description="Approval token from the console; required unless dry_run")]
IdemKey = Annotated[str | None, Field(description="Idempotency key: a repeated delivery is not applied twice")]
Before = Annotated[dict[str, Any] | None, Field(description="Values the approver saw; a mismatch answers CONFLICT")]
