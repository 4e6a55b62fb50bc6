"""ISO 20022 camt.053 (statement) and camt.054 (debit/credit notification), any version 001.02 to 001.13.

Read with lxml through the hardened parser (`model.xmlsafe`: no entities,
no network, size limit), by local names so every message version reads the
same. pycamt (PyPI) was tried: it reads camt.053 statements and reports but
not camt.054 notifications (`Ntfctn`), and its `.//Amt` lookups take the
first amount anywhere under an entry, so this small reader is our own.
One line per transaction detail (`TxDtls`), or per entry when it has none:
a batch booking of five transfers is five payments.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation

from lxml import etree

from aiguillage.model.errors import InvoiceReadError
from aiguillage.model.xmlsafe import parse_xml
from aiguillage.payments.statements.base import Statement, StatementError, StatementLine


def _local(element: etree._Element) -> str:
    return etree.QName(element).localname


def _child(element: etree._Element | None, *path: str) -> etree._Element | None:
    for name in path:
        if element is None:
            return None
        element = next((c for c in element if isinstance(c.tag, str) and _local(c) == name), None)
    return element


def _children(element: etree._Element, name: str) -> list[etree._Element]:
    return [c for c in element if isinstance(c.tag, str) and _local(c) == name]


def _text(element: etree._Element | None, *path: str) -> str | None:
    found = _child(element, *path)
    text = found.text.strip() if found is not None and found.text else ""
    return text or None


def _amount(element: etree._Element | None, where: str) -> tuple[Decimal, str]:
    if element is None or not element.text:
        raise StatementError("amount missing", field=where)
    try:
        amount = Decimal(element.text.strip())
    except InvalidOperation:
        raise StatementError(f"amount {element.text!r} is not a number", line=element.sourceline,
                             field=where) from None
    currency = element.get("Ccy")
    if not currency:
        raise StatementError("amount without currency (Ccy)", line=element.sourceline, field=where)
    return amount, currency


def _date(entry: etree._Element, name: str) -> date | None:
    node = _child(entry, name)
    if node is None:
        return None
    text = _text(node, "Dt") or (_text(node, "DtTm") or "")[:10]
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        raise StatementError(f"{name} {text!r} is not a date", line=node.sourceline, field=name) from None


def read_camt(data: bytes, source: str | None = None) -> Statement:
    """camt.053 or camt.054 bytes → a Statement; StatementError for malformed XML or missing fields."""
    try:
        root = parse_xml(data, source)
    except InvoiceReadError as exc:
        raise StatementError(exc.message if hasattr(exc, "message") else str(exc),
                             line=getattr(exc, "line", None), column=getattr(exc, "column", None)) from None
    # (an lxml element without children is falsy: test for None, never with `or`)
    document = next((d for d in (_child(root, n) for n in ("BkToCstmrStmt", "BkToCstmrDbtCdtNtfctn",
                                                           "BkToCstmrAcctRpt")) if d is not None), None)
    if document is None:
        raise StatementError("not a camt.053/052/054 message (no BkToCstmrStmt, BkToCstmrAcctRpt or "
                             "BkToCstmrDbtCdtNtfctn)", line=root.sourceline)
    kind = {"BkToCstmrStmt": "camt.053", "BkToCstmrDbtCdtNtfctn": "camt.054"}.get(_local(document), "camt.052")
    statement = Statement(format=kind, account=None)
    number = 0
    for report in [c for c in document if isinstance(c.tag, str) and _local(c) in ("Stmt", "Ntfctn", "Rpt")]:
        statement.account = statement.account or _text(report, "Acct", "Id", "IBAN")
        for entry in _children(report, "Ntry"):
            details = [tx for d in _children(entry, "NtryDtls") for tx in _children(d, "TxDtls")]
            for tx in details or [None]:
                number += 1
                statement.lines.append(_line(number, entry, tx))
    return statement


def _line(number: int, entry: etree._Element, tx: etree._Element | None) -> StatementLine:
    where = f"Ntry[{number}]"
    indicator = _text(tx, "CdtDbtInd") or _text(entry, "CdtDbtInd")
    if indicator not in ("CRDT", "DBIT"):
        raise StatementError(f"CdtDbtInd must be CRDT or DBIT, got {indicator!r}", line=entry.sourceline,
                             field=f"{where}/CdtDbtInd")
    tx_amount = _child(tx, "Amt") if tx is not None else None
    if tx_amount is None and tx is not None:
        tx_amount = _child(tx, "AmtDtls", "TxAmt", "Amt")
    if tx_amount is None:
        tx_amount = _child(entry, "Amt")
    amount, currency = _amount(tx_amount, f"{where}/Amt")
    if (_text(entry, "RvslInd") or "").lower() == "true":
        indicator = "DBIT" if indicator == "CRDT" else "CRDT"
    booked = _date(entry, "BookgDt") or _date(entry, "ValDt")
    if booked is None:
        raise StatementError("entry without booking or value date", line=entry.sourceline, field=f"{where}/BookgDt")
    parties = _child(tx, "RltdPties") if tx is not None else None
    payer = "Dbtr" if indicator == "CRDT" else "Cdtr"
    name = _text(parties, payer, "Nm") or _text(parties, payer, "Pty", "Nm")
    iban = _text(parties, payer + "Acct", "Id", "IBAN")
    remittance = _remittance(tx)
    reference = (_text(tx, "Refs", "AcctSvcrRef") or _text(tx, "Refs", "EndToEndId")
                 or _text(entry, "AcctSvcrRef") or _text(entry, "NtryRef")) if tx is not None \
        else (_text(entry, "AcctSvcrRef") or _text(entry, "NtryRef"))
    if reference == "NOTPROVIDED":
        reference = None
    info = _text(entry, "AddtlNtryInf")
    return StatementLine(number=number, amount=amount if indicator == "CRDT" else -amount, currency=currency,
                         booked_on=booked, reference=reference, payer_name=name, payer_iban=iban,
                         remittance=remittance or info, source_line=(tx if tx is not None else entry).sourceline)


def _remittance(tx: etree._Element | None) -> str | None:
    """Structured creditor references first, then the unstructured lines, as one text."""
    if tx is None:
        return None
    info = _child(tx, "RmtInf")
    if info is None:
        return None
    parts = [_text(s, "CdtrRefInf", "Ref") for s in _children(info, "Strd")]
    parts += [u.text.strip() for u in _children(info, "Ustrd") if u.text and u.text.strip()]
    text = " ".join(p for p in parts if p)
    return text or None
