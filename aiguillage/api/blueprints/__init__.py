"""The blueprints the app registers, in order: the extension point for new endpoints.

Each module named here exposes `blueprint`. The endpoints that need the
rules engine plug in by adding their module:

- `evaluate`: `POST /v1/evaluate` (dry run; reads the body with
  `model.syntaxes.read_invoice`, whose `InvoiceReadError` the app already
  turns into a 400/413 problem with line/column or pointer);
- `invoices`: `POST /v1/invoices` (store first with
  `store.repositories.invoices.Invoices.receive`, which already does the
  Idempotency-Key and (seller, number) idempotency, then evaluate, record the
  decision and queue the outbox in one transaction, each entry's destination
  from `dispatch.destination.destination_document(route, settings)`),
  `GET /v1/invoices…` (deliveries and their attempts from
  `store.repositories.outbox.deliveries_for_invoice`, shown with
  `api.schemas.deliveries.Delivery.from_view`);
- `rulesets`: drafts, check, test, publish, rollback, diff
  (`store.repositories.rulesets.Rulesets` holds the storage side).
"""

from __future__ import annotations

#: Modules under `aiguillage.api.blueprints`, each exposing `blueprint`.
BLUEPRINTS: tuple[str, ...] = (
    "health",
    "meta",
    "customers",
    "tables",
    "audit",
    "deliveries",
    "evaluate",
    "invoices",
    "batch",
    "metrics",
    "rulesets",
    "workflows",
    "pa",
    "events",
    "webhooks",
    "payments",
)
