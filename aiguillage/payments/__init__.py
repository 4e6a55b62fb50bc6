"""Payments: incoming money (card checkouts, bank statements), its allocation to open invoices, balances.

Layers, each depending only on those before it:

- `reference`: ISO 11649 creditor references (RF…) per invoice, and finding references in free text;
- `policy`: a customer's allocation policy (tolerance, order, write-off limit), read from its ruleset;
- `matching`: the pure allocation engine: a payment and the open items → what to allocate, or why not;
- `ledger`: the store side: balances, payments, allocations, un-allocation, reminders stopping when paid;
- `statements`: readers for camt.053 / camt.054, MT940 and CFONB 120; `importing` runs a statement through
  the engine;
- `psp`: hosted-checkout adapters (Stripe) and their signed webhooks; `checkout` starts one for the portal;
- `exports`: allocations, open items and the French e-reporting payment data as CSV.
"""
