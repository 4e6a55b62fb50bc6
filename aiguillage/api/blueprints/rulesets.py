"""Rulesets: list, read, create, save the draft (checked on save), check, test, publish, roll back, diff.

Analysts work on one draft per ruleset; publishing turns it into the next
immutable version (text, hash, author from the key, time, effective date)
and refuses a text with errors (422, with every diagnostic and its line and
column). Every server worker uses a new version on its next request: they
look the version in force up per request and compile by content hash
(`engine.stored`).
"""

from __future__ import annotations

import difflib
import uuid
from collections.abc import Iterable
from datetime import UTC, date, datetime

from flask import Blueprint, url_for

from aiguillage.api import database
from aiguillage.api.auth import current_principal
from aiguillage.api.endpoint import endpoint
from aiguillage.api.problems import Problem
from aiguillage.api.roles import READ_RULESETS, WRITE_RULESETS
from aiguillage.api.ruleset_tests import run_cases
from aiguillage.api.schemas.rulesets import (
    CheckReport,
    CheckRequest,
    Diagnostic,
    DiffQuery,
    DiffResult,
    Draft,
    DraftSave,
    PublishRequest,
    RollbackRequest,
    RulesetCreate,
    RulesetDetail,
    RulesetList,
    RulesetPatch,
    RulesetQuery,
    RulesetSaved,
    RulesetSummary,
    TestReport,
    TestRequest,
    Version,
    VersionSummary,
)
from aiguillage.dsl import diagnostics as dsl
from aiguillage.engine.compiler import compile_ruleset
from aiguillage.engine.stored import CheckResult, stored_rulesets
from aiguillage.store.errors import Conflict, Invalid
from aiguillage.store.models import Ruleset, RulesetVersion
from aiguillage.store.repositories.customers import Customers
from aiguillage.store.repositories.reference import ReferenceTables
from aiguillage.store.repositories.rulesets import Rulesets

blueprint = Blueprint("rulesets", __name__, url_prefix="/v1/rulesets")


def _repository() -> Rulesets:
    return Rulesets(database.session(), current_principal().tenant_id)


# --------------------------------------------------------------------------- views of stored rows


def _summary(repository: Rulesets, ruleset: Ruleset) -> RulesetSummary:
    active = repository.active_version(ruleset.id)
    latest = repository.latest_version(ruleset.id)
    return RulesetSummary(
        id=ruleset.id, name=ruleset.name, customer=ruleset.customer_code, created_at=ruleset.created_at,
        created_by=ruleset.created_by, active_version=active.number if active else None,
        latest_version=latest.number if latest else None, has_draft=repository.draft(ruleset.id) is not None,
    )


def _version(version: RulesetVersion, active: int | None, *, with_content: bool = False) -> VersionSummary:
    values = {
        "number": version.number, "content_hash": version.content_hash, "author": version.author,
        "published_at": version.published_at, "effective_from": version.effective_from,
        "source_version": version.source_version, "note": version.note, "active": version.number == active,
    }
    return Version(**values, content=version.content) if with_content else VersionSummary(**values)


def _detail(repository: Rulesets, ruleset: Ruleset) -> RulesetDetail:
    summary = _summary(repository, ruleset)
    draft = repository.draft(ruleset.id)
    return RulesetDetail(
        **summary.model_dump(),
        draft=None if draft is None else Draft(
            content=draft.content, content_hash=draft.content_hash, base_version=draft.base_version,
            updated_at=draft.updated_at, updated_by=draft.updated_by,
        ),
        versions=[_version(v, summary.active_version) for v in repository.versions(ruleset.id)],
    )


# --------------------------------------------------------------------------- checking


def check_text(ruleset: Ruleset, content: str) -> tuple[CheckReport, CheckResult]:
    """Check a text as this ruleset; also warn when its header names other customers."""
    result = stored_rulesets().check(ruleset.name, content, ReferenceTables(database.session(), current_principal().tenant_id))
    found = list(result.diagnostics)
    if result.program is not None and ruleset.customer_code and result.program.customers \
            and ruleset.customer_code not in result.program.customers:
        found.append(dsl.Diagnostic(
            f"{ruleset.name}.rules", 1, 1,
            f"the header declares customer {', '.join(result.program.customers)} but this ruleset decides for "
            f"customer {ruleset.customer_code!r} (the ruleset's customer is what counts)", "warning",
        ))
    report = CheckReport(
        ok=result.ok,
        diagnostics=[_diagnostic(d) for d in found],
        rule_count=compile_ruleset(result.program).rule_count() if result.ok and result.program else None,
    )
    return report, result


def _diagnostic(d: dsl.Diagnostic) -> Diagnostic:
    return Diagnostic(severity="warning" if d.severity == "warning" else "error", line=d.line, column=d.column,
                      message=d.message, file=d.file, rendered=d.render())


def _refuse_errors(report: CheckReport, what: str) -> None:
    if not report.ok:
        errors = [d for d in report.diagnostics if d.severity == "error"]
        first = errors[0] if errors else None
        where = f" (first at line {first.line}, column {first.column}: {first.message})" if first else ""
        raise Problem(422, f"{what} has {len(errors)} error(s){where}", type="ruleset-errors",
                      title="The ruleset has errors", diagnostics=[d.model_dump() for d in report.diagnostics])


# --------------------------------------------------------------------------- endpoints


@blueprint.get("")
@endpoint(summary="List rulesets", roles=READ_RULESETS, query=RulesetQuery, responses={200: RulesetList})
def list_rulesets(query: RulesetQuery) -> RulesetList:
    repository = _repository()
    return RulesetList(items=[_summary(repository, r) for r in repository.all(customer_code=query.customer)])


@blueprint.post("")
@endpoint(
    summary="Create a ruleset",
    description="`customer` (a customer's code) makes it the ruleset that decides that customer's invoices; "
    "a ruleset named `default` without a customer decides for customers without one. With `content`, the "
    "draft is saved and checked at once.",
    roles=WRITE_RULESETS,
    body=RulesetCreate,
    responses={201: RulesetSaved},
    problems={409: "the name is taken, or the customer already has a ruleset"},
)
def create_ruleset(body: RulesetCreate) -> tuple[RulesetSaved, int, dict[str, str]]:
    repository = _repository()
    principal = current_principal()
    _check_customer(repository, body.customer)
    ruleset = repository.create(body.name, principal.actor, customer_code=body.customer, content=body.content)
    report = check_text(ruleset, body.content)[0] if body.content is not None else None
    location = url_for("rulesets.get_ruleset", ruleset_id=ruleset.id)
    return RulesetSaved(**_detail(repository, ruleset).model_dump(), check=report), 201, {"Location": location}


@blueprint.get("/<uuid:ruleset_id>")
@endpoint(summary="Read a ruleset, its draft and its versions", roles=READ_RULESETS, responses={200: RulesetDetail})
def get_ruleset(ruleset_id: uuid.UUID) -> RulesetDetail:
    repository = _repository()
    return _detail(repository, repository.get(ruleset_id))


@blueprint.patch("/<uuid:ruleset_id>")
@endpoint(summary="Change which customer the ruleset decides for", roles=WRITE_RULESETS, body=RulesetPatch,
          responses={200: RulesetDetail}, problems={409: "the customer already has another ruleset"})
def update_ruleset(ruleset_id: uuid.UUID, body: RulesetPatch) -> RulesetDetail:
    repository = _repository()
    ruleset = repository.get(ruleset_id)
    if body.customer != ruleset.customer_code:
        _check_customer(repository, body.customer)
        repository.assign_customer(ruleset.id, body.customer, current_principal().actor)
    return _detail(repository, ruleset)


@blueprint.put("/<uuid:ruleset_id>/draft")
@endpoint(summary="Save the draft", description="Saved even with errors (it is work in progress); the answer "
          "carries what checking it found, with lines and columns.",
          roles=WRITE_RULESETS, body=DraftSave, responses={200: RulesetSaved})
def save_draft(ruleset_id: uuid.UUID, body: DraftSave) -> RulesetSaved:
    repository = _repository()
    ruleset = repository.get(ruleset_id)
    repository.save_draft(ruleset.id, body.content, current_principal().actor)
    report, _ = check_text(ruleset, body.content)
    return RulesetSaved(**_detail(repository, ruleset).model_dump(), check=report)


@blueprint.delete("/<uuid:ruleset_id>/draft")
@endpoint(summary="Discard the draft", roles=WRITE_RULESETS, responses={204: None})
def discard_draft(ruleset_id: uuid.UUID) -> None:
    _repository().discard_draft(ruleset_id, current_principal().actor)


@blueprint.post("/<uuid:ruleset_id>/check")
@endpoint(summary="Check a text (default: the draft)", roles=WRITE_RULESETS, body=CheckRequest,
          responses={200: CheckReport}, problems={409: "no text given and the ruleset has no draft"})
def check_ruleset(ruleset_id: uuid.UUID, body: CheckRequest) -> CheckReport:
    repository = _repository()
    ruleset = repository.get(ruleset_id)
    return check_text(ruleset, body.content if body.content is not None else _draft_text(repository, ruleset))[0]


@blueprint.post("/<uuid:ruleset_id>/test")
@endpoint(summary="Run test cases against the draft or a version", roles=WRITE_RULESETS, body=TestRequest,
          responses={200: TestReport},
          problems={409: "no draft to test", 422: "the ruleset has errors: nothing to run"})
def test_ruleset(ruleset_id: uuid.UUID, body: TestRequest) -> TestReport:
    repository = _repository()
    ruleset = repository.get(ruleset_id)
    text = repository.version(ruleset.id, body.version).content if body.version else _draft_text(repository, ruleset)
    report, result = check_text(ruleset, text)
    _refuse_errors(report, "the text under test")
    assert result.program is not None
    return run_cases(compile_ruleset(result.program), body.cases)


@blueprint.post("/<uuid:ruleset_id>/publish")
@endpoint(
    summary="Publish the draft as a new version",
    description="The new version is immutable; it decides from `effective_from` (default: the header's "
    "`effective` date, else now). Every server worker uses it on its next request.",
    roles=WRITE_RULESETS, body=PublishRequest, responses={201: Version},
    problems={409: "no draft, or a version was published since the draft was started", 422: "the draft has errors"},
)
def publish_ruleset(ruleset_id: uuid.UUID, body: PublishRequest) -> tuple[Version, int, dict[str, str]]:
    repository = _repository()
    ruleset = repository.get(ruleset_id)
    report, result = check_text(ruleset, _draft_text(repository, ruleset))
    _refuse_errors(report, "the draft")
    effective = body.effective_from or _header_effective(result)
    version = repository.publish(ruleset.id, current_principal().actor, effective_from=effective, note=body.note)
    return _published(repository, ruleset, version)


@blueprint.post("/<uuid:ruleset_id>/rollback")
@endpoint(summary="Publish an older version's text again, as a new version effective now",
          roles=WRITE_RULESETS, body=RollbackRequest, responses={201: Version},
          problems={409: "the latest version already has that text", 422: "that text no longer checks"})
def rollback_ruleset(ruleset_id: uuid.UUID, body: RollbackRequest) -> tuple[Version, int, dict[str, str]]:
    repository = _repository()
    ruleset = repository.get(ruleset_id)
    report, _ = check_text(ruleset, repository.version(ruleset.id, body.to).content)
    _refuse_errors(report, f"version {body.to}")
    version = repository.rollback(ruleset.id, body.to, current_principal().actor, note=body.note)
    return _published(repository, ruleset, version)


@blueprint.get("/<uuid:ruleset_id>/versions/<int:number>")
@endpoint(summary="Read one version with its text", roles=READ_RULESETS, responses={200: Version})
def get_version(ruleset_id: uuid.UUID, number: int) -> Version:
    repository = _repository()
    ruleset = repository.get(ruleset_id)
    if number > 2**31 - 1:
        raise Problem(404, f"ruleset {ruleset.name!r} has no version {number}")
    active = repository.active_version(ruleset.id)
    return _version(repository.version(ruleset.id, number), active.number if active else None, with_content=True)


@blueprint.get("/<uuid:ruleset_id>/diff")
@endpoint(summary="Unified diff of two versions (or of a version and the draft)", roles=READ_RULESETS,
          query=DiffQuery, responses={200: DiffResult}, problems={409: "no draft to compare with"})
def diff_versions(ruleset_id: uuid.UUID, query: DiffQuery) -> DiffResult:
    repository = _repository()
    ruleset = repository.get(ruleset_id)
    old = repository.version(ruleset.id, query.from_).content
    new = repository.version(ruleset.id, query.to).content if query.to is not None else _draft_text(repository, ruleset)
    to_label = f"{ruleset.name} version {query.to}" if query.to is not None else f"{ruleset.name} draft"
    lines = difflib.unified_diff(
        old.splitlines(keepends=True), new.splitlines(keepends=True),
        fromfile=f"{ruleset.name} version {query.from_}", tofile=to_label,
    )
    return DiffResult(from_version=query.from_, to_version=query.to, diff="".join(_terminated(lines)))


# --------------------------------------------------------------------------- helpers


def _check_customer(repository: Rulesets, code: str | None) -> None:
    """A ruleset's customer must exist, and a customer has one ruleset (so which one decides is never in doubt)."""
    if code is None:
        return
    if Customers(repository.session, repository.tenant_id).find_code(code) is None:
        raise Invalid(f"no customer with code {code!r}: create the customer first", pointer="/customer")
    taken = repository.all(customer_code=code)
    if taken:
        raise Conflict(f"customer {code!r} already has ruleset {taken[0].name!r}; a customer has one")


def _draft_text(repository: Rulesets, ruleset: Ruleset) -> str:
    draft = repository.draft(ruleset.id)
    if draft is None:
        raise Conflict(f"ruleset {ruleset.name!r} has no draft: save one first")
    return draft.content


def _header_effective(result: CheckResult) -> datetime | None:
    """The `effective YYYY-MM-DD` of the header, as midnight UTC, when the text has one."""
    if result.program is None:
        return None
    header = result.program.files[0].header("effective")
    value = header.values[0] if header is not None and header.values else None
    return datetime(value.year, value.month, value.day, tzinfo=UTC) if isinstance(value, date) else None


def _published(repository: Rulesets, ruleset: Ruleset, version: RulesetVersion) -> tuple[Version, int, dict[str, str]]:
    active = repository.active_version(ruleset.id)
    body = _version(version, active.number if active else None, with_content=True)
    location = url_for("rulesets.get_version", ruleset_id=ruleset.id, number=version.number)
    return body, 201, {"Location": location}


def _terminated(lines: Iterable[str]) -> list[str]:
    """Diff lines, each ending in a newline (a text without a final newline would run two together)."""
    return [line if line.endswith("\n") else line + "\n\\ No newline at end of file\n" for line in lines]
