"""Tables that answer questions across a tenant's invoices in constant time: look-alikes and amount statistics.

A probable duplicate is found by one indexed look-up, not by replaying a
window of earlier invoices: each invoice claims its fingerprints ("number":
seller and normalised number; "buyer-amount-date") in `invoice_fingerprints`,
whose primary key makes the claim atomic under concurrency (INSERT … ON
CONFLICT on PostgreSQL and SQLite). The first claimant within the duplicate
window owns the fingerprint; a later one learns who owns it.

"The customer's usual amount" is a running count and total per customer,
spread over a few rows (`slot`) so that concurrent submissions of one
customer do not all wait for one row lock; reading sums the slots.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, Integer, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from aiguillage.store.base import Base, UtcDateTime


class InvoiceFingerprint(Base):
    """Who first showed this fingerprint, and when (the duplicate window is measured from `seen_at`)."""

    __tablename__ = "invoice_fingerprints"

    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    #: "number" or "buyer-amount-date".
    kind: Mapped[str] = mapped_column(String(24), primary_key=True)
    #: SHA-256 of the normalised values (fixed width, nothing of the invoice readable).
    fingerprint: Mapped[str] = mapped_column(String(64), primary_key=True)
    invoice_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    seen_at: Mapped[datetime] = mapped_column(UtcDateTime)


class AmountStatistic(Base):
    """One slot of a customer's running amount statistic: invoices counted and their total in cents."""

    __tablename__ = "amount_statistics"

    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    #: The customer's code, or the buyer's name when no customer matched ("" when neither).
    customer_key: Mapped[str] = mapped_column(String(300), primary_key=True)
    slot: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    count: Mapped[int] = mapped_column(BigInteger, default=0)
    total_cents: Mapped[int] = mapped_column(BigInteger, default=0)
