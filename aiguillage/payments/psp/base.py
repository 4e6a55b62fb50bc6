"""The one small interface every PSP adapter implements (Stripe today; Adyen, Mollie, PayPlug fit the same).

Shape PCI DSS SAQ A: we ask the PSP for a hosted payment page and redirect
the customer there; the card is typed on the PSP's page, and all we ever
hold is the PSP's session id, the amount and, from its signed webhook, that
the payment succeeded.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Protocol


class PspError(Exception):
    """The PSP refused or could not be reached; nothing was charged on our side."""


class WebhookRefused(Exception):
    """A webhook whose signature, timestamp or body does not hold: answered 400, never processed."""


@dataclass(frozen=True)
class CheckoutLine:
    """One thing paid: shown on the hosted page (an invoice number and the amount paid of it)."""

    label: str
    amount: Decimal


@dataclass(frozen=True)
class CheckoutSession:
    session_id: str
    url: str
    status: str
    payment_status: str
    amount: Decimal
    currency: str
    payment_reference: str | None = None
    metadata: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class PaymentEvent:
    """A verified webhook event, reduced to what allocation needs."""

    event_id: str
    type: str
    session: CheckoutSession | None


class CheckoutAdapter(Protocol):
    name: str

    def create_checkout(self, *, lines: list[CheckoutLine], currency: str, idempotency_key: str,
                        success_url: str, cancel_url: str, metadata: dict[str, str],
                        customer_email: str | None = None) -> CheckoutSession:
        """A hosted checkout session for these lines; the same idempotency key gives the same session."""
        ...

    def retrieve(self, session_id: str) -> CheckoutSession:
        ...

    def verify_webhook(self, payload: bytes, headers: dict[str, str]) -> PaymentEvent:
        """The event, once its signature is checked; WebhookRefused when it does not hold."""
        ...


#: ISO 4217 currencies without minor units, as PSPs count them (Stripe's list).
ZERO_DECIMAL = frozenset({"BIF", "CLP", "DJF", "GNF", "JPY", "KMF", "KRW", "MGA", "PYG", "RWF", "UGX", "VND",
                          "VUV", "XAF", "XOF", "XPF"})


def to_minor(amount: Decimal, currency: str) -> int:
    """An amount in the currency's smallest unit (cents), refusing fractions of it."""
    exponent = 0 if currency.upper() in ZERO_DECIMAL else 2
    minor = amount.scaleb(exponent)
    if minor != minor.to_integral_value():
        raise PspError(f"{amount} {currency} has more decimals than the currency allows")
    return int(minor)


def from_minor(minor: int, currency: str) -> Decimal:
    exponent = 0 if currency.upper() in ZERO_DECIMAL else 2
    return Decimal(minor).scaleb(-exponent).quantize(Decimal(1).scaleb(-exponent))
