"""Stripe hosted Checkout, with the official `stripe` library.

`base_url` points the library at another server speaking Stripe's API
(the loopback PSP in tests); webhooks are verified with the library's own
`construct_event` (Stripe-Signature: HMAC-SHA256 over "timestamp.payload"
with the endpoint secret, timestamp within `tolerance` seconds).
"""

from __future__ import annotations

from typing import Any

import stripe as stripe_library

from aiguillage.payments.psp.base import (
    CheckoutLine,
    CheckoutSession,
    PaymentEvent,
    PspError,
    WebhookRefused,
    from_minor,
    to_minor,
)

#: Events that carry a checkout session we act on.
SESSION_EVENTS = ("checkout.session.completed", "checkout.session.async_payment_succeeded",
                  "checkout.session.async_payment_failed", "checkout.session.expired")


class StripeCheckout:
    name = "stripe"

    def __init__(self, api_key: str, webhook_secret: str, *, base_url: str | None = None, tolerance: int = 300) -> None:
        if not api_key or not webhook_secret:
            raise PspError("Stripe needs an API key and a webhook signing secret (STRIPE_API_KEY, "
                           "STRIPE_WEBHOOK_SECRET)")
        self._client = stripe_library.StripeClient(
            api_key, base_addresses={"api": base_url} if base_url else None, max_network_retries=2)
        self._secret = webhook_secret
        self._tolerance = tolerance

    def create_checkout(self, *, lines: list[CheckoutLine], currency: str, idempotency_key: str,
                        success_url: str, cancel_url: str, metadata: dict[str, str],
                        customer_email: str | None = None) -> CheckoutSession:
        params: dict[str, Any] = {
            "mode": "payment",
            "success_url": success_url,
            "cancel_url": cancel_url,
            "client_reference_id": metadata.get("checkout_id", ""),
            "metadata": metadata,
            "payment_intent_data": {"metadata": metadata},
            "line_items": [{"quantity": 1, "price_data": {
                "currency": currency.lower(), "unit_amount": to_minor(line.amount, currency),
                "product_data": {"name": line.label}}} for line in lines],
        }
        if customer_email:
            params["customer_email"] = customer_email
        try:
            session = self._client.v1.checkout.sessions.create(params=params,
                                                               options={"idempotency_key": idempotency_key})
        except stripe_library.StripeError as exc:
            raise PspError(f"Stripe refused the checkout: {exc.user_message or exc}") from None
        return _session(session)

    def retrieve(self, session_id: str) -> CheckoutSession:
        try:
            return _session(self._client.v1.checkout.sessions.retrieve(session_id))
        except stripe_library.StripeError as exc:
            raise PspError(f"Stripe: {exc.user_message or exc}") from None

    def verify_webhook(self, payload: bytes, headers: dict[str, str]) -> PaymentEvent:
        signature = headers.get("Stripe-Signature") or headers.get("stripe-signature")
        try:
            event = self._client.construct_event(payload, signature, self._secret, tolerance=self._tolerance)
        except stripe_library.SignatureVerificationError as exc:
            raise WebhookRefused(f"Stripe-Signature does not verify: {exc.user_message or exc}") from None
        except ValueError as exc:
            raise WebhookRefused(f"not a Stripe event: {exc}") from None
        session = None
        if event.type in SESSION_EVENTS:
            session = _session(event.data.object)
        return PaymentEvent(event_id=event.id, type=event.type, session=session)


def _session(obj: Any) -> CheckoutSession:
    data = obj.to_dict() if hasattr(obj, "to_dict") else dict(obj)
    currency = str(data.get("currency") or "eur").upper()
    intent = data.get("payment_intent")
    return CheckoutSession(
        session_id=data["id"], url=data.get("url") or "", status=data.get("status") or "",
        payment_status=data.get("payment_status") or "", amount=from_minor(int(data.get("amount_total") or 0),
                                                                             currency),
        currency=currency, payment_reference=intent if isinstance(intent, str) or intent is None else intent["id"],
        metadata={str(k): str(v) for k, v in (data.get("metadata") or {}).items()})

