"""Workflow settings written in a ruleset (route parameters), and the event shape the rules rely on."""

from __future__ import annotations

import pytest

from aiguillage.store.errors import Invalid
from aiguillage.workflows import charts, runtime
from aiguillage.workflows.events import EVENT_FIELDS, UnknownEventField, event
from aiguillage.workflows.policy import DEFAULTS, policy_from_decision, seconds

pytest_plugins = ["aiguillage.store.testing"]


@pytest.mark.parametrize(("text", "expected"), [("48h", 172800), ("7d", 604800), ("30m", 1800), ("90s", 90),
                                                ("2w", 1209600), ("12", 43200), (2, 7200)])
def test_durations(text, expected):
    assert seconds(text, "escalate_after") == expected


@pytest.mark.parametrize("text", ["soon", "-1h", "1y", True])
def test_bad_durations_say_which_parameter(text):
    with pytest.raises(Invalid, match="remind_every"):
        seconds(text, "remind_every")


def test_policy_from_the_routes_parameters_first_route_wins():
    result = {"routes": [
        {"channel": "peppol", "params": {"escalate_after": "48h", "escalate_to": "cfo", "subject": "x"}},
        {"channel": "email", "params": {"escalate_to": "ceo", "remind_every": "7d", "remind_max": "3"}},
    ]}
    policy = policy_from_decision(result)
    assert (policy.escalate_after_s, policy.escalate_to, policy.remind_every_s, policy.remind_max) == (172800, "cfo", 604800, 3)
    assert policy.query_sla_s == DEFAULTS.query_sla_s
    assert policy_from_decision({"routes": []}) == DEFAULTS


def test_every_event_carries_every_attribute_the_rules_test():
    complete = event("approve", actor="me")
    assert set(complete) == set(EVENT_FIELDS) and complete["action"] == "approve"
    assert None not in complete.values()
    with pytest.raises(UnknownEventField):
        event("approve", whom="me")


def test_an_event_no_rule_takes_is_refused_and_the_engine_keeps_nothing():
    with pytest.raises(runtime.EventNotAllowed, match="'approve' is not allowed for the approval workflow before it started"):
        runtime.run(charts.APPROVAL, "policy-test", None, [event("approve")])
    with pytest.raises(runtime.EventNotAllowed, match="'bogus'"):
        runtime.run(charts.QUERY, "policy-test", None, [event("bogus")])
    assert runtime.live_sessions(charts.APPROVAL, ["policy-test"]) == 0


def test_a_malformed_parameter_falls_back_to_the_defaults_and_is_audited(store_tx, tenant_id):
    from workflow_helpers import ERP, T0, decision_result, stored_invoice

    from aiguillage.store.repositories.audit import AuditLog
    from aiguillage.workflows import starting

    with store_tx() as session:
        invoice_id = stored_invoice(session, tenant_id, "P-1", result=decision_result(
            params={"escalate_after": "two days", "escalate_to": "cfo"}))
        [row] = starting.start_workflows(session, tenant_id, invoice_id, ERP, now=T0)
        assert (row.status, row.state["state"]["escalate_after_s"]) == ("held", 0)
        [entry] = [e for e in AuditLog(session, tenant_id).entries(target_id=invoice_id)
                   if e.action == "workflow.policy_invalid"]
        assert "escalate_after" in entry.detail["message"]


def test_policy_reads_the_approval_hold_first_and_still_accepts_route_parameters():
    result = {
        "holds": [{"kind": "hold", "params": {}},
                  {"kind": "approval", "role": "finance", "params": {"escalate_after": "2d", "escalate_to": "cfo"}}],
        "routes": [{"params": {"escalate_after": "1h", "escalate_to": "ceo", "remind_every": "7d", "remind_max": 3}}],
    }
    policy = policy_from_decision(result)
    assert (policy.escalate_after_s, policy.escalate_to) == (2 * 86400, "cfo")  # the hold wins
    assert (policy.remind_every_s, policy.remind_max) == (7 * 86400, 3)  # the routes still count
    routes_only = policy_from_decision({"holds": [{"kind": "approval", "role": "finance"}], "routes": result["routes"]})
    assert (routes_only.escalate_after_s, routes_only.escalate_to) == (3600, "ceo")


def test_the_language_puts_approval_settings_where_the_policy_reads_them(tmp_path):
    from test_engine_support import decide

    text = ('ruleset "t"\nroute\n  otherwise -> approval by "finance" with (escalate_after = "48h", escalate_to = "cfo"),'
            ' then peppol\n')
    policy = policy_from_decision(decide(tmp_path, text).model_dump(mode="json"))
    assert (policy.escalate_after_s, policy.escalate_to) == (48 * 3600, "cfo")
