"""Dispatch: the worker that empties the outbox through the channel adapters.

`worker.Worker` claims due outbox entries (across tenants, with a lease),
turns each into an adapter `Delivery` (`destination`), renders and sends it
(`attempt`), and records how it went; `backoff` decides when a failed
delivery is tried again and when it is given up; `workflow_events` tells the
invoice's delivery workflow how each attempt ended, and the worker fires due
workflow timers. It depends on `store`, `adapters` and `workflows`, and
nothing but `cli` and `benchmarks` depends on it.
"""
