"""France: the PA's webhook, and each invoice's lifecycle (timeline, and the supplier's own statuses).

`POST /v1/pa/webhooks?tenant=…` is called by the tenant's PA, not with an
API key: the event is authenticated as XP Z12-013 says (HMAC-SHA-256 of
the payload and timestamp with the subscription's signing key, headers
`Afnor-Signature` and `Afnor-Signature-Timestamp`); anything unsigned,
stale or signed with another key is 401, and an unknown tenant looks the
same. A status the PA announces is fetched, checked and recorded in the
same request; if the PA cannot be reached the answer is 500 so it retries.
"""

from __future__ import annotations

import json
import logging
import uuid

from flask import Blueprint, request

from aiguillage.adapters.base import DeliveryError
from aiguillage.adapters.flowapi import verify
from aiguillage.api import database
from aiguillage.api.auth import current_principal
from aiguillage.api.endpoint import endpoint
from aiguillage.api.problems import Problem
from aiguillage.api.roles import READ_INVOICES, RECORD_PAYMENTS
from aiguillage.api.schemas.lifecycle import (
    Lifecycle,
    LifecycleStatus,
    PaFlowView,
    SupplierStatusBody,
    WebhookQuery,
)
from aiguillage.fr import tracking
from aiguillage.fr.accounts import account, service_of
from aiguillage.store.actor import Actor
from aiguillage.store.repositories.invoices import Invoices
from aiguillage.store.vocabulary import Role

blueprint = Blueprint("pa", __name__, url_prefix="/v1")
log = logging.getLogger("aiguillage.fr")

#: Who the audit log names for what the PA told us.
PA_ACTOR = Actor("pa-webhook")


@blueprint.post("/pa/webhooks")
@endpoint(summary="Receive a flow event from the tenant's PA (signed, XP Z12-013)", roles=None, query=WebhookQuery,
          responses={200: None}, tags=["france"], accepts=("application/json",),
          problems={401: "missing, stale or wrong signature", 400: "the event or its status message was refused",
                    500: "the PA could not be reached to fetch the status; it retries"})
def webhook(query: WebhookQuery) -> tuple[None, int]:
    session = database.session()
    row = account(session, query.tenant)
    payload = request.get_data(cache=False)
    problem = "no webhook subscription" if row is None or not row.signing_key else verify(
        payload, request.headers.get("Afnor-Signature"), request.headers.get("Afnor-Signature-Timestamp"), row.signing_key)
    if problem:  # one answer whatever the reason, so a caller learns nothing about the tenant
        log.info("webhook for tenant %s refused: %s", query.tenant, problem)
        raise Problem(401, "the event is not signed by this tenant's PA subscription (Afnor-Signature)")
    try:
        flow = json.loads(payload)
    except ValueError:
        raise Problem(400, "the event is not JSON") from None
    if not isinstance(flow, dict):
        raise Problem(400, "the event is not a JSON object (a Flow)")
    try:
        tracking.handle_flow(session, query.tenant, flow, service_of(row, timeout=10.0), source="webhook",
                             actor=PA_ACTOR)
    except tracking.LifecycleRefused as exc:
        raise Problem(400, str(exc), type="lifecycle-refused", title="Status message refused") from None
    except DeliveryError as exc:
        raise Problem(500, f"could not fetch the flow from the PA: {exc.message}", type="pa-unreachable") from None
    return None, 200


def _visible(invoice_id: uuid.UUID) -> None:
    principal = current_principal()
    record = Invoices(database.session(), principal.tenant_id).get(invoice_id)
    if principal.role is Role.CUSTOMER and record.customer_code != principal.customer_code:
        raise Problem(404, f"no invoice with id {invoice_id}")


@blueprint.get("/invoices/<uuid:invoice_id>/lifecycle")
@endpoint(summary="An invoice's French lifecycle: statuses in issue order and its flows at the PA",
          roles=READ_INVOICES, responses={200: Lifecycle}, tags=["france"])
def lifecycle(invoice_id: uuid.UUID) -> Lifecycle:
    _visible(invoice_id)
    session, tenant = database.session(), current_principal().tenant_id
    events = tracking.timeline(session, tenant, invoice_id)
    latest = tracking.current(events)
    return Lifecycle(invoice_id=invoice_id, current=LifecycleStatus.from_row(latest) if latest else None,
                     statuses=[LifecycleStatus.from_row(e) for e in events],
                     flows=[PaFlowView.from_row(f) for f in tracking.flows_of(session, tenant, invoice_id)])


@blueprint.post("/invoices/<uuid:invoice_id>/lifecycle")
@endpoint(summary="Send one of the supplier's own statuses (e.g. 212 Encaissée) to its PA", roles=RECORD_PAYMENTS,
          body=SupplierStatusBody, responses={201: LifecycleStatus}, tags=["france"],
          problems={409: "no PA account for this tenant", 422: "the status cannot be sent (code, reason, CDV rules)",
                    502: "the PA refused or could not be reached"})
def send_status(invoice_id: uuid.UUID, body: SupplierStatusBody) -> tuple[LifecycleStatus, int]:
    _visible(invoice_id)
    session, principal = database.session(), current_principal()
    if account(session, principal.tenant_id) is None:
        raise Problem(409, "this tenant has no PA account (aiguillage pa account)")
    try:
        event = tracking.send_status(session, principal.tenant_id, invoice_id, body.code, actor=principal.actor,
                                     reason_code=body.reason_code, reason=body.reason)
    except tracking.LifecycleRefused as exc:
        raise Problem(422, str(exc), type="lifecycle-refused", title="Status refused") from None
    except DeliveryError as exc:
        raise Problem(502, f"the PA did not take the status: {exc.message}", type="pa-unreachable") from None
    return LifecycleStatus.from_row(event), 201
