"""Helpers for the payment tests: invoices with chosen numbers, amounts, customers and dates, stored for real."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal
from pathlib import Path

from sqlalchemy.orm import Session

from aiguillage.model.syntaxes import read_invoice
from aiguillage.store.actor import Actor
from aiguillage.store.repositories.customers import Customers
from aiguillage.store.repositories.invoices import Invoices

SAMPLE = Path(__file__).resolve().parents[1] / "samples" / "atelier-lumiere-F2026-0042.json"
ERP = Actor("key:aig_erp00001", role="erp")
_DOCUMENT = SAMPLE.read_bytes()
_INVOICE = read_invoice(_DOCUMENT, "sample.json")


def invoice(session: Session, tenant_id: uuid.UUID, number: str, amount: str, *, customer: str = "ACME",
            issued: date = date(2026, 11, 1), type_code: str = "380") -> uuid.UUID:
    """Store an invoice (or credit note, type 381) owing `amount`, through the repository as the API does."""
    model = _INVOICE.model_copy(deep=True)
    model.number, model.issue_date, model.type_code = number, issued, type_code
    model.totals.amount_with_vat = model.totals.amount_due_for_payment = Decimal(amount)
    return Invoices(session, tenant_id).receive(model, _DOCUMENT, ERP, content_type="application/json",
                                                customer_code=customer).invoice.id


def customer(session: Session, tenant_id: uuid.UUID, code: str, name: str) -> None:
    Customers(session, tenant_id).create({"code": code, "name": name, "language": "fr"}, ERP)
