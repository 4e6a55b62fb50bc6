"""A synthetic bank statement against open invoices, with the truth of what each line pays.

Used by `benchmarks/allocation.py` (10,000 lines against 20,000 invoices)
and, smaller, by the tests. Lines are of the kinds a French receivables
team sees: clean RF references, invoice numbers in the text, references
typed wrongly, no reference at all, one transfer for several invoices,
part payments, and payers known only by name. Every invoice is paid by at
most one line, so the truth is one set of (invoice number, amount) per line.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from stdnum.iso7064 import mod_97_10

from aiguillage.payments.reference import creditor_reference
from aiguillage.payments.testing.writers import Credit

CENT = Decimal("0.01")

#: Share of each kind of line (the rest of 1.0 goes to clean references).
MIX = {
    "number_in_text": 0.15,
    "typo": 0.10,
    "no_reference": 0.10,
    "grouped": 0.08,
    "oldest_first": 0.02,
    "partial": 0.05,
    "name_only": 0.05,
}


@dataclass(frozen=True)
class ScenarioInvoice:
    number: str
    customer: str
    amount: Decimal
    issued: date


@dataclass(frozen=True)
class ScenarioCustomer:
    code: str
    name: str
    iban: str


@dataclass
class Scenario:
    customers: list[ScenarioCustomer]
    invoices: list[ScenarioInvoice]
    credits: list[Credit] = field(default_factory=list)
    #: Per line (1-based, as in the statement): the kind and {invoice number: amount} it truly pays.
    truth: dict[int, tuple[str, dict[str, Decimal]]] = field(default_factory=dict)


def _iban(rng: random.Random) -> str:
    bban = "".join(rng.choice("0123456789") for _ in range(23))
    return "FR" + mod_97_10.calc_check_digits(bban + "FR") + bban


def _typo(text: str, rng: random.Random) -> str:
    """One adjacent transposition (or substitution when the two are equal) in the last 8 characters."""
    chars = list(text)
    for _ in range(20):
        i = rng.randrange(max(4, len(chars) - 8), len(chars) - 1)
        if chars[i] != chars[i + 1]:
            chars[i], chars[i + 1] = chars[i + 1], chars[i]
            return "".join(chars)
    i = len(chars) - 1
    chars[i] = "7" if chars[i] != "7" else "3"
    return "".join(chars)


def build(lines: int, invoices: int, *, seed: int = 14) -> Scenario:
    """A scenario of `lines` statement lines against `invoices` open invoices (10 per customer)."""
    rng = random.Random(seed)
    customers = [ScenarioCustomer(f"CUST{i:05d}", f"Client {i:05d} {rng.choice(['Bois', 'Fer', 'Lin', 'Sel'])}",
                                  _iban(rng)) for i in range(max(1, invoices // 10))]
    start = date(2026, 1, 5)
    made: list[ScenarioInvoice] = []
    # A subscription: some customers are invoiced the same amount again and again, so an amount alone
    # cannot tell their invoices apart (the engine must leave those, not guess).
    subscription = {c.code: Decimal(rng.randrange(5000, 50000)) * CENT for c in customers}
    for n in range(invoices):
        customer = customers[n % len(customers)]
        fixed = (n // len(customers)) % 4 == 0 and customer.code[-1] in "02468"
        made.append(ScenarioInvoice(f"INV-2026-{n + 1:06d}", customer.code,
                                    subscription[customer.code] if fixed else Decimal(rng.randrange(5000, 500000)) * CENT,
                                    start + timedelta(days=(n // len(customers)) * 30 + rng.randrange(0, 5))))
    scenario = Scenario(customers, made)
    by_customer: dict[str, list[ScenarioInvoice]] = {}
    for inv in made:
        by_customer.setdefault(inv.customer, []).append(inv)
    for group in by_customer.values():
        group.sort(key=lambda i: (i.issued, i.number))
    customer_of = {c.code: c for c in customers}
    free = list(made)
    rng.shuffle(free)
    taken: set[str] = set()

    def pick() -> ScenarioInvoice | None:
        while free:
            inv = free.pop()
            if inv.number not in taken:
                taken.add(inv.number)
                return inv
        return None

    kinds = [k for k, share in MIX.items() for _ in range(round(share * lines))]
    kinds += ["clean_reference"] * (lines - len(kinds))
    rng.shuffle(kinds)
    for number, kind in enumerate(kinds[:lines], start=1):
        credit, truth = _line(kind, pick, by_customer, customer_of, taken, rng, number)
        if credit is None:
            credit, truth = _line("clean_reference", pick, by_customer, customer_of, taken, rng, number)
            kind = "clean_reference"
        if credit is None:
            break
        scenario.credits.append(credit)
        scenario.truth[len(scenario.credits)] = (kind, truth)
    return scenario


def _line(kind: str, pick: Any, by_customer: dict[str, list[ScenarioInvoice]],
          customer_of: dict[str, ScenarioCustomer], taken: set[str], rng: random.Random,
          number: int) -> tuple[Credit | None, dict[str, Decimal]]:
    reference = f"STMT-{number:06d}"
    if kind in ("clean_reference", "number_in_text", "typo", "no_reference", "partial", "name_only"):
        inv = pick()
        if inv is None:
            return None, {}
        payer = customer_of[inv.customer]
        rf = creditor_reference(inv.number) or ""
        if kind == "clean_reference":
            return Credit(inv.amount, "", payer.name, payer.iban if rng.random() < 0.7 else "", reference,
                          structured=rf), {inv.number: inv.amount}
        if kind == "number_in_text":
            text = rng.choice(["Facture {n}", "REGLEMENT FACT {n} MERCI", "paiement {n}", "Fact. n° {n}"])
            return Credit(inv.amount, text.format(n=inv.number), payer.name, payer.iban, reference), \
                {inv.number: inv.amount}
        if kind == "typo":
            wrong = _typo(rf, rng) if rng.random() < 0.5 else _typo(inv.number, rng)
            return Credit(inv.amount, f"Facture {wrong}", payer.name, payer.iban, reference), {inv.number: inv.amount}
        if kind == "no_reference":
            return Credit(inv.amount, rng.choice(["VIREMENT", "", "SEPA CT"]), payer.name, payer.iban, reference), \
                {inv.number: inv.amount}
        if kind == "partial":
            part = (inv.amount * Decimal(rng.randrange(20, 80)) / 100).quantize(CENT)
            return Credit(part, "", payer.name, payer.iban, reference, structured=rf), {inv.number: part}
        return Credit(inv.amount, "", rng.choice([payer.name.upper(), payer.name + " SAS", payer.name]), "",
                      reference), {inv.number: inv.amount}
    if kind == "grouped":
        first = pick()
        if first is None:
            return None, {}
        others = [i for i in by_customer[first.customer] if i.number not in taken][:rng.randrange(1, 3)]
        taken.update(i.number for i in others)
        group = [first, *others]
        payer = customer_of[first.customer]
        if rng.random() < 0.5:
            text = "Factures " + ", ".join(i.number for i in group)
        else:
            text = " ".join(creditor_reference(i.number) or "" for i in group)
        return Credit(sum((i.amount for i in group), Decimal(0)), text, payer.name, payer.iban, reference), \
            {i.number: i.amount for i in group}
    if kind == "oldest_first":
        for code in rng.sample(list(by_customer), min(len(by_customer), 50)):
            oldest = by_customer[code][:2]
            if len(oldest) == 2 and not any(i.number in taken for i in oldest):
                taken.update(i.number for i in oldest)
                payer = customer_of[code]
                return Credit(oldest[0].amount + oldest[1].amount, "VIREMENT", payer.name, payer.iban, reference), \
                    {i.number: i.amount for i in oldest}
        return None, {}
    raise ValueError(kind)


def invoice_rows(scenario: Scenario, tenant_id: uuid.UUID) -> list[dict[str, Any]]:
    """Rows for a bulk insert into `invoices`: a minimal EN 16931 model per invoice (what balances read)."""
    rows = []
    for inv in scenario.invoices:
        model = {"number": inv.number, "issue_date": inv.issued.isoformat(), "type_code": "380",
                 "currency_code": "EUR", "due_date": (inv.issued + timedelta(days=30)).isoformat(),
                 "totals": {"amount_with_vat": str(inv.amount), "amount_due_for_payment": str(inv.amount)}}
        rows.append({"tenant_id": tenant_id, "seller_key": "VAT:FR00000000000", "number": inv.number,
                     "syntax": "json", "document": b"{}", "document_sha256": "0" * 64, "model": model,
                     "model_sha256": "0" * 64, "customer_code": inv.customer, "issue_date": inv.issued,
                     "currency_code": "EUR", "amount_with_vat": inv.amount, "status": "delivered",
                     "received_by": "benchmark"})
    return rows


@dataclass
class Score:
    lines: int = 0
    correct: int = 0
    wrong: int = 0
    left: int = 0
    by_kind: dict[str, list[int]] = field(default_factory=dict)  # kind → [lines, correct, wrong]
    wrong_lines: list[int] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return self.correct / self.lines if self.lines else 0.0


def score(scenario: Scenario, allocated: dict[int, dict[str, Decimal]]) -> Score:
    """Compare what was allocated per line (invoice number → amount, write-offs excluded) with the truth.

    Correct: exactly the truth. Wrong: any invoice the line does not pay, or
    more than it pays. Anything else (nothing, or part of the truth) is left for a person.
    """
    result = Score()
    for line, (kind, truth) in scenario.truth.items():
        got = allocated.get(line, {})
        counts = result.by_kind.setdefault(kind, [0, 0, 0])
        result.lines += 1
        counts[0] += 1
        if any(n not in truth or amount > truth[n] for n, amount in got.items()):
            result.wrong += 1
            counts[2] += 1
            result.wrong_lines.append(line)
        elif got == truth:
            result.correct += 1
            counts[1] += 1
        else:
            result.left += 1
    return result
