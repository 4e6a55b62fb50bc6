"""Checking, compiling and publishing a stored ruleset's text for the workspace, with the engine's own checker.

The same calls as the API's ruleset endpoints (`engine.stored` with the
tenant's reference tables, `Rulesets` for drafts and versions), so a
diagnostic here has the message, line and column `aiguillage check` and
`POST /v1/rulesets/{id}/check` give.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy.orm import Session

from aiguillage.dsl import diagnostics as dsl
from aiguillage.engine.compiled import CompiledRuleset
from aiguillage.engine.compiler import compile_ruleset
from aiguillage.engine.stored import CheckResult, stored_rulesets
from aiguillage.store.actor import Actor
from aiguillage.store.models import Ruleset, RulesetVersion
from aiguillage.store.repositories.reference import ReferenceTables
from aiguillage.store.repositories.rulesets import Rulesets


@dataclass(frozen=True)
class Report:
    """What checking a text found."""

    diagnostics: list[dsl.Diagnostic]
    result: CheckResult

    @property
    def ok(self) -> bool:
        return not any(d.severity == "error" for d in self.diagnostics)

    @property
    def errors(self) -> list[dsl.Diagnostic]:
        return [d for d in self.diagnostics if d.severity == "error"]

    def as_json(self) -> list[dict[str, object]]:
        return [{"severity": "warning" if d.severity == "warning" else "error", "line": d.line, "column": d.column,
                 "width": max(1, d.width), "message": d.message, "rendered": d.render()} for d in self.diagnostics]


    def names(self) -> dict[str, object]:
        """What the text may use beyond fields, for completion: code lists, tables with their columns, lets."""
        program = self.result.program
        if program is None:
            return {"codelists": [], "tables": {}, "lets": []}
        decls = program.decls
        tables = {name: sorted(decl.data.columns) if decl.data is not None else [c.name for c in decl.columns or []]
                  for name, decl in decls.tables.items()}
        return {"codelists": sorted(decls.codelists), "tables": tables, "lets": sorted(decls.lets)}


class HasErrors(Exception):
    """The text does not check: nothing was published."""

    def __init__(self, report: Report) -> None:
        super().__init__(f"{len(report.errors)} error(s)")
        self.report = report


def check(session: Session, tenant_id: uuid.UUID, ruleset: Ruleset, content: str) -> Report:
    """Check a text as this ruleset; also warn when its header names another customer (as the API does)."""
    result = stored_rulesets().check(ruleset.name, content, ReferenceTables(session, tenant_id))
    found = list(result.diagnostics)
    program = result.program
    if program is not None and ruleset.customer_code and program.customers \
            and ruleset.customer_code not in program.customers:
        found.append(dsl.Diagnostic(
            f"{ruleset.name}.rules", 1, 1,
            f"the header declares customer {', '.join(program.customers)} but this ruleset decides for "
            f"customer {ruleset.customer_code!r} (the ruleset's customer is what counts)", "warning",
        ))
    return Report(found, result)


def compiled(report: Report) -> CompiledRuleset:
    """The compiled program of a text that checked."""
    if not report.ok or report.result.program is None:
        raise HasErrors(report)
    return compile_ruleset(report.result.program)


def publish(session: Session, tenant_id: uuid.UUID, ruleset: Ruleset, actor: Actor, note: str | None) -> RulesetVersion:
    """Publish the draft (refused with `HasErrors` when it does not check), effective from its header's date."""
    repository = Rulesets(session, tenant_id)
    draft = repository.draft(ruleset.id)
    report = check(session, tenant_id, ruleset, draft.content if draft else "")
    if draft is not None and not report.ok:
        raise HasErrors(report)
    return repository.publish(ruleset.id, actor, effective_from=_header_effective(report.result), note=note)


def rollback(session: Session, tenant_id: uuid.UUID, ruleset: Ruleset, to: int, actor: Actor) -> RulesetVersion:
    """Publish version `to` again (refused with `HasErrors` when its text no longer checks)."""
    repository = Rulesets(session, tenant_id)
    report = check(session, tenant_id, ruleset, repository.version(ruleset.id, to).content)
    if not report.ok:
        raise HasErrors(report)
    return repository.rollback(ruleset.id, to, actor, note=f"rollback to version {to}")


def _header_effective(result: CheckResult) -> datetime | None:
    """The `effective YYYY-MM-DD` of the header, as midnight UTC, when the text has one."""
    if result.program is None:
        return None
    header = result.program.files[0].header("effective")
    value = header.values[0] if header is not None and header.values else None
    return datetime(value.year, value.month, value.day, tzinfo=UTC) if isinstance(value, date) else None
