"""Rules throughput: cost per invoice of a 200-rule ruleset, and rules evaluated per second.

    python benchmarks/rules_throughput.py [--invoices N] [--lines L] [--rules R]

Generates a ruleset shaped like EN 16931 (presence tests, code lists,
decimals, totals arithmetic with sums, rules per line, per VAT breakdown
and per allowance, regexes, dates, syntax facts), compiles it once, and
evaluates it on a typical invoice (10 lines, 2 VAT rates) many times. Prints
compile time, microseconds per invoice, rules (and rule occurrences) per
second, and the cost of explain mode. Times are CPU time of this process
(time.process_time), so other work on a shared machine does not inflate them. "Rules evaluated" counts each rule once
per invoice; "occurrences" counts a line rule once per line.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from decimal import Decimal
from pathlib import Path

from aiguillage.dsl.program import load_program
from aiguillage.engine.compiled import STATS
from aiguillage.engine.compiler import compile_ruleset
from aiguillage.engine.evaluate import evaluate
from aiguillage.engine.loader import rulesets_root
from aiguillage.model.invoice import Invoice

DOC_PRESENCE = [
    "number", "issue_date", "type_code", "currency_code", "process_control.specification_identifier",
    "seller.name", "seller.postal_address.country_code", "buyer.name", "buyer.postal_address.country_code",
    "totals.line_net_amount", "totals.amount_without_vat", "totals.amount_with_vat", "totals.amount_due_for_payment",
    "seller.vat_identifier", "buyer.electronic_address", "seller.electronic_address", "due_date", "buyer_reference",
]
DOC_DECIMALS = [
    "totals.line_net_amount", "totals.allowance_total_amount", "totals.charge_total_amount", "totals.amount_without_vat",
    "totals.vat_amount", "totals.amount_with_vat", "totals.paid_amount", "totals.rounding_amount", "totals.amount_due_for_payment",
]
CODELISTS = [
    ("currency_code", "ISO-4217"), ("vat_accounting_currency_code", "ISO-4217"), ("type_code", "UNTDID-1001-invoice"),
    ("seller.postal_address.country_code", "ISO-3166-1-alpha-2"), ("buyer.postal_address.country_code", "ISO-3166-1-alpha-2"),
    ("payment_instructions.means_type_code", "UNTDID-4461"), ("seller.electronic_address.scheme", "EAS"),
    ("buyer.electronic_address.scheme", "EAS"), ("seller.legal_registration_identifier.scheme", "ISO-6523-ICD"),
    ("delivery.address.country_code", "ISO-3166-1-alpha-2"),
]
LINE_RULES = [
    "identifier exists", "quantity exists", "quantity_unit_code exists", "net_amount exists", "item.name exists",
    "price.net_price exists", "price.net_price >= 0", "vat.category_code exists", "decimals(net_amount) <= 2",
    "quantity_unit_code in codelist UNECE-Rec20-Rec21", "vat.category_code in codelist UNCL-5305",
    "count(allowances) + count(charges) <= 99", "length(item.name) <= 200",
    "net_amount = round(quantity * price.net_price + sum(charges.amount) - sum(allowances.amount), 2)",
    "not (vat.category_code = \"S\") or vat.rate > 0", "not (vat.category_code = \"Z\") or vat.rate = 0",
    "period is missing or period.end_date is missing or period.start_date is missing or period.end_date >= period.start_date",
    "item.standard_identifier is missing or item.standard_identifier.scheme exists",
    "price.base_quantity is missing or price.base_quantity > 0", "identifier matches /^[A-Za-z0-9-]+$/",
]
VAT_RULES = [
    "taxable_amount exists", "tax_amount exists", "category_code exists", "decimals(taxable_amount) <= 2",
    "decimals(tax_amount) <= 2", "category_code in codelist UNCL-5305",
    "tax_amount = round(taxable_amount * rate / 100, 2)",
    "taxable_amount = round(sum(lines.net_amount where vat.category_code = breakdown.category_code and vat.rate = breakdown.rate)"
    " + sum(charges.amount where vat_category_code = breakdown.category_code and vat_rate = breakdown.rate)"
    " - sum(allowances.amount where vat_category_code = breakdown.category_code and vat_rate = breakdown.rate), 2)",
    "category_code != \"S\" or rate > 0", "category_code = \"O\" or rate exists",
]
ALLOWANCE_RULES = ["amount exists", "decimals(amount) <= 2", "reason exists or reason_code exists", "vat_category_code exists"]
DOC_MISC = [
    "totals.line_net_amount = sum(lines.net_amount)",
    "totals.amount_without_vat = totals.line_net_amount + sum(charges.amount) - sum(allowances.amount)",
    "totals.vat_amount is missing or totals.vat_amount = sum(vat_breakdown.tax_amount)",
    "totals.amount_with_vat = totals.amount_without_vat + totals.vat_amount",
    "count(vat_breakdown) >= 1", "count(lines) >= 1",
    "delivery.invoicing_period is missing or delivery.invoicing_period.end_date >= delivery.invoicing_period.start_date",
    "seller.vat_identifier exists or seller.legal_registration_identifier exists or seller.identifiers exists",
    "not (totals.amount_due_for_payment > 0) or due_date exists or payment_terms exists",
    "count(syntax_facts where kind = \"repeated\") = 0", "count(syntax_facts where kind = \"invalid_value\") = 0",
    "every t in payment_instructions.credit_transfers satisfies account_identifier exists",
    "days_between(issue_date, due_date) <= 120", "number matches /^[A-Z0-9-]+$/",
    "any line in lines satisfies vat.category_code = \"S\"",
    "count(lines where vat.category_code = \"S\") = 0 or count(vat_breakdown where category_code = \"S\") >= 1",
]


def generate_ruleset(rules: int = 200) -> str:
    """A ruleset with `rules` rules, cycling through the shapes above in EN 16931 proportions."""
    out = ['ruleset "bench" version 1', ""]
    out += [f"codelist {name}" for name in sorted({c for _, c in CODELISTS} | {"UNECE-Rec20-Rec21", "UNCL-5305"})]
    out += ["", "validate", ""]
    shapes: list[tuple[str, str]] = []
    shapes += [("", f"{p} exists") for p in DOC_PRESENCE]
    shapes += [("", f"{p} is missing or decimals({p}) <= 2") for p in DOC_DECIMALS]
    shapes += [("", f"{p} is missing or {p} in codelist {c}") for p, c in CODELISTS]
    shapes += [("", r) for r in DOC_MISC]
    shapes += [("for each line in lines", r) for r in LINE_RULES]
    shapes += [("for each breakdown in vat_breakdown", r) for r in VAT_RULES]
    shapes += [("for each allowance in allowances", r) for r in ALLOWANCE_RULES]
    shapes += [("for each allowance in lines.allowances", r) for r in ALLOWANCE_RULES[:3]]
    for n in range(rules):
        scope, assertion = shapes[n % len(shapes)]
        out.append(f"  rule B-{n + 1:03d} fatal \"Rule {n + 1} failed\"")
        if scope:
            out.append(f"    {scope}")
        out.append(f"    assert {assertion}")
        out.append("")
    return "\n".join(out)


def typical_invoice(lines: int = 10) -> Invoice:
    """A complete, valid invoice: `lines` lines at 20 % and 5.5 %, one document allowance and charge."""
    rows = []
    for i in range(1, lines + 1):
        rate = "20.00" if i % 3 else "5.50"
        rows.append({
            "identifier": str(i), "quantity": "2", "quantity_unit_code": "H87", "net_amount": f"{20 * i}.00",
            "price": {"net_price": f"{10 * i}.00"}, "vat": {"category_code": "S", "rate": rate},
            "item": {"name": f"Article {i}", "standard_identifier": {"value": "4012345000009", "scheme": "0160"}},
        })
    net = sum(Decimal(r["net_amount"]) for r in rows)
    by_rate: dict[str, Decimal] = {}
    for r in rows:
        by_rate[r["vat"]["rate"]] = by_rate.get(r["vat"]["rate"], Decimal(0)) + Decimal(r["net_amount"])
    by_rate["20.00"] += Decimal("15.00") - Decimal("5.00")
    breakdown = [
        {"category_code": "S", "rate": rate, "taxable_amount": f"{base:.2f}", "tax_amount": f"{(base * Decimal(rate) / 100).quantize(Decimal('0.01')):.2f}"}
        for rate, base in sorted(by_rate.items())
    ]
    vat = sum(Decimal(b["tax_amount"]) for b in breakdown)
    without = net + Decimal("10.00")
    return Invoice.model_validate({
        "number": "INV-2026-0001", "issue_date": "2026-03-01", "due_date": "2026-03-31", "type_code": "380", "currency_code": "EUR",
        "buyer_reference": "REF-1", "process_control": {"specification_identifier": "urn:cen.eu:en16931:2017"},
        "seller": {"name": "Seller", "vat_identifier": "FR44412345678", "electronic_address": {"value": "41234567800012", "scheme": "0009"},
                   "legal_registration_identifier": {"value": "41234567800012", "scheme": "0009"},
                   "postal_address": {"city": "Lyon", "country_code": "FR"}},
        "buyer": {"name": "Buyer", "electronic_address": {"value": "52198765400027", "scheme": "0009"}, "postal_address": {"city": "Paris", "country_code": "FR"}},
        "payment_instructions": {"means_type_code": "30", "credit_transfers": [{"account_identifier": "FR7630006000011234567890189"}]},
        "allowances": [{"amount": "5.00", "vat_category_code": "S", "vat_rate": "20.00", "reason": "Discount"}],
        "charges": [{"amount": "15.00", "vat_category_code": "S", "vat_rate": "20.00", "reason": "Freight"}],
        "totals": {"line_net_amount": f"{net:.2f}", "allowance_total_amount": "5.00", "charge_total_amount": "15.00",
                   "amount_without_vat": f"{without:.2f}", "vat_amount": f"{vat:.2f}", "amount_with_vat": f"{without + vat:.2f}",
                   "amount_due_for_payment": f"{without + vat:.2f}"},
        "vat_breakdown": breakdown,
        "lines": rows,
    })


def occurrences(compiled, invoice: Invoice) -> int:  # noqa: ANN001
    """Rule evaluations per invoice, counting a scoped rule once per occurrence."""
    total = 0
    for rule in compiled.units[-1].program.validate_rules:
        if not rule.scopes:
            total += 1
            continue
        path = rule.scopes[0].source.text
        counts = {"lines": len(invoice.lines), "vat_breakdown": len(invoice.vat_breakdown), "allowances": len(invoice.allowances),
                  "lines.allowances": sum(len(line.allowances) for line in invoice.lines)}
        total += counts.get(path, 0)
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--invoices", type=int, default=20000, help="evaluations to time (default 20000)")
    parser.add_argument("--lines", type=int, default=10, help="lines per invoice (default 10)")
    parser.add_argument("--rules", type=int, default=200, help="rules in the generated ruleset (default 200)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "bench.rules"
        path.write_text(generate_ruleset(args.rules), encoding="utf-8")
        start = time.process_time()
        program = load_program(path, codelist_dirs=[rulesets_root() / "codelists"])
        checked = time.process_time()
        compiled = compile_ruleset(program)
        built = time.process_time()
    invoice = typical_invoice(args.lines)
    decision = evaluate(invoice, compiled)
    assert not decision.findings, [f.rule + ": " + f.message for f in decision.findings]
    for _ in range(500):
        evaluate(invoice, compiled)
    samples = []
    batch = max(1, args.invoices // 10)
    for _ in range(10):
        t0 = time.process_time()
        for _ in range(batch):
            evaluate(invoice, compiled)
        samples.append((time.process_time() - t0) / batch)
    per_invoice = statistics.median(samples)
    validate_only = []
    fns, flags = compiled.units[0].fast, compiled.flags[0]
    from aiguillage.engine.evaluate import Run

    for _ in range(10):
        t0 = time.process_time()
        for _ in range(batch):
            run = Run(invoice, compiled, "en", decision.today, False)
            fns.validate(invoice, run, flags)
        validate_only.append((time.process_time() - t0) / batch)
    t0 = time.process_time()
    explain_runs = max(1, batch // 10)
    for _ in range(explain_runs):
        evaluate(invoice, compiled, explain=True)
    explain_cost = (time.process_time() - t0) / explain_runs
    rules = compiled.rule_count()
    occ = occurrences(compiled, invoice)
    print(f"ruleset: {rules} rules ({occ} rule occurrences on a {args.lines}-line invoice), unit compilations: {STATS.unit_compilations}")
    print(f"load + check: {(checked - start) * 1e3:.1f} ms; compile to Python: {(built - checked) * 1e3:.1f} ms")
    print(f"per invoice (evaluate, Decision included): {per_invoice * 1e6:.1f} µs  →  {1 / per_invoice:,.0f} invoices/s on one core")
    print(f"validate phase alone:                     {statistics.median(validate_only) * 1e6:.1f} µs")
    print(f"rules evaluated per second: {rules / per_invoice:,.0f}  (rule occurrences: {occ / per_invoice:,.0f}/s)")
    print(f"cost per rule: {per_invoice / rules * 1e9:.0f} ns; explain mode: {explain_cost * 1e6:.0f} µs per invoice")


if __name__ == "__main__":
    main()
