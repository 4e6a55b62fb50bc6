"""Invoices and their decisions: store first, idempotently.

`receive` is what `POST /v1/invoices` calls before it answers anything: the
bytes as received and the model read from them are written (status
`received`) in the caller's transaction, so once that commits the invoice
cannot be lost, whatever happens to evaluation or dispatch.

Submitting the same invoice again is safe, two ways:

- the same `Idempotency-Key` returns the invoice first stored under it; the
  same key with a different invoice is a `Conflict` (a client bug);
- the same (seller, invoice number) returns the invoice already stored when
  its business content is the same (a resend, perhaps re-serialised by the
  ERP), and is a `DuplicateInvoiceNumber` conflict when it differs: two
  different invoices must not share a number.

"The same" compares a hash of the model's business terms, not the bytes, so
whitespace, attribute order or a different syntax do not matter. Concurrent
submissions are settled by the unique constraints: the loser's insert fails
inside a savepoint and it returns the winner's row.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from aiguillage.model.invoice import Invoice, business_content
from aiguillage.store.actor import Actor
from aiguillage.store.base import utcnow
from aiguillage.store.errors import Conflict, Invalid, NotFound
from aiguillage.store.hashing import json_sha256, sha256_hex
from aiguillage.store.models import DecisionRecord, InvoiceRecord
from aiguillage.store.repositories.audit import AuditLog
from aiguillage.store.repositories.base import TenantScoped, page_size
from aiguillage.store.vocabulary import InvoiceStatus

#: Longest Idempotency-Key accepted (the column's width).
MAX_IDEMPOTENCY_KEY = 255


class IdempotencyKeyReused(Conflict):
    """The Idempotency-Key was first used for a different invoice."""

    def __init__(self, message: str, existing_id: uuid.UUID) -> None:
        super().__init__(message)
        #: The invoice already stored (an id: the error outlives the session).
        self.existing_id = existing_id


class DuplicateInvoiceNumber(Conflict):
    """Another invoice with different content already has this seller and number."""

    def __init__(self, message: str, existing_id: uuid.UUID) -> None:
        super().__init__(message)
        #: The invoice already stored (an id: the error outlives the session).
        self.existing_id = existing_id


@dataclass(frozen=True)
class Receipt:
    """The outcome of `receive`: the stored invoice, and whether this call stored it."""

    invoice: InvoiceRecord
    created: bool


def seller_key(invoice: Invoice) -> str:
    """Who issued the invoice, as one string; invoice numbers are unique per seller.

    The most stable identifier the invoice carries wins: VAT id (BT-31), then
    legal registration id (BT-30), then the first seller id (BT-29), then the
    electronic address (BT-34), then the name (BT-27). "" when there is none,
    so a tenant's numbers are then unique across its unnamed seller.
    """
    seller = invoice.seller
    if seller is None:
        return ""
    candidates = [
        ("vat", seller.vat_identifier),
        ("legal", _identifier_text(seller.legal_registration_identifier)),
        ("id", _identifier_text(seller.identifiers[0]) if seller.identifiers else None),
        ("address", _identifier_text(seller.electronic_address)),
        ("name", seller.name),
    ]
    for kind, value in candidates:
        if value and value.strip():
            return f"{kind}:{value.strip()}"[:300]
    return ""


def _identifier_text(identifier: Any) -> str | None:
    if identifier is None or not identifier.value:
        return None
    return f"{identifier.scheme}:{identifier.value}" if identifier.scheme else identifier.value


def model_document(invoice: Invoice) -> dict[str, Any]:
    """The model as JSON-ready data: amounts and dates as strings, empty values left out."""
    return invoice.model_dump(mode="json", exclude_none=True)


def business_hash(document: dict[str, Any]) -> str:
    """Hash of the business terms only (not where or how the invoice was read, nor what its
    syntax's binding said): the same invoice in UBL and in CII hashes the same."""
    return json_sha256(business_content(document))


def invoice_from_record(record: InvoiceRecord) -> Invoice:
    """The model back from its stored JSON (Decimals exact, from their strings)."""
    return Invoice.model_validate(record.model)


def invoice_values(tenant_id: uuid.UUID, invoice: Invoice, document: bytes, actor: Actor, *,
                   content_type: str | None = None, idempotency_key: str | None = None,
                   customer_code: str | None = None, lang: str | None = None) -> dict[str, Any]:
    """Every column of a new `received` invoice row, id and times included (the ORM and the lean path share it)."""
    model = model_document(invoice)
    totals = invoice.totals
    now = utcnow()
    return {
        "id": uuid.uuid4(),
        "tenant_id": tenant_id,
        "idempotency_key": idempotency_key,
        "seller_key": seller_key(invoice),
        "number": (invoice.number or "").strip()[:200] or None,
        "syntax": invoice.provenance.syntax if invoice.provenance else "json",
        "content_type": content_type,
        "document": document,
        "document_sha256": sha256_hex(document),
        "model": model,
        "model_sha256": business_hash(model),
        "customer_code": customer_code,
        "issue_date": invoice.issue_date,
        "currency_code": (invoice.currency_code or None) and invoice.currency_code[:3],
        "amount_with_vat": totals.amount_with_vat if totals else None,
        "status": InvoiceStatus.RECEIVED.value,
        "received_at": now,
        "updated_at": now,
        "received_by": actor.name,
        "lang": lang,
    }


def check_idempotency_key(idempotency_key: str | None) -> None:
    """`Invalid` for a key the column cannot hold."""
    if idempotency_key is not None and not 1 <= len(idempotency_key) <= MAX_IDEMPOTENCY_KEY:
        raise Invalid(f"an Idempotency-Key is 1 to {MAX_IDEMPOTENCY_KEY} characters")


class Invoices(TenantScoped):
    """A tenant's invoices and the decisions taken on them."""

    noun = "invoice"

    def receive(
        self,
        invoice: Invoice,
        document: bytes,
        actor: Actor,
        *,
        content_type: str | None = None,
        idempotency_key: str | None = None,
        customer_code: str | None = None,
        lang: str | None = None,
    ) -> Receipt:
        """Store a submitted invoice (status `received`), or return the one it repeats.

        `lang` is the language the decision's messages were asked in (kept for the recovery pass).
        """
        check_idempotency_key(idempotency_key)
        values = invoice_values(self.tenant_id, invoice, document, actor, content_type=content_type,
                                idempotency_key=idempotency_key, customer_code=customer_code, lang=lang)
        existing = self._existing(idempotency_key, values["seller_key"], values["number"], values["model_sha256"])
        if existing is not None:
            return Receipt(existing, created=False)
        record = InvoiceRecord(**values)
        seller, number, fingerprint = values["seller_key"], values["number"], values["model_sha256"]
        try:
            with self.session.begin_nested():
                self.session.add(record)
        except IntegrityError:
            # A concurrent submission of the same invoice won the race: answer with its row.
            existing = self._existing(idempotency_key, seller, number, fingerprint)
            if existing is None:
                raise
            return Receipt(existing, created=False)
        self._audit(
            actor,
            "invoice.receive",
            record.id,
            {"number": number, "syntax": record.syntax, "idempotency_key": idempotency_key},
        )
        return Receipt(record, created=True)

    def _existing(
        self, idempotency_key: str | None, seller: str, number: str | None, fingerprint: str
    ) -> InvoiceRecord | None:
        if idempotency_key is not None:
            by_key = self.session.scalars(
                select(InvoiceRecord).where(
                    InvoiceRecord.tenant_id == self.tenant_id, InvoiceRecord.idempotency_key == idempotency_key
                )
            ).one_or_none()
            if by_key is not None:
                if by_key.model_sha256 != fingerprint:
                    raise IdempotencyKeyReused(
                        f"Idempotency-Key {idempotency_key!r} was already used for another invoice "
                        f"({by_key.id}); use a new key for a new invoice",
                        by_key.id,
                    )
                return by_key
        if number is None:
            return None
        by_number = self.session.scalars(
            select(InvoiceRecord).where(
                InvoiceRecord.tenant_id == self.tenant_id,
                InvoiceRecord.seller_key == seller,
                InvoiceRecord.number == number,
            )
        ).one_or_none()
        if by_number is not None and by_number.model_sha256 != fingerprint:
            raise DuplicateInvoiceNumber(
                f"invoice number {number!r} of this seller was already submitted ({by_number.id}) "
                "with different content; an invoice number is used once",
                by_number.id,
            )
        return by_number

    def get(self, invoice_id: uuid.UUID | str) -> InvoiceRecord:
        """The invoice with that id, or `NotFound` (also for another tenant's id).

        Looked up in the session first: deciding one invoice asks for it a
        dozen times, and a query would return the same object anyway.
        """
        wanted = invoice_id if isinstance(invoice_id, uuid.UUID) else None
        if wanted is not None:
            record = self.session.get(InvoiceRecord, wanted)
            if record is None or record.tenant_id != self.tenant_id:
                raise NotFound(f"no invoice with id {invoice_id}")
            return record
        return self._get(InvoiceRecord, invoice_id)

    def page(
        self,
        *,
        status: str | None = None,
        customer_code: str | None = None,
        issued_from: date | None = None,
        issued_to: date | None = None,
        received_from: datetime | None = None,
        received_to: datetime | None = None,
        before: tuple[datetime, uuid.UUID] | None = None,
        limit: int | None = None,
        number_contains: str | None = None,
    ) -> list[InvoiceRecord]:
        """Invoices, newest first; `before` (received_at, id) of the last row continues.

        `number_contains` finds invoices whose number contains the text (case-insensitive; the portal's search).
        """
        query = select(InvoiceRecord).where(InvoiceRecord.tenant_id == self.tenant_id)
        if number_contains:
            escaped = number_contains.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            query = query.where(InvoiceRecord.number.ilike(f"%{escaped}%", escape="\\"))
        if status is not None:
            query = query.where(InvoiceRecord.status == status)
        if customer_code is not None:
            query = query.where(InvoiceRecord.customer_code == customer_code)
        if issued_from is not None:
            query = query.where(InvoiceRecord.issue_date >= issued_from)
        if issued_to is not None:
            query = query.where(InvoiceRecord.issue_date <= issued_to)
        if received_from is not None:
            query = query.where(InvoiceRecord.received_at >= received_from)
        if received_to is not None:
            query = query.where(InvoiceRecord.received_at < received_to)
        if before is not None:
            at, last_id = before
            query = query.where(
                (InvoiceRecord.received_at < at) | ((InvoiceRecord.received_at == at) & (InvoiceRecord.id < last_id))
            )
        query = query.order_by(InvoiceRecord.received_at.desc(), InvoiceRecord.id.desc())
        return list(self.session.scalars(query.limit(page_size(limit))))

    def set_status(
        self, invoice_id: uuid.UUID | str, status: InvoiceStatus | str, actor: Actor, *, reason: str | None = None
    ) -> InvoiceRecord:
        """Move the invoice to a new status; the audit entry records from what and why."""
        record = self.get(invoice_id)
        new = InvoiceStatus(status).value
        if record.status != new:
            old = record.status
            record.status, record.updated_at = new, utcnow()
            self.session.flush()
            self._audit(actor, "invoice.status", record.id, {"from": old, "to": new, "reason": reason})
        return record

    def record_decision(
        self,
        invoice_id: uuid.UUID | str,
        outcome: str,
        result: dict[str, Any],
        actor: Actor,
        *,
        status: InvoiceStatus | str,
        ruleset_version_id: uuid.UUID | None = None,
        ruleset_hash: str | None = None,
    ) -> DecisionRecord:
        """Keep what the engine decided and move the invoice to the status it implies."""
        record = self.get(invoice_id)
        decision = DecisionRecord(
            tenant_id=self.tenant_id,
            invoice_id=record.id,
            ruleset_version_id=ruleset_version_id,
            ruleset_hash=ruleset_hash,
            outcome=outcome,
            result=_jsonable(result),
        )
        self.session.add(decision)
        self.session.flush()
        self._audit(actor, "invoice.decide", record.id, {"decision": str(decision.id), "outcome": outcome})
        self.set_status(record.id, status, actor, reason=f"decision {outcome}")
        return decision

    def decisions(self, invoice_id: uuid.UUID | str) -> list[DecisionRecord]:
        """The invoice's decisions, oldest first (the last one is current)."""
        record = self.get(invoice_id)
        return list(
            self.session.scalars(
                select(DecisionRecord)
                .where(DecisionRecord.tenant_id == self.tenant_id, DecisionRecord.invoice_id == record.id)
                .order_by(DecisionRecord.created_at, DecisionRecord.id)
            )
        )

    def _audit(self, actor: Actor, action: str, invoice_id: uuid.UUID, detail: dict[str, Any]) -> None:
        AuditLog(self.session, self.tenant_id).append(actor, action, "invoice", invoice_id, detail)


def _jsonable(value: Any) -> Any:
    """Decimals become strings (exact), dates ISO strings; JSON columns never see a float."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, date | datetime):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, float):
        raise Invalid("a decision must not carry floats; use Decimal for amounts")
    return value
