"""Invoice workflows on durable_rules: approval, customer queries, delivery, payment reminders;
and the look-alike checks (probable duplicates, unusual amounts) as indexed store queries.

durable_rules runs the stateful rules; the database keeps every session
between events (DESIGN.md: at most 1,024 live sessions per ruleset, then a
crash). The rulesets are a fixed set registered once per process
(`runtime.ensure_registered`); what differs per customer (escalation delay,
reminder policy, duplicate window) travels as data in events and state.

- `charts`: the statecharts (state bounded per invoice);
- `runtime`: restore a saved session, post, snapshot, delete — no database;
- `sessions`: the same, wrapped in the store (load, post, save, effects);
- `timers`: fire due timers (the `aiguillage timers` command, the worker hook);
- `starting`: start workflows from a stored decision;
- `duplicates`: hold a probable duplicate, warn of an unusual amount (store look-ups, no session);
- `policy`: escalation and reminder settings read from a decision's routes.
"""
