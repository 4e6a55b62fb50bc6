"""Telling the ERP what happened to its invoices: events, a feed, and signed webhooks (issue 19).

- `types`: every event type and the schema of its payload (pydantic; in the OpenAPI document);
- `record`, `transitions`: write an event in the caller's transaction (one call at each place a
  change happens: submission, workflows, payments, the dispatch worker's attempts);
- `sequencer`: number committed events in commit order and fan them out to webhook subscriptions;
- `feed`: read a tenant's events after a cursor (`GET /v1/events`);
- `subscriptions`, `signing`, `deliveries`, `sender`, `retry`, `worker`: webhooks, from the
  subscription to the signed POST with retries, per-invoice order and disabling after a long failure.

Depends on `store` only; `api`, `dispatch` and `workflows` call into it.
"""
