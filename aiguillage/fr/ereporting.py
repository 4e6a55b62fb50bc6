"""E-reporting (flow 10): what France must learn of the transactions e-invoicing does not carry.

From the store, for one tenant and one period: 10.1 international B2B
sales one by one, 10.3 B2C sales aggregated per day, currency, VAT category
and rate, 10.2 payments received on those international sales, 10.4
payments received on B2C sales aggregated per day and rate. Domestic B2B
invoices are excluded (the invoice itself goes through the PA). Payments are
those the store knows: recorded through `POST /v1/invoices/{id}/payments`
(audit `workflow.payment`) and 211/212 lifecycle statuses.

The cadence follows the tenant's VAT regime (`fr_settings.vat_regime`):
réel normal mensuel reports transactions per ten days (1–10, 11–20, 21–end)
and payments per month; réel normal trimestriel and simplifié per month;
franchise en base per two months. `periods(regime, month)` lists the
reporting periods that end in a month.

The documents are XML in the structure of flow 10 (report, declarant,
period, then transactions or payments); the official DGFiP XSD of flow 10
is not in the conformance folder, so they are not validated against it.
"""

from __future__ import annotations

import calendar
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from lxml import etree
from sqlalchemy import select
from sqlalchemy.orm import Session

from aiguillage.store.base import utcnow
from aiguillage.store.fr_models import FrSettings, LifecycleEvent
from aiguillage.store.models import AuditEntry, InvoiceRecord

REGIMES = ("reel_normal_mensuel", "reel_normal_trimestriel", "simplifie", "franchise")
NS = "urn:aiguillage:fr:ereporting:flow10"
CENT = Decimal("0.01")


class EReportingError(ValueError):
    """A period or setting that cannot be reported; says which."""


@dataclass(frozen=True)
class Period:
    """One reporting period: what it covers (inclusive) and which reports fall due for it."""

    start: date
    end: date
    kinds: tuple[str, ...]

    @property
    def label(self) -> str:
        return f"{self.start:%Y%m%d}-{self.end:%Y%m%d}"


def periods(regime: str, month: str) -> list[Period]:
    """The reporting periods ending in `month` (YYYY-MM) under `regime`, each with its flows (10.1–10.4)."""
    if regime not in REGIMES:
        raise EReportingError(f"unknown VAT regime {regime!r}; expected one of {', '.join(REGIMES)}")
    try:
        year, number = (int(part) for part in month.split("-"))
        first = date(year, number, 1)
    except ValueError:
        raise EReportingError(f"--period: expected a month as YYYY-MM, not {month!r}") from None
    last = date(year, number, calendar.monthrange(year, number)[1])
    transactions, payments = ("10.1", "10.3"), ("10.2", "10.4")
    if regime == "reel_normal_mensuel":
        return [Period(first, date(year, number, 10), transactions),
                Period(date(year, number, 11), date(year, number, 20), transactions),
                Period(date(year, number, 21), last, transactions),
                Period(first, last, payments)]
    if regime == "franchise":
        if number % 2:
            return []  # two-month periods end in even months
        start = date(year, number - 1, 1)
        return [Period(start, last, transactions + payments)]
    return [Period(first, last, transactions + payments)]


@dataclass
class Report:
    """One XML document to send: its flow kinds, period, and how many entries it holds."""

    period: Period
    kinds: tuple[str, ...]
    content: bytes
    entries: dict[str, int] = field(default_factory=dict)

    @property
    def filename(self) -> str:
        return f"FRR-{'-'.join(k.replace('.', '') for k in self.kinds)}-{self.period.label}.xml"


def _d(value: Any) -> Decimal:
    return Decimal(str(value)) if value not in (None, "") else Decimal(0)


def classify(model: dict[str, Any]) -> str:
    """"b2b-fr" (e-invoicing, not reported), "b2b-int" (10.1/10.2) or "b2c" (10.3/10.4)."""
    buyer = model.get("buyer") or {}
    country = ((buyer.get("postal_address") or {}).get("country_code") or "FR").upper()
    identified = bool(buyer.get("vat_identifier") or (buyer.get("legal_registration_identifier") or {}).get("value"))
    if not identified:
        return "b2c"
    return "b2b-fr" if country == "FR" else "b2b-int"


def _breakdown(model: dict[str, Any]) -> list[tuple[str, Decimal, Decimal, Decimal]]:
    return [(str(b.get("category_code") or "S"), _d(b.get("rate")), _d(b.get("taxable_amount")), _d(b.get("tax_amount")))
            for b in model.get("vat_breakdown") or []]


def _el(parent: etree._Element, name: str, text: Any = None, **attrs: str) -> etree._Element:
    element = etree.SubElement(parent, f"{{{NS}}}{name}", attrs)
    if text is not None:
        element.text = f"{text.quantize(CENT):f}" if isinstance(text, Decimal) else str(text)
    return element


def _invoices(session: Session, tenant_id: uuid.UUID, period: Period) -> list[InvoiceRecord]:
    return list(session.scalars(select(InvoiceRecord).where(
        InvoiceRecord.tenant_id == tenant_id, InvoiceRecord.issue_date >= period.start,
        InvoiceRecord.issue_date <= period.end, InvoiceRecord.status != "rejected").order_by(InvoiceRecord.issue_date,
                                                                                             InvoiceRecord.number)))


def _payments(session: Session, tenant_id: uuid.UUID, period: Period) -> list[tuple[InvoiceRecord, date, Decimal]]:
    """Payments received in the period: (invoice, day, amount), from recorded payments and 211/212 statuses."""
    found: list[tuple[uuid.UUID, date, Decimal]] = []
    for entry in session.scalars(select(AuditEntry).where(AuditEntry.tenant_id == tenant_id,
                                                          AuditEntry.action == "workflow.payment")):
        detail = entry.detail or {}
        day = date.fromisoformat(detail["paid_on"]) if detail.get("paid_on") else entry.at.date()
        if period.start <= day <= period.end and entry.target_id:
            found.append((uuid.UUID(entry.target_id), day, _d(detail.get("amount"))))
    for event in session.scalars(select(LifecycleEvent).where(LifecycleEvent.tenant_id == tenant_id,
                                                              LifecycleEvent.code.in_(("211", "212")))):
        day = event.issued_at.date()
        if period.start <= day <= period.end and event.amount is not None:
            found.append((event.invoice_id, day, event.amount))
    result = []
    for invoice_id, day, amount in found:
        record = session.get(InvoiceRecord, invoice_id)
        if record is not None and record.tenant_id == tenant_id:
            result.append((record, day, amount or _d(record.amount_with_vat)))
    return result


def build(session: Session, tenant_id: uuid.UUID, period: Period, *, now: datetime | None = None) -> Report:
    """The period's report (the flows `period.kinds` names), from the store."""
    settings = session.get(FrSettings, tenant_id)
    if settings is None:
        raise EReportingError("this tenant has no French settings (SIREN, VAT regime): aiguillage ereporting settings")
    root = etree.Element(f"{{{NS}}}Report", nsmap={None: NS})
    header = _el(root, "ReportDocument")
    _el(header, "Id", f"FRR-{settings.siren}-{period.label}-{'-'.join(period.kinds)}")
    _el(header, "IssueDateTime", (now or utcnow()).strftime("%Y%m%d%H%M%S"))
    _el(header, "Flows", " ".join(period.kinds))
    _el(_el(header, "Declarant"), "Siren", settings.siren)
    span = _el(header, "Period")
    _el(span, "StartDate", f"{period.start:%Y%m%d}")
    _el(span, "EndDate", f"{period.end:%Y%m%d}")
    _el(header, "VatRegime", settings.vat_regime)
    entries: dict[str, int] = {}
    invoices = _invoices(session, tenant_id, period) if {"10.1", "10.3"} & set(period.kinds) else []
    if "10.1" in period.kinds:
        block = _el(root, "Transactions", flow="10.1")
        for record in (r for r in invoices if classify(r.model or {}) == "b2b-int"):
            model = record.model or {}
            buyer = model.get("buyer") or {}
            item = _el(block, "Invoice")
            _el(item, "Id", record.number)
            _el(item, "IssueDate", f"{record.issue_date:%Y%m%d}")
            _el(item, "TypeCode", model.get("type_code") or "380")
            _el(item, "CurrencyCode", record.currency_code or "EUR")
            party = _el(item, "Buyer")
            _el(party, "Name", buyer.get("name") or "")
            _el(party, "CountryId", (buyer.get("postal_address") or {}).get("country_code") or "")
            if buyer.get("vat_identifier"):
                _el(party, "VatId", buyer["vat_identifier"])
            for category, rate, taxable, tax in _breakdown(model):
                _el(item, "VatBreakdown", category=category, rate=f"{rate:f}", taxable=f"{taxable.quantize(CENT):f}",
                    tax=f"{tax.quantize(CENT):f}")
            _el(item, "TaxBasisTotalAmount", _d((model.get("totals") or {}).get("amount_without_vat")))
            _el(item, "GrandTotalAmount", _d(record.amount_with_vat))
            entries["10.1"] = entries.get("10.1", 0) + 1
    if "10.3" in period.kinds:
        block = _el(root, "Transactions", flow="10.3")
        totals: dict[tuple[date, str, str, Decimal], list[Decimal]] = defaultdict(lambda: [Decimal(0), Decimal(0), Decimal(0)])
        for record in (r for r in invoices if classify(r.model or {}) == "b2c"):
            for category, rate, taxable, tax in _breakdown(record.model or {}):
                slot = totals[(record.issue_date, record.currency_code or "EUR", category, rate)]
                slot[0] += taxable
                slot[1] += tax
                slot[2] += 1
        for (day, currency, category, rate), (taxable, tax, count) in sorted(totals.items()):
            _el(block, "DailyTotal", date=f"{day:%Y%m%d}", currency=currency, category=category, rate=f"{rate:f}",
                taxable=f"{taxable.quantize(CENT):f}", tax=f"{tax.quantize(CENT):f}", transactions=str(int(count)))
        entries["10.3"] = len(totals)
    if {"10.2", "10.4"} & set(period.kinds):
        payments = _payments(session, tenant_id, period)
        if "10.2" in period.kinds:
            block = _el(root, "Payments", flow="10.2")
            for record, day, amount in payments:
                if classify(record.model or {}) == "b2b-int":
                    _el(block, "Payment", invoice=record.number or "", date=f"{day:%Y%m%d}",
                        amount=f"{amount.quantize(CENT):f}", currency=record.currency_code or "EUR")
                    entries["10.2"] = entries.get("10.2", 0) + 1
        if "10.4" in period.kinds:
            block = _el(root, "Payments", flow="10.4")
            daily: dict[tuple[date, str, Decimal], Decimal] = defaultdict(Decimal)
            for record, day, amount in payments:
                if classify(record.model or {}) != "b2c":
                    continue
                parts = _breakdown(record.model or {})
                gross = sum((taxable + tax for _, _, taxable, tax in parts), Decimal(0))
                for _, rate, taxable, tax in parts or [("S", Decimal(0), amount, Decimal(0))]:
                    share = amount if not gross else amount * (taxable + tax) / gross
                    daily[(day, record.currency_code or "EUR", rate)] += share
            for (day, currency, rate), amount in sorted(daily.items()):
                _el(block, "DailyPayments", date=f"{day:%Y%m%d}", currency=currency, rate=f"{rate:f}",
                    amount=f"{amount.quantize(CENT):f}")
            entries["10.4"] = len(daily)
    content = etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
    return Report(period, period.kinds, content, entries)


def set_settings(session: Session, tenant_id: uuid.UUID, siren: str, vat_regime: str) -> FrSettings:
    if not (len(siren) == 9 and siren.isdigit()):
        raise EReportingError(f"a SIREN is 9 digits, not {siren!r}")
    if vat_regime not in REGIMES:
        raise EReportingError(f"unknown VAT regime {vat_regime!r}; expected one of {', '.join(REGIMES)}")
    row = session.get(FrSettings, tenant_id)
    if row is None:
        row = FrSettings(tenant_id=tenant_id, siren=siren, vat_regime=vat_regime)
        session.add(row)
    else:
        row.siren, row.vat_regime, row.updated_at = siren, vat_regime, utcnow()
    session.flush()
    return row


def flow_info(report: Report) -> dict[str, Any]:
    """The `flowInfo` that submits a report to the PA (flowSyntax FRR)."""
    import hashlib

    rule = "B2C" if set(report.kinds) <= {"10.3", "10.4"} else "B2BInt"
    return {"trackingId": f"FRR-{report.period.label}-{''.join(k.replace('.', '') for k in report.kinds)}"[:64],
            "name": report.filename, "flowSyntax": "FRR", "processingRule": rule,
            "sha256": hashlib.sha256(report.content).hexdigest()}
