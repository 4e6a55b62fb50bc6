"""Payment service providers: hosted checkout (the card never reaches us) and their signed webhooks."""

from aiguillage.payments.psp.base import (
    CheckoutAdapter,
    CheckoutSession,
    PaymentEvent,
    PspError,
    WebhookRefused,
)

__all__ = ["CheckoutAdapter", "CheckoutSession", "PaymentEvent", "PspError", "WebhookRefused"]
