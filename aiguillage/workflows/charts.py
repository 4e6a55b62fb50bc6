"""The workflow statecharts, defined once per process; each session's state is bounded per invoice.

Each transition's action records the new state (`enter`) and emits effects;
nothing here touches the database. Every condition tests only attributes
that `events.event` always sets (a missing-attribute test hangs the engine),
and no condition does arithmetic across fields (it fails to serialise):
values such as "the usual amount" are computed beforehand and sent in the
message. Per-customer settings (escalation delay and role, SLA, reminder
policy, duplicate window) arrive in the starting event and live in the state.
"""

from __future__ import annotations

from typing import Any

from durable.lang import m, state, statechart, to, when_all

from aiguillage.workflows.events import event
from aiguillage.workflows.runtime import emit, enter

APPROVAL = "aig_approval"
QUERY = "aig_query"
DELIVERY = "aig_delivery"
REMINDER = "aig_reminder"


def _timer(name: str, after_s: int, follow: dict[str, Any]) -> None:
    emit("timer", name=name, after_s=int(after_s), event=follow)


# --------------------------------------------------------------------------- approval

with statechart(APPROVAL):
    with state("new"):

        @to("held")
        @when_all(m.action == "start")
        def approval_start(c: Any) -> None:
            c.s.role = c.m.role
            c.s.escalate_to = c.m.to_role
            c.s.escalate_after_s = c.m.after_s
            c.s.escalations = 0
            enter(c, "held")
            if c.m.after_s > 0 and c.m.to_role:
                _timer("escalate", c.m.after_s, event("escalate", to_role=c.m.to_role, actor="timer"))

    with state("held"):

        @to("approved")
        @when_all(m.action == "approve")
        def approval_approve(c: Any) -> None:
            c.s.decided_by = c.m.actor
            enter(c, "approved")
            emit("cancel_timers")
            emit("follow", event=event("release", actor=c.m.actor))

        @to("rejected")
        @when_all(m.action == "reject")
        def approval_reject(c: Any) -> None:
            c.s.decided_by = c.m.actor
            c.s.reason = c.m.reason
            enter(c, "rejected")
            emit("cancel_timers")
            emit("invoice_status", status="rejected", reason=f"rejected by the approver: {c.m.reason}".strip(": "))

        @to("held")
        @when_all(m.action == "escalate")
        def approval_escalate(c: Any) -> None:
            previous = c.s.role
            c.s.role = c.m.to_role
            c.s.escalations = c.s.escalations + 1
            enter(c, "held")
            emit("audit", action="approval.escalate", detail={"from": previous, "to": c.m.to_role})

    with state("approved"):

        @to("released")
        @when_all(m.action == "release")
        def approval_release(c: Any) -> None:
            enter(c, "released")
            emit("release")

    with state("released"):
        pass

    with state("rejected"):
        pass


# --------------------------------------------------------------------------- customer query

with statechart(QUERY):
    with state("new"):

        @to("open")
        @when_all(m.action == "raise")
        def query_raise(c: Any) -> None:
            c.s.raised_by = c.m.actor
            c.s.reason = c.m.reason
            c.s.sla_s = c.m.after_s
            c.s.breached = False
            enter(c, "open")
            emit("signal", chart="reminder", event=event("query_opened", actor=c.m.actor))
            if c.m.after_s > 0:
                _timer("sla", c.m.after_s, event("sla_breach", actor="timer"))

    with state("open"):

        @to("answered")
        @when_all(m.action == "answer")
        def query_answer(c: Any) -> None:
            c.s.answer = c.m.reason
            c.s.answered_by = c.m.actor
            enter(c, "answered")
            emit("cancel_timers")

        @to("resolved")
        @when_all(m.action == "resolve")
        def query_resolve_open(c: Any) -> None:
            _resolve(c)

        @to("open")
        @when_all(m.action == "sla_breach")
        def query_sla(c: Any) -> None:
            c.s.breached = True
            enter(c, "open")
            emit("audit", action="query.sla_breach", detail={"sla_s": c.s.sla_s})

    with state("answered"):

        @to("resolved")
        @when_all(m.action == "resolve")
        def query_resolve(c: Any) -> None:
            _resolve(c)

        @to("open")
        @when_all(m.action == "raise")
        def query_reopen(c: Any) -> None:
            c.s.reason = c.m.reason
            enter(c, "open")
            if c.s.sla_s > 0:
                _timer("sla", c.s.sla_s, event("sla_breach", actor="timer"))

    with state("resolved"):
        pass


def _resolve(c: Any) -> None:
    c.s.resolved_by = c.m.actor
    c.s.resolution = c.m.reason
    if c.m.credit_note:
        c.s.credit_note = c.m.credit_note
    enter(c, "resolved")
    emit("cancel_timers")
    emit("signal", chart="reminder", event=event("query_closed", actor=c.m.actor))


# --------------------------------------------------------------------------- delivery (driven by the worker)

with statechart(DELIVERY):
    with state("new"):

        @to("queued")
        @when_all(m.action == "queue")
        def delivery_queue(c: Any) -> None:
            c.s.failures = 0
            enter(c, "queued")

    for _name in ("queued", "sent", "retrying"):
        with state(_name):

            @to("sent")
            @when_all(m.action == "sent")
            def delivery_sent(c: Any) -> None:
                enter(c, "sent")

            @to("delivered")
            @when_all(m.action == "delivered")
            def delivery_delivered(c: Any) -> None:
                enter(c, "delivered")

            @to("retrying")
            @when_all((m.action == "failed") & (m.final == 0))
            def delivery_failed(c: Any) -> None:
                c.s.failures = c.s.failures + 1
                c.s.last_error = c.m.reason
                enter(c, "retrying")

            @to("dead")
            @when_all((m.action == "failed") & (m.final == 1))
            def delivery_dead(c: Any) -> None:
                c.s.failures = c.s.failures + 1
                c.s.last_error = c.m.reason
                enter(c, "dead")
                emit("audit", action="delivery.dead", detail={"reason": c.m.reason})

    with state("dead"):

        @to("queued")
        @when_all(m.action == "requeue")
        def delivery_requeue(c: Any) -> None:
            enter(c, "queued")

    with state("delivered"):
        pass


# --------------------------------------------------------------------------- payment reminders

with statechart(REMINDER):
    with state("new"):

        @to("waiting")
        @when_all(m.action == "start")
        def reminder_start(c: Any) -> None:
            c.s.every_s = c.m.every_s
            c.s.max_count = c.m.max_count
            c.s.sent = 0
            enter(c, "waiting")
            _timer("remind", c.m.after_s, event("remind", actor="timer"))

    with state("waiting"):

        @to("waiting")
        @when_all(m.action == "remind")
        def reminder_remind(c: Any) -> None:
            enter(c, "waiting")
            if c.s.sent < c.s.max_count:
                c.s.sent = c.s.sent + 1
                emit("reminder", number=c.s.sent)
            if c.s.sent < c.s.max_count:
                _timer("remind", c.s.every_s, event("remind", actor="timer"))
            else:
                emit("follow", event=event("exhaust", actor="timer"))

        @to("exhausted")
        @when_all(m.action == "exhaust")
        def reminder_exhaust(c: Any) -> None:
            enter(c, "exhausted")

        @to("paused")
        @when_all(m.action == "query_opened")
        def reminder_pause(c: Any) -> None:
            enter(c, "paused")
            emit("cancel_timers")

        @to("paid")
        @when_all(m.action == "paid")
        def reminder_paid(c: Any) -> None:
            enter(c, "paid")
            emit("cancel_timers")

        @to("stopped")
        @when_all(m.action == "stop")
        def reminder_stop(c: Any) -> None:  # issue 16: the buyer refused or the PA rejected the invoice
            enter(c, "stopped")
            emit("cancel_timers")

    with state("paused"):

        @to("waiting")
        @when_all(m.action == "query_closed")
        def reminder_resume(c: Any) -> None:
            enter(c, "waiting")
            _timer("remind", c.s.every_s, event("remind", actor="timer"))

        @to("paid")
        @when_all(m.action == "paid")
        def reminder_paid_paused(c: Any) -> None:
            enter(c, "paid")

        @to("stopped")
        @when_all(m.action == "stop")
        def reminder_stop_paused(c: Any) -> None:
            enter(c, "stopped")
            emit("cancel_timers")

    with state("exhausted"):

        @to("paid")
        @when_all(m.action == "paid")
        def reminder_paid_late(c: Any) -> None:
            enter(c, "paid")

    with state("paid"):
        pass

    with state("stopped"):
        pass

