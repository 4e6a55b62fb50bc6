"""The allocation engine on its own: references, invoice numbers, payer and amount; never a wrong allocation."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal

import pytest

from aiguillage.payments.matching import IncomingPayment, OpenItem, OpenItems, propose
from aiguillage.payments.policy import AllocationPolicy, PolicyError, policy_from_params
from aiguillage.payments.reference import creditor_reference, references_in, valid_reference

D = Decimal


def item(number: str, amount: str, customer: str = "ACME", day: int = 1, currency: str = "EUR") -> OpenItem:
    return OpenItem(invoice_id=uuid.uuid4(), number=number, customer_code=customer, currency=currency,
                    amount_due=D(amount), allocated=D(0), issue_date=date(2026, 11, day),
                    creditor_reference=creditor_reference(number))


def pay(amount: str, remittance: str = "", *, iban: str = "", name: str = "", customer: str | None = None):
    return IncomingPayment(amount=D(amount), currency="EUR", remittance=remittance, payer_iban=iban,
                           payer_name=name, customer_code=customer)


def shares(proposal) -> list[tuple[str, Decimal]]:  # noqa: ANN001
    return [(s.item.number, s.amount) for s in proposal.shares]


def test_creditor_reference_is_iso_11649_and_survives_grouping_and_case():
    reference = creditor_reference("F-2026/0042")
    assert reference is not None and reference.startswith("RF") and valid_reference(reference) == reference
    grouped = " ".join(reference[i:i + 4] for i in range(0, len(reference), 4))
    assert references_in(f"paiement {grouped.lower()}, merci") == ([reference], False)
    # One changed digit or two swapped ones fail the check: reported as broken, never used.
    typo = reference[:-2] + reference[-1] + reference[-2]
    assert references_in(typo) == ([], True)
    assert creditor_reference("---") is None


def test_a_reference_names_the_invoice_whatever_else_the_text_says():
    a, b = item("F2026-0001", "100.00"), item("F2026-0002", "250.00")
    items = OpenItems([a, b])
    proposal = propose(pay("250.00", f"F2026-0001 {b.creditor_reference}"), items)
    assert shares(proposal) == [("F2026-0002", D("250.00"))] and proposal.status == "allocated"


def test_invoice_numbers_in_free_text_with_several_invoices_and_a_credit_note():
    a, b = item("F2026-0001", "100.00", day=1), item("F2026-0002", "250.00", day=2)
    credit = item("AV2026-0003", "-30.00", day=3)
    items = OpenItems([a, b, credit])
    proposal = propose(pay("320.00", "Fact F2026-0001, F2026-0002 moins avoir AV2026-0003"), items)
    assert sorted(shares(proposal)) == [("AV2026-0003", D("-30.00")), ("F2026-0001", D("100.00")),
                                        ("F2026-0002", D("250.00"))]
    assert proposal.unapplied == 0


def test_a_number_must_agree_with_the_amount_even_from_the_customer():
    a, b = item("F2026-0001", "100.00"), item("F2026-0010", "40.00")
    items = OpenItems([a, b])
    # "F2026-0001" may be "F2026-0010" typed wrongly: a part payment quoting a number waits for a person.
    assert propose(pay("40.00", "F2026-0001"), items).shares == []
    # From the customer, the amount decides: F2026-0010 is the one invoice of 40.00.
    assert shares(propose(pay("40.00", "F2026-0001", customer="ACME"), items)) == [("F2026-0010", D("40.00"))]
    assert shares(propose(pay("100.00", "F2026-0001"), items)) == [("F2026-0001", D("100.00"))]


def test_a_number_of_another_customer_than_the_payer_is_left_alone():
    other = item("F2026-0009", "100.00", customer="OTHER")
    items = OpenItems([other], iban_customers={"FR7630006000011234567890189": "ACME"})
    proposal = propose(pay("100.00", "F2026-0009", iban="FR76 3000 6000 0112 3456 7890 189"), items)
    assert proposal.shares == [] and proposal.customer_code == "ACME"  # the payer's own invoices only


def test_payer_by_iban_and_amount_one_invoice_or_the_oldest_ones():
    old, mid, new = item("F1", "100.00", day=1), item("F2", "40.00", day=2), item("F3", "60.00", day=3)
    items = OpenItems([new, old, mid], iban_customers={"FR7630006000011234567890189": "ACME"})
    iban = "FR7630006000011234567890189"
    assert shares(propose(pay("60.00", "virement", iban=iban), items)) == [("F3", D("60.00"))]
    assert shares(propose(pay("140.00", "virement", iban=iban), items)) == [("F1", D("100.00")), ("F2", D("40.00"))]
    unknown = propose(pay("140.00", "virement", iban="DE89370400440532013000"), items)
    assert unknown.shares == [] and "no reference" in unknown.reason


def test_ambiguous_amounts_are_left_unallocated():
    items = OpenItems([item("F1", "50.00", day=1), item("F2", "50.00", day=2)], customer_names={"ACME": "ACME"})
    proposal = propose(pay("50.00", "", name="Acme SAS"), items)
    assert proposal.shares == [] and "2 ways" in proposal.reason


def test_partial_and_over_payment():
    a = item("F1", "100.00")
    items = OpenItems([a])
    partial = propose(pay("30.00", a.creditor_reference or ""), items)
    assert shares(partial) == [("F1", D("30.00"))] and partial.unapplied == 0
    over = propose(pay("130.00", a.creditor_reference or ""), items)
    assert shares(over) == [("F1", D("100.00"))] and over.unapplied == D("30.00")
    assert over.status == "partially_allocated" and "unapplied" in over.reason


def test_policy_tolerance_write_off_and_order():
    a = item("F1", "100.00", day=5)
    a.due_date = date(2026, 12, 1)
    b = item("F2", "100.00", day=1)
    b.due_date = date(2026, 12, 31)
    items = OpenItems([a, b])
    tolerant = AllocationPolicy(tolerance=D("0.50"))
    near = propose(pay("99.60", a.creditor_reference or ""), items, lambda _c: tolerant)
    assert [(s.item.number, s.amount, s.write_off) for s in near.shares] == [("F1", D("99.60"), D("0.40"))]
    write_off = AllocationPolicy(write_off=D("2.00"))
    short = propose(pay("98.50", a.creditor_reference or ""), items, lambda _c: write_off)
    assert [(s.amount, s.write_off) for s in short.shares] == [(D("98.50"), D("1.50"))]
    both = f"{a.creditor_reference} {b.creditor_reference}"
    oldest = propose(pay("150.00", both), items)
    assert shares(oldest) == [("F2", D("100.00")), ("F1", D("50.00"))]
    by_due = propose(pay("150.00", both), items, lambda _c: AllocationPolicy(order="due"))
    assert shares(by_due) == [("F1", D("100.00")), ("F2", D("50.00"))]


def test_policy_values_are_checked():
    assert policy_from_params({"tolerance": D("0.5"), "order": "due"}).tolerance == D("0.5")
    for bad in ({"tolerance": "-1"}, {"order": "newest"}, {"tolerence": 1}, {"write_off": "x"}):
        with pytest.raises(PolicyError):
            policy_from_params(bad)
