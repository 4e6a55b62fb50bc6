"""Ruleset bodies: rulesets, their draft and immutable versions, checks, tests, diffs."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, Field

from aiguillage.api.schemas.common import Request

#: Largest ruleset text accepted (a big standard ruleset is ~200 KB).
MAX_CONTENT = 1_000_000

Name = Field(pattern=r"^[a-z0-9][a-z0-9._-]{0,99}$", description="Lower-case letters, digits, '.', '-', '_'")


class Diagnostic(BaseModel):
    """One problem in a ruleset text, where it is."""

    severity: Literal["error", "warning"]
    line: int
    column: int
    message: str
    file: str = Field(description="The file named in the text: the ruleset itself, or a ruleset it extends")
    rendered: str = Field(description="FILE:LINE:COL: message, the line and a caret, as the CLI prints it")


class CheckReport(BaseModel):
    """What checking a text found."""

    ok: bool = Field(description="True when it has no errors (warnings allowed): it can be published")
    diagnostics: list[Diagnostic]
    rule_count: int | None = Field(None, description="Rules in force, counting what it extends, when it checks")


class RulesetCreate(Request):
    """A new ruleset; give its text to start a draft at once."""

    name: str = Name
    customer: str | None = Field(None, max_length=64, description="The customer's code this ruleset decides for")
    content: str | None = Field(None, max_length=MAX_CONTENT)


class RulesetPatch(Request):
    """Which customer the ruleset decides for (`null`: none)."""

    customer: str | None = Field(max_length=64, description="The customer's code, or null")


class DraftSave(Request):
    """The draft's new text."""

    content: str = Field(max_length=MAX_CONTENT)


class CheckRequest(Request):
    """Text to check; the ruleset's draft when left out."""

    content: str | None = Field(None, max_length=MAX_CONTENT)


class PublishRequest(Request):
    """Options of a publication."""

    effective_from: AwareDatetime | None = Field(
        None, description="From when the version decides (with a time zone); default: the header's `effective` date, else now"
    )
    note: str | None = Field(None, max_length=2000)


class RollbackRequest(Request):
    """Which version's text to publish again."""

    to: int = Field(ge=1, le=2**31 - 1, description="The version number to go back to")
    note: str | None = Field(None, max_length=2000)


class VersionSummary(BaseModel):
    """A published version (immutable)."""

    number: int
    content_hash: str
    author: str
    published_at: datetime
    effective_from: datetime
    source_version: int | None = Field(description="For a rollback: the version whose text it copies")
    note: str | None
    active: bool = Field(description="True for the version deciding now")


class Version(VersionSummary):
    """A published version with its text."""

    content: str


class Draft(BaseModel):
    """The work in progress."""

    content: str
    content_hash: str
    base_version: int | None
    updated_at: datetime
    updated_by: str


class RulesetSummary(BaseModel):
    """A ruleset in a listing."""

    id: uuid.UUID
    name: str
    customer: str | None
    created_at: datetime
    created_by: str
    active_version: int | None
    latest_version: int | None
    has_draft: bool


class RulesetDetail(RulesetSummary):
    """A ruleset with its draft and every version."""

    draft: Draft | None
    versions: list[VersionSummary]


class RulesetSaved(RulesetDetail):
    """A ruleset after a draft was saved, with what checking the draft found."""

    check: CheckReport | None


class RulesetList(BaseModel):
    """The tenant's rulesets, by name."""

    items: list[RulesetSummary]


class RulesetQuery(Request):
    """Filter rulesets."""

    customer: str | None = Field(None, max_length=64, description="Only the rulesets of this customer")


class TestExpectation(Request):
    """What a case expects; every field left out is not checked."""

    valid: bool | None = Field(None, description="True: no error or fatal finding; False: at least one")
    fires: list[str] = Field(default_factory=list, max_length=500, description="Rule ids that must have findings")
    silent: list[str] = Field(default_factory=list, max_length=500, description="Rule ids that must not")
    routes: list[str] | None = Field(None, max_length=50, description="The channels, in order (exactly)")
    holds: list[Literal["approval", "hold"]] | None = Field(None, max_length=50, description="The holds' kinds, in order")
    enriched: dict[str, Any] = Field(default_factory=dict, description="Field path → value written by enrich rules")


class TestCase(Request):
    """One invoice and what the ruleset must conclude about it."""

    name: str = Field(min_length=1, max_length=200)
    invoice: str | dict[str, Any] = Field(description="UBL or CII XML as text, or the invoice's JSON")
    today: date | None = Field(None, description="Evaluation date (default: today)")
    expect: TestExpectation = Field(default_factory=TestExpectation)


class TestRequest(Request):
    """Cases to run against the draft (default) or a published version."""

    cases: list[TestCase] = Field(max_length=200)
    version: int | None = Field(None, ge=1, le=2**31 - 1, description="A published version; default: the draft")


class CaseResult(BaseModel):
    """How one case went."""

    name: str
    passed: bool
    failures: list[str] = Field(description="Each expectation not met, in words")
    rules_fired: list[str]
    routes: list[str]


class TestReport(BaseModel):
    """How the cases went."""

    passed: int
    failed: int
    cases: list[CaseResult]


class DiffQuery(Request):
    """Two versions to compare (`to` may be left out for the draft)."""

    from_: int = Field(alias="from", ge=1, le=2**31 - 1, description="The older version number")
    to: int | None = Field(None, ge=1, le=2**31 - 1, description="The newer version number; default: the draft")


class DiffResult(BaseModel):
    """A unified diff of two texts."""

    from_version: int
    to_version: int | None = Field(description="Null for the draft")
    diff: str = Field(description="Unified diff; empty when the texts are the same")
