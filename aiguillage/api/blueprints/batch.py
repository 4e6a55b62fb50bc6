"""`POST /v1/invoices:batch`: a month-end run in a few requests, each item answered on its own.

The body is NDJSON (`application/x-ndjson`, one item per line) or a JSON
array (`application/json`). Each item carries its own idempotency key and
goes through exactly what `POST /v1/invoices` does (`api.submission.submit_many`,
of which a single submission is a batch of one): the readable items are
stored in one transaction and decided in one more, so a month-end run costs
a few statements per batch rather than per invoice. One bad item is answered
with its problem and the others are stored. A repeat of a whole batch (the ERP lost the answer)
stores nothing twice and answers every item with its first answer (202, the same id and the
status first answered), marked `replayed: true`.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
from typing import Any

from flask import Blueprint, request, url_for
from pydantic import ValidationError
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from aiguillage.api import database
from aiguillage.api.admission import busy
from aiguillage.api.auth import current_principal
from aiguillage.api.endpoint import endpoint
from aiguillage.api.problems import Problem, from_read_error, from_validation_error
from aiguillage.api.roles import SUBMIT_INVOICES
from aiguillage.api.schemas.batch import (
    MAX_ITEMS,
    BatchItem,
    BatchItemResult,
    BatchResult,
    BatchSummary,
)
from aiguillage.api.submission import Arrival, submit_many
from aiguillage.model.errors import InvoiceReadError
from aiguillage.model.syntaxes import read_invoice
from aiguillage.store.contention import StillContended
from aiguillage.store.errors import Conflict, Invalid, NotFound

log = logging.getLogger("aiguillage.batch")

blueprint = Blueprint("batch", __name__, url_prefix="/v1")

NDJSON = "application/x-ndjson"


@blueprint.post("/invoices:batch")
@endpoint(
    summary="Submit a batch of invoices (month-end runs)",
    description="The body is NDJSON (application/x-ndjson: one item per line) or a JSON array (application/json) "
    f"of at most {MAX_ITEMS} items, each `{{\"idempotency_key\": …, \"customer\": …, \"invoice\": {{…}}}}` with exactly "
    "one of `invoice` (the JSON syntax), `document` (UBL or CII XML, or JSON, as text) or `document_base64` "
    "(e.g. Factur-X). Every item is stored and decided as by `POST /v1/invoices`, on its own: the answer "
    "(200) lists one result per item, in order, with the status the item would have had alone (202 stored, "
    "4xx/5xx not stored, with a problem document). An item that repeats an invoice already stored gets its first "
    "answer again (202, the same id, the status first answered) with `replayed: true`. Send failed items "
    "again; sending the whole batch again stores nothing twice.",
    roles=SUBMIT_INVOICES,
    accepts=("application/json", NDJSON),
    responses={200: BatchResult},
    problems={429: "this API key has its share of the server in flight: nothing was stored, send again after "
              "Retry-After", 503: "saturated: nothing was stored, send again after Retry-After"},
)
def submit_batch() -> BatchResult:
    raw_items = _items()
    results = _submit_all(raw_items)
    return BatchResult(items=results, summary=BatchSummary(
        items=len(results),
        stored=sum(r.status == 202 and not r.replayed for r in results),
        repeated=sum(bool(r.replayed) for r in results),
        failed=sum(r.status >= 400 for r in results),
    ))


def _items() -> list[tuple[int, Any]]:
    """(index, parsed JSON or a Problem) per item; a body that is not a batch at all is a 400/415."""
    mimetype = request.mimetype or ""
    data = request.get_data(cache=False)
    if mimetype == NDJSON:
        items: list[tuple[int, Any]] = []
        for number, line in enumerate(data.split(b"\n"), 1):
            if not line.strip():
                continue
            try:
                items.append((number - 1, json.loads(line)))
            except (json.JSONDecodeError, UnicodeDecodeError) as exc:
                items.append((number - 1, Problem(400, f"line {number}: invalid JSON: {exc}", type="invalid-json",
                                                  title="Invalid JSON", line=number)))
    elif mimetype == "application/json":
        try:
            document = json.loads(data)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise Problem(400, f"the body is not JSON: {exc}", type="invalid-json", title="Invalid JSON") from None
        if not isinstance(document, list):
            raise Problem(400, "the body must be a JSON array of items (or NDJSON, one item per line)",
                          type="invalid-request", title="Invalid request")
        items = list(enumerate(document))
    else:
        raise Problem(415, f"send the batch as {NDJSON} or application/json, not {mimetype or 'unspecified'}",
                      type="unsupported-media-type", title="Unsupported Media Type")
    if not items:
        raise Problem(400, "the batch is empty", type="invalid-request", title="Invalid request")
    if len(items) > MAX_ITEMS:
        raise Problem(413, f"a batch holds at most {MAX_ITEMS} items, got {len(items)}; split it",
                      type="too-large", title="Batch too large")
    return items


def _submit_all(raw_items: list[tuple[int, Any]]) -> list[BatchItemResult]:
    """Read every item, then store the readable ones in one transaction and decide them in one more.

    An item that cannot be read is answered with its problem; the database
    failing for the whole batch (unavailable, saturated) answers every item
    503, since none was stored.
    """
    answers: dict[int, BatchItemResult] = {}
    arrivals: list[tuple[int, str, Arrival]] = []
    for index, raw in raw_items:
        key = raw.get("idempotency_key") if isinstance(raw, dict) else None
        try:
            if isinstance(raw, Problem):
                raise raw
            item = BatchItem.model_validate(raw)
            data = _bytes(item)
            invoice = read_invoice(data, f"item {index}")
        except Exception as exc:  # noqa: BLE001 - every failure is this item's answer, never the batch's
            answers[index] = _failed(index, key, exc)
            continue
        arrivals.append((index, item.idempotency_key, Arrival(invoice, data, None, item.idempotency_key, item.customer, item.lang)))
    if arrivals:
        principal = current_principal()
        session = database.session()
        try:
            outcomes = submit_many(session, principal.tenant_id, principal.actor, [a for _, _, a in arrivals])
        except Exception as exc:  # noqa: BLE001 - nothing of the batch was stored: every item says why
            session.rollback()
            outcomes = [exc] * len(arrivals)
        for (index, key, _), outcome in zip(arrivals, outcomes, strict=True):
            if isinstance(outcome, Exception):
                answers[index] = _failed(index, key, outcome)
            else:
                answers[index] = BatchItemResult(
                    index=index, idempotency_key=key, status=202, replayed=not outcome.created,
                    id=outcome.invoice_id, invoice_status=outcome.status, duplicate=False,
                    status_url=url_for("invoices.get_invoice", invoice_id=outcome.invoice_id),
                )
    return [answers[index] for index, _ in raw_items]


def _failed(index: int, key: object, exc: Exception) -> BatchItemResult:
    problem = _problem(exc, index)
    body = {"type": problem.type, "title": problem.title, "status": problem.status, "detail": problem.detail,
            **problem.extensions}
    return BatchItemResult(index=index, idempotency_key=key if isinstance(key, str) else None,
                           status=problem.status, problem=body)


def _bytes(item: BatchItem) -> bytes:
    if item.invoice is not None:
        return json.dumps(item.invoice).encode()
    if item.document is not None:
        return item.document.encode()
    try:
        return base64.b64decode(item.document_base64 or "", validate=True)
    except (binascii.Error, ValueError):
        raise Problem(400, "document_base64 is not valid base64", type="invalid-request", title="Invalid request",
                      errors=[{"pointer": "/document_base64", "detail": "not base64"}]) from None


def _problem(exc: Exception, index: int) -> Problem:
    """The problem document the item would have got from `POST /v1/invoices`."""
    if isinstance(exc, Problem):
        return exc
    if isinstance(exc, ValidationError):
        return from_validation_error(exc)
    if isinstance(exc, InvoiceReadError):
        return from_read_error(exc)
    if isinstance(exc, NotFound):
        return Problem(404, exc.message)
    if isinstance(exc, Conflict):
        existing = getattr(exc, "existing_id", None)
        return Problem(409, exc.message, type="conflict", title="Conflict",
                       existing=None if existing is None else str(existing))
    if isinstance(exc, Invalid):
        return Problem(400, exc.message, type="invalid-request", title="Invalid request")
    if isinstance(exc, StillContended | PoolTimeout | OperationalError):
        return busy("the server is saturated")
    log.exception("batch item %d: unexpected error (not stored)", index)
    return Problem(500, "an internal error occurred; it has been logged (the item was not stored)")
