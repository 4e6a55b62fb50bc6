"""Decision bodies: what `POST /v1/evaluate` answers, and a stored decision as invoices show it.

The engine's `Decision` is already a pydantic model; the API adds which
customer it was for and which stored ruleset version decided, because that
is what makes a decision replayable and explainable later.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from aiguillage.api.schemas.common import Request
from aiguillage.engine.decision import Decision


class RulesetRef(BaseModel):
    """The ruleset version that decided: stored (tenant's) or standard (shipped with the code)."""

    name: str
    version: int | None = Field(description="The stored version number; null for a standard ruleset")
    version_id: uuid.UUID | None = None
    content_hash: str | None = Field(None, description="SHA-256 of the stored text")
    standard: bool = Field(description="True when no stored ruleset applied and the standard one decided")


class Evaluation(Decision):
    """The Decision, with the customer it was taken for and the ruleset version that took it."""

    customer: str | None = Field(None, description="The customer's code, when the invoice's customer is known")
    ruleset: RulesetRef


class EvaluateQuery(Request):
    """Options of a dry run."""

    customer: str | None = Field(None, max_length=64, description="The customer's code; default: matched from the buyer")
    explain: bool = Field(False, description="Record, per rule, whether it fired and the values that decided it")
    lang: str = Field("en", pattern=r"^[a-z]{2}(-[A-Za-z0-9]{2,8})?$", description="Language of the messages (en, fr)")


class StoredDecision(BaseModel):
    """A decision as recorded for an invoice."""

    id: uuid.UUID
    outcome: str = Field(description="queued, held, rejected or unrouted")
    ruleset_version_id: uuid.UUID | None
    ruleset_hash: str | None
    created_at: datetime
    result: dict[str, Any] = Field(description="The full Decision (findings, enrichments, routes, holds)")
