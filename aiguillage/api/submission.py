"""`POST /v1/invoices` and its batch step by step: store and commit, then decide, record, queue and commit.

`submit_many` does it for a whole batch (`POST /v1/invoices:batch`) in the
same two transactions, with one Core statement per kind of row
(`store.repositories.intake`, `api.recording`); `submit` is a batch of one.
What meets an existing key or number, or fails while recording together,
goes the one-by-one way (`Invoices.receive`, `decide_received`), which is
also what the recovery pass uses.

Storing is its own transaction, committed before anything else happens, so
a submitted invoice survives whatever comes next (a ruleset that does not
check any more, a crash in the middle of evaluating). Deciding reads the
version in force, evaluates outside any transaction (on SQLite a write lock
is never held while rules run), then records the decision, the status it
implies and one outbox entry per route in a second transaction: a routed
invoice always has its deliveries queued (transactional outbox).

What an ERP can rely on (issue 11):

- once the invoice is stored, the answer is never an error: anything that
  goes wrong while deciding leaves it `received` (answered 202 as such), and
  the worker's recovery pass (`api.recovery`) decides it a few seconds later;
  a crash between the two transactions is recovered the same way;
- contention (serialization failures, deadlocks, a unique index or a
  workflow session won by a concurrent request) is retried here, never
  answered 409 (`store.contention`);
- a repeat (same Idempotency-Key, or same seller, number and content)
  never stores twice and gets the first answer again: the same id and the
  status the first answer gave (kept as `answered_status`, written in the
  transaction that records the decision; NULL: the first answer was
  `received`), whatever the invoice's status is now. A repeat that itself
  decides an invoice left `received` (its first request crashed, or could
  not decide) records what it answers, and later repeats get that.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from aiguillage.api.deciding import decide, stored_result, verdict
from aiguillage.api.problems import Problem
from aiguillage.api.recording import Decided, duplicate_window, record_many
from aiguillage.api.selection import CustomerRef, Selection, customer_for, select_for_customer
from aiguillage.engine.decision import Decision
from aiguillage.events import record as events
from aiguillage.faults import crash_point
from aiguillage.model.invoice import Invoice
from aiguillage.store.actor import Actor
from aiguillage.store.contention import retrying
from aiguillage.store.errors import Conflict, Invalid
from aiguillage.store.models import InvoiceRecord
from aiguillage.store.repositories import intake
from aiguillage.store.repositories.audit import AuditLog
from aiguillage.store.repositories.customers import Customers
from aiguillage.store.repositories.invoices import (
    Invoices,
    Receipt,
    check_idempotency_key,
    invoice_from_record,
    invoice_values,
)
from aiguillage.store.repositories.outbox import CHANNELS, Outbox
from aiguillage.store.vocabulary import InvoiceStatus
from aiguillage.workflows.destinations import destination_document, settings_from_customer

log = logging.getLogger("aiguillage.submission")

RECEIVED = InvoiceStatus.RECEIVED.value


@dataclass(frozen=True)
class Submitted:
    """The answer to a submission: the invoice, the status answered, and whether this request stored it.

    For a repeat (`created` false) the status is the one the first answer
    gave, not the invoice's status now.
    """

    invoice_id: uuid.UUID
    status: str
    created: bool


@dataclass(frozen=True)
class Arrival:
    """One invoice as submitted: read, with its bytes and what the request said about it."""

    invoice: Invoice
    document: bytes
    content_type: str | None = None
    idempotency_key: str | None = None
    customer_code: str | None = None
    lang: str = "en"


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

    A batch of one (`submit_many`). Errors raised from here (404 customer,
    409 key or number reused, 503) all mean "not stored".
    """
    arrival = Arrival(invoice, document, content_type, idempotency_key, customer_code, lang)
    [outcome] = submit_many(session, tenant_id, actor, [arrival])
    if isinstance(outcome, Exception):
        raise outcome
    return outcome


@dataclass
class _Fresh:
    """An invoice this call stored, waiting for its decision."""

    arrival: Arrival
    row: dict
    customer: CustomerRef | None
    problem: Problem | None


def submit_many(session: Session, tenant_id: uuid.UUID, actor: Actor,
                arrivals: list[Arrival]) -> list[Submitted | Exception]:
    """Store every invoice in one transaction, then decide them all in one more: one answer per arrival.

    Only the customer is looked up before storing (its code is kept with the
    invoice); choosing and compiling the ruleset happen after the commit, so
    nothing about rulesets can stop an invoice from being stored. An
    arrival's exception (404 customer, 409 key or number reused, 400 key)
    means that one was not stored; an exception raised from here (the
    database unavailable, contention outlasting the retries) means none was.
    An item that meets an existing key or number is handed to
    `Invoices.receive` (a repeat or a conflict) and, if still undecided, to
    `decide_received`.
    """
    answers: list[Submitted | Exception | None] = [None] * len(arrivals)
    customers: dict[int, tuple[CustomerRef | None, Problem | None]] = {}
    for index, arrival in enumerate(arrivals):
        try:
            check_idempotency_key(arrival.idempotency_key)
            customers[index] = (customer_for(session, tenant_id, arrival.invoice, arrival.customer_code), None)
        except Problem as exc:
            if exc.status == 404:  # an unknown ?customer= is a request error: nothing is stored
                answers[index] = exc
            else:
                customers[index] = (None, exc)
        except Invalid as exc:
            answers[index] = exc

    def store() -> tuple[list[_Fresh], dict[int, Receipt]]:
        fresh: list[_Fresh] = []
        rows = {}
        for index, (customer, _problem) in customers.items():
            answers[index] = None  # a conflict found by an earlier attempt is found again
            arrival = arrivals[index]
            rows[index] = invoice_values(tenant_id, arrival.invoice, arrival.document, actor,
                                         content_type=arrival.content_type, idempotency_key=arrival.idempotency_key,
                                         customer_code=customer.code if customer is not None else None,
                                         lang=arrival.lang)
        inserted = intake.insert_invoices(session, list(rows.values()))
        audit = []
        receipts: dict[int, Receipt] = {}
        for index, row in rows.items():
            if row["id"] in inserted:
                row["amount_with_vat"] = inserted[row["id"]]  # as the column keeps it
                fresh.append(_Fresh(arrivals[index], row, *customers[index]))
                audit.append(intake.audit_row(tenant_id, actor, "invoice.receive", row["id"], {
                    "number": row["number"], "syntax": row["syntax"], "idempotency_key": row["idempotency_key"],
                }, row["received_at"]))
        intake.append_audit(session, audit)
        missing = [index for index, row in rows.items() if row["id"] not in inserted]
        stored = intake.by_keys(session, tenant_id, (rows[i]["idempotency_key"] for i in missing
                                                      if rows[i]["idempotency_key"] is not None))
        for index in missing:
            row, arrival = rows[index], arrivals[index]
            first = stored.get(row["idempotency_key"]) if row["idempotency_key"] is not None else None
            if first is not None and first.model_sha256 == row["model_sha256"] and first.status != RECEIVED:
                answers[index] = Submitted(first.id, first.answered_status or RECEIVED, False)  # a decided one's repeat
                continue
            try:  # the key or number exists: a repeat, or a conflict
                receipts[index] = Invoices(session, tenant_id).receive(
                    arrival.invoice, arrival.document, actor, content_type=arrival.content_type,
                    idempotency_key=arrival.idempotency_key, customer_code=row["customer_code"], lang=arrival.lang)
            except (Conflict, Invalid) as exc:
                answers[index] = exc
        session.commit()
        return fresh, receipts

    fresh, receipts = retrying(session, store, what="storing invoices")
    crash_point("after-store")
    for index, receipt in receipts.items():
        record = receipt.invoice
        status = record.answered_status or RECEIVED  # a repeat of a decided invoice: the first answer
        if record.status == RECEIVED:  # a repeat of an invoice whose deciding did not finish, or a race's winner
            customer, problem = customers[index]
            status = decide_received(session, tenant_id, actor, record.id, lang=arrivals[index].lang, answering=True,
                                     **({"invoice": arrivals[index].invoice, "customer": customer, "problem": problem}
                                        if receipt.created else {}))
        answers[index] = Submitted(record.id, status, receipt.created)
    decided = decide_many(session, tenant_id, actor, fresh)
    positions = {id(arrival): index for index, arrival in enumerate(arrivals)}
    for item in fresh:
        answers[positions[id(item.arrival)]] = Submitted(item.row["id"], decided[item.row["id"]], True)
    return [answer if answer is not None else Problem(500, "not answered") for answer in answers]


def decide_many(session: Session, tenant_id: uuid.UUID, actor: Actor, fresh: list[_Fresh]) -> dict[uuid.UUID, str]:
    """Decide invoices this call stored: evaluate outside any transaction, record all in one; never raises.

    If recording them together fails for anything but contention (retried),
    each is decided on its own (`decide_received`), which leaves an invoice
    it cannot decide `received` for the recovery pass.
    """
    if not fresh:
        return {}
    try:
        items = _evaluated(session, tenant_id, fresh)

        def record() -> dict[uuid.UUID, str]:
            statuses = record_many(session, tenant_id, actor, items)
            session.commit()
            return statuses

        return retrying(session, record, what=f"deciding {len(items)} invoices")
    except Exception:  # noqa: BLE001 - stored already: decide one by one, each leaves `received` on failure
        log.exception("deciding %d invoices together failed; deciding each on its own", len(fresh))
        session.rollback()
        return {item.row["id"]: decide_received(session, tenant_id, actor, item.row["id"], invoice=item.arrival.invoice,
                                                customer=item.customer, problem=item.problem, lang=item.arrival.lang,
                                                answering=True)
                for item in fresh}


def _evaluated(session: Session, tenant_id: uuid.UUID, fresh: list[_Fresh]) -> list[Decided]:
    """Each invoice with its decision (or why it has none): rulesets chosen once per customer."""
    selections: dict[uuid.UUID | None, Selection | Problem] = {}
    chosen: list[tuple[_Fresh, Selection | None, Problem | None]] = []
    for item in fresh:
        if item.problem is not None:
            chosen.append((item, None, item.problem))
            continue
        key = item.customer.id if item.customer is not None else None
        if key not in selections:
            try:
                selections[key] = select_for_customer(session, tenant_id, item.customer)
            except Problem as exc:
                selections[key] = exc
        found = selections[key]
        chosen.append((item, None, found) if isinstance(found, Problem) else (item, found, None))
    session.commit()  # end the reading transaction: evaluation holds no lock
    items = []
    for item, selection, problem in chosen:
        reason = problem.detail if problem is not None else "no ruleset could be chosen"
        decision: Decision | None = None
        if selection is not None:
            try:
                decision = decide(item.arrival.invoice, selection, lang=item.arrival.lang)
            except Exception as exc:  # noqa: BLE001 - a ruleset that fails on this invoice holds it, saying why
                log.exception("invoice %s: the ruleset failed", item.row["id"])
                selection, reason = None, f"the ruleset failed on this invoice ({exc.__class__.__name__}); see the logs"
        row = item.row
        items.append(Decided(row["id"], row["number"], row["seller_key"], row["customer_code"], row["model"],
                             row["amount_with_vat"], row["issue_date"], selection, decision, reason))
    return items


_LOOK_UP = object()


def decide_received(
    session: Session,
    tenant_id: uuid.UUID,
    actor: Actor,
    invoice_id: uuid.UUID,
    *,
    invoice: Invoice | None = None,
    customer: CustomerRef | None | object = _LOOK_UP,
    problem: Problem | None = None,
    lang: str | None = None,
    answering: bool = False,
) -> str:
    """Decide a stored `received` invoice and return its new status; never raises.

    `answering`: a request answers with the status returned, so it is
    recorded as the answer (`answered_status`) with the decision, and an
    invoice decided meanwhile returns its first answer rather than its
    status now. The recovery pass answers nobody and records nothing of it.

    Without `invoice`/`customer` they are read from the store (a repeat, the
    recovery pass); without `lang`, the decision speaks the language the
    invoice was submitted with (English for one stored before it was kept). Whatever fails is logged and leaves the invoice
    `received` for the recovery pass: the invoice is stored, so the caller
    must not answer with an error.
    """
    try:
        return _decide(session, tenant_id, actor, invoice_id, invoice, customer, problem, lang, answering)
    except Exception:  # noqa: BLE001 - stored already: log, leave it `received`, let recovery decide
        log.exception("invoice %s: stored but not decided; the recovery pass will decide it", invoice_id)
        session.rollback()
        return RECEIVED


def _decide(session: Session, tenant_id: uuid.UUID, actor: Actor, invoice_id: uuid.UUID, invoice: Invoice | None,
            customer: CustomerRef | None | object, problem: Problem | None, lang: str | None,
            answering: bool) -> str:
    if invoice is None or customer is _LOOK_UP or lang is None:
        record = Invoices(session, tenant_id).get(invoice_id)
        if record.status != RECEIVED:
            return _answer(record, answering)
        lang = lang or record.lang or "en"
    if invoice is None or customer is _LOOK_UP:
        invoice = invoice if invoice is not None else invoice_from_record(record)
        customer, problem = _stored_customer(session, tenant_id, record, invoice)
    selection: Selection | None = None
    if problem is None:
        try:
            selection = select_for_customer(session, tenant_id, customer)  # type: ignore[arg-type]
        except Problem as exc:
            problem = exc
    session.commit()  # end the reading transaction: evaluation holds no lock
    decision: Decision | None = None
    reason = problem.detail if problem is not None else "no ruleset could be chosen"
    if selection is not None:
        try:
            decision = decide(invoice, selection, lang=lang)
        except Exception as exc:  # noqa: BLE001 - a ruleset that fails on this invoice holds it, saying why
            log.exception("invoice %s: the ruleset failed", invoice_id)
            selection, reason = None, f"the ruleset failed on this invoice ({exc.__class__.__name__}); see the logs"

    def record() -> str:
        stored = _locked_received(session, tenant_id, invoice_id)
        if stored is None:  # decided meanwhile (a repeat, the recovery pass)
            status = _answer(Invoices(session, tenant_id).get(invoice_id), answering)
            session.commit()
            return status
        if selection is None or decision is None:
            Invoices(session, tenant_id).set_status(stored.id, InvoiceStatus.HELD, actor, reason=reason)
            events.invoice_held(session, tenant_id, stored, reason)  # issue 19
            status = InvoiceStatus.HELD.value
        else:
            status = _record(session, tenant_id, actor, stored, decision, selection)
        if answering:
            stored.answered_status = status  # flushed by this commit: the decision and its answer go together
        session.commit()
        return status

    return retrying(session, record, what=f"deciding invoice {invoice_id}")


def _answer(record: InvoiceRecord, answering: bool) -> str:
    """What to return for an invoice decided by someone else: its first answer to a request, else its status."""
    return (record.answered_status or RECEIVED) if answering else record.status


def _stored_customer(session: Session, tenant_id: uuid.UUID, record: InvoiceRecord,
                     invoice: Invoice) -> tuple[CustomerRef | None, Problem | None]:
    """The customer the invoice was stored for, or matched again from its buyer (None with why not)."""
    if record.customer_code:
        found = Customers(session, tenant_id).find_code(record.customer_code)
        return (CustomerRef(found.id, found.code), None) if found is not None else (None, None)
    try:
        return customer_for(session, tenant_id, invoice, None), None
    except Problem as exc:
        return None, exc


def _locked_received(session: Session, tenant_id: uuid.UUID, invoice_id: uuid.UUID) -> InvoiceRecord | None:
    """The invoice, row-locked until commit, if it is still `received` (whoever decides it holds the lock)."""
    record = session.scalars(
        select(InvoiceRecord)
        .where(InvoiceRecord.tenant_id == tenant_id, InvoiceRecord.id == invoice_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()
    return record if record.status == RECEIVED else None


def _record(session: Session, tenant_id: uuid.UUID, actor: Actor, record: InvoiceRecord, decision: Decision,
            selection: Selection) -> str:
    """Record the decision and its status, hold a probable duplicate, queue the routes, start the workflows."""
    invoices = Invoices(session, tenant_id)
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
        # A probable duplicate is held (reason and audit by the look-alike checks), never queued.
        from aiguillage.workflows.duplicates import check_duplicate

        window_s = duplicate_window(stored.result)
        if check_duplicate(session, tenant_id, record.id, actor, window_s=window_s).duplicate_of is not None:
            return InvoiceStatus.HELD.value
    if outcome.status is InvoiceStatus.QUEUED:
        _enqueue(session, tenant_id, actor, record, decision, stored.id, selection)
    elif decision.holds:
        AuditLog(session, tenant_id).append(
            actor, "invoice.hold", "invoice", record.id,
            {"holds": [h.model_dump(mode="json") for h in decision.holds], "routes_waiting": len(decision.routes)},
        )
    if outcome.status in (InvoiceStatus.QUEUED, InvoiceStatus.HELD):
        # An approval hold starts the approval workflow; a reminder policy, the reminders.
        from aiguillage.workflows.starting import start_workflows

        start_workflows(session, tenant_id, record.id, actor)
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
