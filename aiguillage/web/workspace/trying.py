"""Trying a ruleset text on one invoice, beside the version in force: two Decisions with explain.

The invoice is one of the tenant's stored invoices (by id, read through the
tenant-scoped repository, so another tenant's is not found), one of the
project's sample invoices (by file name, from the samples folder only), or
an uploaded file read like the API reads one.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from sqlalchemy.orm import Session

from aiguillage.demo import samples_root
from aiguillage.engine.decision import Decision
from aiguillage.engine.evaluate import evaluate
from aiguillage.engine.stored import stored_rulesets
from aiguillage.model.invoice import Invoice
from aiguillage.model.syntaxes import read_invoice
from aiguillage.store.models import Ruleset
from aiguillage.store.repositories.invoices import Invoices, invoice_from_record
from aiguillage.store.repositories.reference import ReferenceTables
from aiguillage.store.repositories.rulesets import Rulesets
from aiguillage.web.workspace import checking

SAMPLE_SUFFIXES = (".json", ".xml")
UPLOAD_LIMIT = 5 * 1024 * 1024


@dataclass(frozen=True)
class Tried:
    """The draft's decision and the version in force's (None when nothing is published), or why not."""

    invoice: str
    draft: Decision | None
    in_force: Decision | None
    in_force_number: int | None
    draft_errors: list[str]


def samples() -> list[str]:
    folder = samples_root()
    return sorted(p.name for p in folder.iterdir() if p.suffix in SAMPLE_SUFFIXES) if folder.is_dir() else []


def sample_invoice(name: str) -> Invoice:
    """A sample by file name; a name that is not one of `samples()` is a `LookupError` (no path tricks)."""
    if name not in samples():
        raise LookupError(name)
    path = samples_root() / Path(name).name
    return read_invoice(path.read_bytes(), name)


def stored_invoice(session: Session, tenant_id: uuid.UUID, invoice_id: str) -> tuple[str, Invoice]:
    record = Invoices(session, tenant_id).get(invoice_id)
    return record.number or str(record.id), invoice_from_record(record)


def uploaded_invoice(data: bytes, filename: str) -> Invoice:
    return read_invoice(data, filename, limit=UPLOAD_LIMIT)


def try_text(session: Session, tenant_id: uuid.UUID, ruleset: Ruleset, text: str, label: str, invoice: Invoice,
             lang: str) -> Tried:
    """Evaluate the invoice with `text` and with the version in force, on the invoice's issue date."""
    today = invoice.issue_date or date.today()
    report = checking.check(session, tenant_id, ruleset, text)
    draft = None
    if report.ok:
        draft = evaluate(invoice, checking.compiled(report), lang=lang, explain=True, today=today)
    active = Rulesets(session, tenant_id).active_version(ruleset.id)
    in_force = None
    if active is not None:
        compiled = stored_rulesets().compiled(ruleset.name, active.content, active.content_hash,
                                              ReferenceTables(session, tenant_id))
        in_force = evaluate(invoice, compiled, lang=lang, explain=True, today=today)
    return Tried(label, draft, in_force, active.number if active else None, [d.render() for d in report.errors])
