"""The Decision: everything a ruleset concluded about one invoice.

A pydantic model, JSON-serialisable, and deterministic for (invoice, ruleset
versions, reference data, evaluation date): findings are ordered by rule
order then occurrence, and nothing depends on timing except `timings`.
"""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Severity = Literal["fatal", "error", "warning", "info"]
#: Severities that make an invoice unfit to send.
BLOCKING = ("fatal", "error")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")

    @classmethod
    def build(cls, **values: Any) -> Any:
        """Construct from trusted values without validation, every field given.

        The engine builds thousands of these per explained invoice; pydantic's
        `model_construct` spends most of its time on defaults we always pass.
        """
        obj = cls.__new__(cls)
        object.__setattr__(obj, "__dict__", values)
        object.__setattr__(obj, "__pydantic_fields_set__", set(values))
        object.__setattr__(obj, "__pydantic_extra__", None)
        object.__setattr__(obj, "__pydantic_private__", None)
        return obj


class Finding(_Model):
    """One rule that did not hold, for one occurrence."""

    rule: str
    severity: Severity
    message: str
    #: The first field involved (`lines[3].net_amount`), when there is one.
    path: str | None = None
    paths: list[str] = Field(default_factory=list)
    #: Business term ids of the fields involved (`BT-131`).
    bt_ids: list[str] = Field(default_factory=list)
    #: Which occurrence: "line 3", "VAT breakdown S/20", "line 2, allowance 1".
    occurrence: str | None = None
    ruleset: str
    ruleset_version: str


class Enrichment(_Model):
    """One field written by an enrich rule."""

    rule: str
    field: str
    old: Any = None
    new: Any = None
    ruleset: str


class Route(_Model):
    """One way to send the invoice."""

    channel: str
    format: str | None = None
    to: str | None = None
    params: dict[str, Any] = Field(default_factory=dict)
    #: Which route line or decision-table row chose it.
    source: str = ""


class Hold(_Model):
    """Something that must happen before sending: an approval by a role, or a hold with a reason."""

    kind: Literal["approval", "hold"]
    role: str | None = None
    reason: str | None = None
    source: str = ""
    #: An approval's workflow settings (`approval by "finance" with (escalate_after = "48h", ...)`).
    params: dict[str, Any] = Field(default_factory=dict)


class RulesetUsed(_Model):
    name: str
    version: str


class Timings(_Model):
    """Microseconds spent per phase (the only part of a Decision that varies between runs)."""

    enrich_us: float = 0.0
    validate_us: float = 0.0
    route_us: float = 0.0
    total_us: float = 0.0


class ExplainOccurrence(_Model):
    occurrence: str | None = None
    #: False when `when` (or the `for each ... where`) excluded it.
    applicable: bool = True
    #: Whether the assert held (validate), or the rule wrote (enrich), or the route matched.
    passed: bool | None = None
    #: The values that decided it, as "expression": value.
    values: dict[str, Any] = Field(default_factory=dict)


class ExplainEntry(_Model):
    """What one rule did: fired or not, per occurrence, and why."""

    rule: str
    kind: Literal["enrich", "validate", "route"]
    ruleset: str
    fired: bool
    occurrences: list[ExplainOccurrence] = Field(default_factory=list)


class Decision(_Model):
    file: str | None = None
    findings: list[Finding] = Field(default_factory=list)
    enrichments: list[Enrichment] = Field(default_factory=list)
    routes: list[Route] = Field(default_factory=list)
    holds: list[Hold] = Field(default_factory=list)
    rulesets: list[RulesetUsed] = Field(default_factory=list)
    today: date
    timings: Timings = Field(default_factory=Timings)
    explain: list[ExplainEntry] | None = None

    @property
    def has_errors(self) -> bool:
        return any(f.severity in BLOCKING for f in self.findings)

    def rules_fired(self) -> list[str]:
        return sorted({f.rule for f in self.findings})
