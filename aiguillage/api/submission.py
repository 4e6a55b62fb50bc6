"""`POST /v1/invoices` step by step: store, commit, decide, record, queue, commit.

Storing is its own transaction, committed before anything else happens, so
a submitted invoice survives whatever comes next (a ruleset that does not
check any more, a crash in the middle of evaluating). Deciding reads the
version in force, evaluates outside any transaction (on SQLite a write lock
is never held while rules run), then records the decision, the status it
implies and one outbox entry per route in a second transaction: a routed
invoice always has its deliveries queued (transactional outbox), and a
crash between the two leaves the invoice `received`, which the next
identical submission (same Idempotency-Key or same seller and number)
finishes deciding.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy.orm import Session

from aiguillage.api.deciding import decide, stored_result, verdict
from aiguillage.api.problems import Problem
from aiguillage.api.selection import CustomerRef, Selection, customer_for, select_for_customer
from aiguillage.dispatch.destination import destination_document, settings_from_customer
from aiguillage.engine.decision import Decision
from aiguillage.events import record as events
from aiguillage.model.invoice import Invoice
from aiguillage.store.actor import Actor
from aiguillage.store.models import InvoiceRecord
from aiguillage.store.repositories.audit import AuditLog
from aiguillage.store.repositories.customers import Customers
from aiguillage.store.repositories.invoices import Invoices, invoice_from_record
from aiguillage.store.repositories.outbox import CHANNELS, Outbox
from aiguillage.store.vocabulary import InvoiceStatus


@dataclass(frozen=True)
class Submitted:
    """The stored invoice after submission, and whether this request stored it."""

    invoice_id: uuid.UUID
    status: str
    created: bool


def submit(
    session: Session,
    tenant_id: uuid.UUID,
    actor: Actor,
    invoice: Invoice,
    document: bytes,
    *,
    content_type: str | None,
    idempotency_key: str | None,
    customer_code: str | None,
    lang: str = "en",
) -> Submitted:
    """Store the invoice (idempotently), then decide it unless it was decided before.

    Only the customer is looked up before storing (its code is kept with the
    invoice); choosing and compiling the ruleset happen after the commit, so
    nothing about rulesets can stop an invoice from being stored.
    """
    customer: CustomerRef | None = None
    problem: Problem | None = None
    try:
        customer = customer_for(session, tenant_id, invoice, customer_code)
    except Problem as exc:
        if exc.status == 404:
            raise  # an unknown ?customer= is a request error: nothing is stored
        problem = exc
    receipt = Invoices(session, tenant_id).receive(
        invoice,
        document,
        actor,
        content_type=content_type,
        idempotency_key=idempotency_key,
        customer_code=customer.code if customer is not None else None,
    )
    record = receipt.invoice
    session.commit()
    if record.status != InvoiceStatus.RECEIVED.value:
        return Submitted(record.id, record.status, receipt.created)
    if not receipt.created:
        # A repeat of an invoice whose deciding did not finish: decide it now, from what was stored.
        invoice = invoice_from_record(record)
    selection: Selection | None = None
    if problem is None:
        try:
            selection = select_for_customer(session, tenant_id, customer)
        except Problem as exc:
            problem = exc
    status = _decide_stored(session, tenant_id, actor, record, invoice, selection, problem, lang)
    return Submitted(record.id, status, receipt.created)


def _decide_stored(
    session: Session,
    tenant_id: uuid.UUID,
    actor: Actor,
    record: InvoiceRecord,
    invoice: Invoice,
    selection: Selection | None,
    problem: Problem | None,
    lang: str,
) -> str:
    """Decide, record the decision and its status, queue the routes; or hold, saying why not."""
    invoices = Invoices(session, tenant_id)
    if selection is None:
        reason = problem.detail if problem is not None else "no ruleset could be chosen"
        invoices.set_status(record.id, InvoiceStatus.HELD, actor, reason=reason)
        events.invoice_held(session, tenant_id, record, reason)  # issue 19
        session.commit()
        return InvoiceStatus.HELD.value
    session.commit()  # end the reading transaction: evaluation holds no lock
    decision = decide(invoice, selection, lang=lang)
    outcome = verdict(decision)
    version = selection.version
    stored = invoices.record_decision(
        record.id,
        outcome.outcome,
        stored_result(decision),
        actor,
        status=outcome.status,
        ruleset_version_id=version.version_id if version is not None else None,
        ruleset_hash=version.content_hash if version is not None else selection.compiled.hash,
    )
    events.invoice_decided(session, tenant_id, record, stored, outcome.reason)  # issue 19
    if outcome.status in (InvoiceStatus.QUEUED, InvoiceStatus.HELD):
        # Issue 8: a probable duplicate is held (reason and audit by the correlation rules), never queued.
        from aiguillage.workflows.duplicates import check_duplicate

        if check_duplicate(session, tenant_id, record.id, actor).duplicate_of is not None:
            session.commit()
            return InvoiceStatus.HELD.value
    if outcome.status is InvoiceStatus.QUEUED:
        _enqueue(session, tenant_id, actor, record, decision, stored.id, selection)
    elif decision.holds:
        AuditLog(session, tenant_id).append(
            actor, "invoice.hold", "invoice", record.id,
            {"holds": [h.model_dump(mode="json") for h in decision.holds], "routes_waiting": len(decision.routes)},
        )
    if outcome.status in (InvoiceStatus.QUEUED, InvoiceStatus.HELD):
        # Issue 8: an approval hold starts the approval workflow; a reminder policy, the reminders.
        from aiguillage.workflows.starting import start_workflows

        start_workflows(session, tenant_id, record.id, actor)
    session.commit()
    return outcome.status.value


def _enqueue(session: Session, tenant_id: uuid.UUID, actor: Actor, record: InvoiceRecord, decision: Decision,
             decision_id: uuid.UUID, selection: Selection) -> None:
    """One outbox entry per route; the key makes a repeat of the same routing queue nothing new."""
    outbox = Outbox(session, tenant_id)
    customer = Customers(session, tenant_id).get(selection.customer.id) if selection.customer is not None else None
    settings = settings_from_customer(customer) if customer is not None else None
    for index, route in enumerate(decision.routes, 1):
        if route.channel not in CHANNELS:  # the checker refuses unknown channels; never expected
            continue
        outbox.enqueue(
            record.id,
            route.channel,
            destination_document(route.model_dump(mode="json"), settings),
            f"{record.id}:{index}:{route.channel}",
            actor,
            format=(route.format or None) and route.format[:16],
            decision_id=decision_id,
        )
