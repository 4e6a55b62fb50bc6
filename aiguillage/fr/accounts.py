"""Each tenant's PA account in the store: what the PA adapter and the webhook endpoint use.

The token and the webhook signing key are read here and handed to the
Flow client only; they are never returned by the API, printed by the CLI
or put in audit details.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from aiguillage.adapters.flowapi import FlowService, access_token
from aiguillage.store.base import utcnow
from aiguillage.store.database import transaction
from aiguillage.store.fr_models import PaAccount, PaFlow


def account(session: Session, tenant_id: uuid.UUID) -> PaAccount | None:
    return session.get(PaAccount, tenant_id)


def service_of(row: PaAccount, timeout: float = 30.0) -> FlowService:
    """The Flow client for the account: its bearer token, or an access token from its OAuth2 client credentials."""
    token = row.token
    if row.token_url and row.client_id:
        token = access_token(row.token_url, row.client_id, row.token, timeout)
    return FlowService(row.base_url, token, timeout, row.organization_id)


def set_account(session: Session, tenant_id: uuid.UUID, base_url: str, token: str,
                organization_id: str | None = None, *, token_url: str | None = None,
                client_id: str | None = None) -> PaAccount:
    """Create or replace the tenant's PA account (keeps its webhook subscription unless the URL changed)."""
    row = session.get(PaAccount, tenant_id)
    if row is None:
        row = PaAccount(tenant_id=tenant_id, base_url=base_url, token=token, organization_id=organization_id)
        session.add(row)
    else:
        if row.base_url != base_url:
            row.webhook_id, row.signing_key = None, None
        row.base_url, row.token, row.organization_id = base_url, token, organization_id
        row.updated_at = utcnow()
    row.token_url, row.client_id = token_url, client_id
    session.flush()
    return row


def subscribe(session: Session, tenant_id: uuid.UUID, callback_url: str) -> str:
    """Subscribe our webhook endpoint at the tenant's PA; keeps the signing key; returns the webhook id."""
    row = session.get(PaAccount, tenant_id)
    if row is None:
        raise LookupError("this tenant has no PA account")
    answer = service_of(row).subscribe(callback_url)
    webhook_id, key = answer.get("webhookId"), answer.get("signingKey")
    if not webhook_id or not key:
        raise ValueError("the PA created the webhook without an id or a signing key")
    row.webhook_id, row.signing_key, row.updated_at = str(webhook_id), str(key), utcnow()
    session.flush()
    return str(webhook_id)


def remember_flow(session: Session, tenant_id: uuid.UUID, flow_id: str, *, invoice_id: uuid.UUID | None,
                  flow_type: str, direction: str, ack_status: str = "Pending", tracking_id: str | None = None) -> PaFlow:
    """The flow's row, created if new (a second report of the same flow changes nothing)."""
    query = select(PaFlow).where(PaFlow.tenant_id == tenant_id, PaFlow.flow_id == flow_id)
    row = session.scalar(query)
    if row is None:
        row = PaFlow(tenant_id=tenant_id, flow_id=flow_id, invoice_id=invoice_id, flow_type=flow_type,
                     direction=direction, ack_status=ack_status, tracking_id=tracking_id)
        try:
            with session.begin_nested():
                session.add(row)
                session.flush()
        except IntegrityError:  # the same flow recorded meanwhile (a webhook and a poll, or a duplicate event)
            row = session.scalar(query)
            if row is None:
                raise
    return row


class StoreAccounts:
    """`PaAccounts` for the PA adapter, on the store (each call in its own short transaction)."""

    def __init__(self, sessions: sessionmaker[Session], timeout: float = 30.0) -> None:
        self.sessions = sessions
        self.timeout = timeout

    def service(self, tenant_id: str) -> FlowService | None:
        with transaction(self.sessions) as session:
            row = account(session, uuid.UUID(tenant_id))
            return service_of(row, self.timeout) if row is not None else None

    def flow_submitted(self, tenant_id: str, invoice_id: str | None, flow: dict[str, Any]) -> None:
        with transaction(self.sessions) as session:
            remember_flow(session, uuid.UUID(tenant_id), str(flow["flowId"]),
                          invoice_id=uuid.UUID(invoice_id) if invoice_id else None, flow_type="CustomerInvoice",
                          direction="Out", tracking_id=flow.get("trackingId"))
