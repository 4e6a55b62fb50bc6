"""The allocation engine: given one payment and the tenant's open items, what to allocate, or why not.

Pure (no database): `ledger` loads the open items and applies the answer,
the benchmark runs it on 10,000 lines. The rule is never to allocate
wrongly: whatever is ambiguous is left unallocated, with the reason, for a
person to decide.

Evidence, strongest first:

1. ISO 11649 references (RF…) whose check digits hold: they name the invoice;
2. invoice numbers found in the free text: trusted when they agree with the customer
   (found by IBAN or name) or with the amount;
3. the customer (IBAN learnt from earlier payments, or the exact payer name) and the amount:
   one open item of exactly that amount, or the customer's oldest open items summing to it.

A payment above what the named items owe leaves the rest unapplied; below,
items are paid in the policy's order and the last one partially (a
shortfall within the write-off limit is written off).
"""

from __future__ import annotations

import re
import unicodedata
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from aiguillage.payments.policy import DEFAULT_POLICY, AllocationPolicy
from aiguillage.payments.reference import normalise_number, references_in, tokens

ZERO = Decimal("0")


@dataclass
class OpenItem:
    """An invoice or credit note with something left to pay (credit notes: a negative open amount)."""

    invoice_id: uuid.UUID
    number: str | None
    customer_code: str | None
    currency: str
    amount_due: Decimal
    allocated: Decimal
    issue_date: date | None = None
    due_date: date | None = None
    creditor_reference: str | None = None

    @property
    def open(self) -> Decimal:
        return self.amount_due - self.allocated


@dataclass(frozen=True)
class IncomingPayment:
    """What the engine reads of a payment."""

    amount: Decimal
    currency: str
    remittance: str | None = None
    payer_name: str | None = None
    payer_iban: str | None = None
    customer_code: str | None = None


@dataclass(frozen=True)
class Share:
    """Part of the payment for one item; `write_off` is the shortfall let go on it."""

    item: OpenItem
    amount: Decimal
    method: str
    write_off: Decimal = ZERO


@dataclass
class Proposal:
    """The engine's answer: shares to allocate (empty when nothing), what stays unapplied, why."""

    shares: list[Share] = field(default_factory=list)
    unapplied: Decimal = ZERO
    customer_code: str | None = None
    reason: str = ""

    @property
    def status(self) -> str:
        if not self.shares:
            return "unallocated"
        return "allocated" if self.unapplied == ZERO else "partially_allocated"


def normalise_name(name: str | None) -> str:
    """A party name for comparison: no accents, no punctuation, no legal form, upper case."""
    if not name:
        return ""
    text = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().upper()
    words = [w for w in re.split(r"[^0-9A-Z]+", text) if w and w not in _LEGAL_FORMS]
    return " ".join(words)


_LEGAL_FORMS = frozenset({"SA", "SAS", "SARL", "SASU", "EURL", "GMBH", "AG", "BV", "NV", "LTD", "LIMITED",
                          "INC", "SPA", "SRL", "SE", "SCI", "STE", "SOCIETE", "THE"})


class OpenItems:
    """The tenant's open items, indexed by reference, number and customer; updated as allocations are made."""

    def __init__(self, items: Iterable[OpenItem], *, iban_customers: dict[str, str] | None = None,
                 customer_names: dict[str, str] | None = None) -> None:
        self.by_reference: dict[str, OpenItem] = {}
        self.by_number: dict[str, list[OpenItem]] = defaultdict(list)
        self.by_customer: dict[str, list[OpenItem]] = defaultdict(list)
        for item in items:
            self.add(item)
        #: IBAN → customer code (learnt from earlier allocated payments; ambiguous ones left out).
        self.iban_customers = dict(iban_customers or {})
        #: Normalised customer name → customer code (names two customers share are left out).
        self.customer_names = dict(customer_names or {})

    def add(self, item: OpenItem) -> None:
        if item.creditor_reference:
            self.by_reference[item.creditor_reference] = item
        if item.number:
            self.by_number[normalise_number(item.number)].append(item)
        if item.customer_code:
            self.by_customer[item.customer_code].append(item)

    def learn_iban(self, iban: str | None, customer_code: str | None) -> None:
        """A payment from this IBAN was allocated to this customer; an IBAN two customers use is forgotten."""
        if not iban or not customer_code:
            return
        known = self.iban_customers.get(iban)
        if known is None:
            self.iban_customers[iban] = customer_code
        elif known != customer_code:
            self.iban_customers[iban] = ""

    def customer_of(self, payment: IncomingPayment) -> tuple[str | None, str]:
        """The payer as one of our customers, and how it was found ("" when not)."""
        if payment.customer_code:
            return payment.customer_code, "given"
        iban = compact_iban(payment.payer_iban)
        if iban and self.iban_customers.get(iban):
            return self.iban_customers[iban], "iban"
        name = normalise_name(payment.payer_name)
        if name and self.customer_names.get(name):
            return self.customer_names[name], "name"
        return None, ""


def compact_iban(iban: str | None) -> str:
    return re.sub(r"\s+", "", iban or "").upper()


PolicyOf = Callable[[str | None], AllocationPolicy]


def propose(payment: IncomingPayment, items: OpenItems, policy_of: PolicyOf = lambda _c: DEFAULT_POLICY) -> Proposal:
    """What to allocate of `payment`; an empty proposal (with a reason) when the evidence is not enough."""
    if payment.amount <= ZERO:
        return Proposal(unapplied=payment.amount, reason="not an incoming amount")
    customer, _how = items.customer_of(payment)
    references, broken = references_in(payment.remittance)
    named: list[OpenItem] = []
    method = ""
    for reference in references:
        item = items.by_reference.get(reference)
        if item is not None and item not in named:
            named.append(item)
            method = "creditor_reference"
    if not named:
        named, method = _numbers_named(payment, items, customer, policy_of(customer))
    if named:
        owners = {i.customer_code for i in named}
        if customer and owners != {customer} and method != "creditor_reference":
            return Proposal(unapplied=payment.amount, customer_code=customer,
                            reason="the invoices named belong to another customer than the payer's")
        if len(owners) == 1:
            customer = next(iter(owners))
        return _settle(payment, named, method, policy_of(customer), customer)
    if customer is None:
        reason = "a reference failed its check digits and the payer is unknown" if broken else \
            "no reference, invoice number or known payer"
        return Proposal(unapplied=payment.amount, reason=reason)
    return _by_amount(payment, items, customer, policy_of(customer))


def _numbers_named(payment: IncomingPayment, items: OpenItems, customer: str | None,
                   policy: AllocationPolicy) -> tuple[list[OpenItem], str]:
    """Invoices whose numbers appear in the free text, kept only when unambiguous and the amount agrees.

    A number has no check digit: one typed wrongly can name another existing
    invoice, even of the same customer. So the amount must settle the invoices
    named (within the tolerance); a part payment quoting only a number waits
    for a person (an RF reference, which has check digits, may pay in part).
    """
    named: list[OpenItem] = []
    for token in tokens(payment.remittance):
        if len(token) < 4 or not any(c.isdigit() for c in token):
            continue
        found = [i for i in items.by_number.get(token, []) if i.currency == payment.currency]
        if customer is not None:
            found = [i for i in found if i.customer_code == customer]
        if len(found) == 1 and found[0] not in named and found[0].open != ZERO:
            named.append(found[0])
    if not named:
        return [], ""
    total = sum((i.open for i in named), ZERO)
    if abs(total - payment.amount) > policy.tolerance:
        return [], ""
    return named, "invoice_number"


def _order(items: list[OpenItem], policy: AllocationPolicy) -> list[OpenItem]:
    if policy.order == "due":
        return sorted(items, key=lambda i: (i.due_date or i.issue_date or date.max, i.number or ""))
    return sorted(items, key=lambda i: (i.issue_date or date.max, i.number or ""))


def _settle(payment: IncomingPayment, named: list[OpenItem], method: str, policy: AllocationPolicy,
            customer: str | None) -> Proposal:
    """Pay the named items: in full when the amount covers them (within tolerance), else in order."""
    payable = [i for i in named if i.currency == payment.currency and i.open != ZERO]
    if not payable:
        return Proposal(unapplied=payment.amount, customer_code=customer,
                        reason="the invoices named are already paid (or in another currency)")
    total = sum((i.open for i in payable), ZERO)
    difference = payment.amount - total
    if abs(difference) <= policy.tolerance:
        shares = [Share(i, i.open, method) for i in payable]
        if difference < ZERO:  # within tolerance: the last item takes the shortfall as a write-off
            last = shares[-1]
            shares[-1] = Share(last.item, last.amount + difference, method, write_off=-difference)
        return Proposal(shares, unapplied=max(difference, ZERO), customer_code=customer)
    if difference > ZERO:
        return Proposal([Share(i, i.open, method) for i in payable], unapplied=difference, customer_code=customer,
                        reason="paid more than the invoices named: the rest is unapplied cash")
    shares: list[Share] = []
    left = payment.amount
    credits = [i for i in payable if i.open < ZERO]
    for item in credits:  # credit notes named with invoices are offset first
        shares.append(Share(item, item.open, method))
        left -= item.open
    for item in _order([i for i in payable if i.open > ZERO], policy):
        if left <= ZERO:
            break
        part = min(item.open, left)
        shortfall = item.open - part
        write_off = shortfall if ZERO < shortfall <= policy.write_off else ZERO
        shares.append(Share(item, part, method, write_off=write_off))
        left -= part
    return Proposal(shares, unapplied=max(left, ZERO), customer_code=customer)


def _by_amount(payment: IncomingPayment, items: OpenItems, customer: str, policy: AllocationPolicy) -> Proposal:
    """No reference: one open item of the amount, or the customer's oldest items adding up to it (not both)."""
    candidates = [i for i in items.by_customer.get(customer, []) if i.currency == payment.currency and i.open > ZERO]
    exact = [i for i in candidates if abs(i.open - payment.amount) <= policy.tolerance]
    oldest = _oldest_summing(candidates, payment.amount, policy)
    if len(exact) > 1 or (exact and oldest):
        count = len(exact) + (1 if oldest else 0)
        return Proposal(unapplied=payment.amount, customer_code=customer,
                        reason=f"{count} ways to pay this amount among the customer's open invoices")
    if exact:
        return _settle(payment, exact, "amount", policy, customer)
    if oldest:
        return _settle(payment, oldest, "amount_oldest_first", policy, customer)
    return Proposal(unapplied=payment.amount, customer_code=customer,
                    reason="no open invoice, nor oldest invoices together, of this amount")


def _oldest_summing(candidates: list[OpenItem], amount: Decimal, policy: AllocationPolicy) -> list[OpenItem]:
    """The customer's first open items in the policy's order (two or more) whose total is the amount."""
    running = ZERO
    ordered = _order(candidates, policy)
    for count, item in enumerate(ordered, start=1):
        running += item.open
        if count > 1 and abs(running - amount) <= policy.tolerance:
            return ordered[:count]
        if running > amount + policy.tolerance:
            break
    return []
