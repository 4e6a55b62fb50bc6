"""Small texts in the customer's language: e-mail subject and bodies (plain and HTML).

Kept as data (one dict per language) so a language is added without code;
a language we do not have falls back to English. Values are HTML-escaped
for the HTML body, never for the plain one.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from string import Template

from aiguillage.model.invoice import Invoice

#: UNTDID 1001 codes that are credit notes (EN 16931 list); they get "credit note" wording.
CREDIT_NOTE_CODES = frozenset({"81", "83", "261", "262", "296", "308", "381", "396", "420", "458", "532"})

TEXTS: dict[str, dict[str, str]] = {
    "en": {
        "invoice": "invoice",
        "credit_note": "credit note",
        "subject": "${Kind} ${number} from ${seller}",
        "greeting": "Hello,",
        "intro": "Please find attached our ${kind} ${number} of ${issue_date} for ${amount}.",
        "due": "Payment is due by ${due_date}.",
        "pay_to": "Please pay to IBAN ${iban} quoting ${remittance}.",
        "attachments": "Attached: ${files}.",
        "closing": "Kind regards,",
        "footer": "This message was sent automatically; reply to it with any question about this ${kind}.",
    },
    "fr": {
        "invoice": "facture",
        "credit_note": "avoir",
        "subject": "${Kind} ${number} de ${seller}",
        "greeting": "Bonjour,",
        "intro": "Veuillez trouver ci-joint notre ${kind} ${number} du ${issue_date}, d'un montant de ${amount}.",
        "due": "Échéance de paiement : ${due_date}.",
        "pay_to": "Merci de régler par virement sur l'IBAN ${iban} en indiquant la référence ${remittance}.",
        "attachments": "Pièces jointes : ${files}.",
        "closing": "Cordialement,",
        "footer": "Ce message est envoyé automatiquement ; répondez-y pour toute question sur cette ${kind}.",
    },
}


@dataclass(frozen=True)
class Body:
    """A rendered e-mail: subject, plain text and HTML."""

    subject: str
    text: str
    html: str


def _amount(value: Decimal | None, currency: str | None, lang: str) -> str:
    if value is None:
        return ""
    text = f"{value:,.2f}"
    if lang == "fr":
        text = text.replace(",", "\u202f").replace(".", ",")
    return f"{text} {currency or ''}".strip()


def _date(value: date | None, lang: str) -> str:
    if value is None:
        return ""
    return value.strftime("%d/%m/%Y") if lang == "fr" else value.isoformat()


def email_body(invoice: Invoice, lang: str, filenames: list[str]) -> Body:
    """Subject and bodies for an invoice e-mail in `lang` (falls back to English)."""
    lang = lang.lower().split("-")[0] if lang else "en"
    texts = TEXTS.get(lang) or TEXTS["en"]
    lang = lang if lang in TEXTS else "en"
    kind = texts["credit_note"] if invoice.type_code in CREDIT_NOTE_CODES else texts["invoice"]
    seller = invoice.seller.trading_name or invoice.seller.name if invoice.seller else ""
    totals = invoice.totals
    payment = invoice.payment_instructions
    iban = payment.credit_transfers[0].account_identifier if payment and payment.credit_transfers else None
    values = {
        "kind": kind,
        "Kind": kind[:1].upper() + kind[1:],
        "number": invoice.number or "",
        "seller": seller or "",
        "issue_date": _date(invoice.issue_date, lang),
        "due_date": _date(invoice.due_date, lang),
        "amount": _amount(totals.amount_due_for_payment if totals else None, invoice.currency_code, lang),
        "iban": iban or "",
        "remittance": (payment.remittance_information if payment else None) or invoice.number or "",
        "files": ", ".join(filenames),
    }
    keys = ["greeting", "intro"]
    if invoice.due_date:
        keys.append("due")
    if iban:
        keys.append("pay_to")
    if filenames:
        keys.append("attachments")
    paragraphs = [Template(texts[key]).safe_substitute(values) for key in keys]
    closing = [Template(texts["closing"]).safe_substitute(values), seller or ""]
    footer = Template(texts["footer"]).safe_substitute(values)
    text = "\n\n".join([*paragraphs, "\n".join(closing), "-- ", footer]) + "\n"
    escaped = {k: html.escape(v) for k, v in values.items()}
    html_paragraphs = [Template(html.escape(texts[key], quote=False)).safe_substitute(escaped) for key in keys]
    html_text = (
        f'<!DOCTYPE html>\n<html lang="{lang}"><head><meta charset="utf-8"></head><body>\n'
        + "".join(f"<p>{p}</p>\n" for p in html_paragraphs)
        + f"<p>{html.escape(closing[0])}<br>{html.escape(closing[1])}</p>\n"
        + f'<p style="color:#666;font-size:smaller">{html.escape(footer)}</p>\n</body></html>\n'
    )
    return Body(Template(texts["subject"]).safe_substitute(values), text, html_text)
