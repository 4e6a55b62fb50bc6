"""The statement of account: a customer's open invoices, their balances and aging, and the total, as a PDF."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from decimal import Decimal
from io import BytesIO
from xml.sax.saxutils import escape

from babel.dates import format_date
from babel.numbers import format_currency
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from aiguillage.web.presenting import InvoiceRow

_WORDS = {
    "en": ("Statement of account", "as of", "Invoice", "Issued", "Due", "Amount", "Balance", "Days late", "Total owed"),
    "fr": ("Relevé de compte", "au", "Facture", "Émise le", "Échéance", "Montant", "Solde", "Jours de retard",
           "Total dû"),
}


def render(customer_name: str, rows: list[InvoiceRow], today: date, lang: str) -> bytes:
    words = _WORDS.get(lang, _WORDS["en"])
    styles = getSampleStyleSheet()

    def day(value: date | None) -> str:
        return format_date(value, "medium", locale=lang) if value else ""

    def money(value: Decimal | None, currency: str | None) -> str:
        return "" if value is None else format_currency(value, currency or "EUR", locale=lang)

    table = [list(words[2:8])]
    totals: dict[str, Decimal] = defaultdict(Decimal)
    for row in rows:
        currency = row.record.currency_code or "EUR"
        table.append([row.record.number or "", day(row.record.issue_date), day(row.due_date),
                      money(row.amount_due, currency), money(row.balance, currency), str(row.days_late or "")])
        totals[currency] += row.balance or Decimal("0")
    grid = Table(table, repeatRows=1)
    grid.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.25, colors.grey),
                              ("BACKGROUND", (0, 0), (-1, 0), colors.lightgrey),
                              ("ALIGN", (3, 1), (-1, -1), "RIGHT")]))
    story = [Paragraph(f"{words[0]} — {escape(customer_name)}", styles["Title"]),
             Paragraph(f"{words[1]} {day(today)}", styles["Normal"]), Spacer(1, 12), grid, Spacer(1, 12)]
    for currency, total in sorted(totals.items()):
        story.append(Paragraph(f"<b>{words[8]}: {money(total, currency)}</b>", styles["Normal"]))
    out = BytesIO()
    SimpleDocTemplate(out, pagesize=A4, title=words[0]).build(story)
    return out.getvalue()
