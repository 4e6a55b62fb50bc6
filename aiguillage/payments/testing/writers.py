"""Write bank statements in the real formats (camt.053/054, MT940, CFONB 120) from simple credit lines.

Tests and the benchmark build their statements with these, then read them
back through the product's readers: the files are what a bank sends, not
a shortcut around parsing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from xml.sax.saxutils import escape


@dataclass(frozen=True)
class Credit:
    amount: Decimal
    remittance: str = ""
    payer_name: str = ""
    payer_iban: str = ""
    reference: str = ""
    booked_on: date = date(2026, 12, 2)
    currency: str = "EUR"
    structured: str = ""  # an RF reference carried in <Strd><CdtrRefInf><Ref>


CAMT_053 = "urn:iso:std:iso:20022:tech:xsd:camt.053.001.08"
CAMT_054 = "urn:iso:std:iso:20022:tech:xsd:camt.054.001.08"


def camt(credits: list[Credit], *, notification: bool = False, account: str = "FR7630006000011234567890189",
         debits: list[Credit] = ()) -> bytes:  # type: ignore[assignment]
    """A camt.053 statement (or camt.054 notification) with one entry per credit (and debit)."""
    entries = []
    for sign, items in (("CRDT", credits), ("DBIT", list(debits))):
        for c in items:
            party = "Dbtr" if sign == "CRDT" else "Cdtr"
            remittance = ""
            if c.structured:
                remittance += (f"<Strd><CdtrRefInf><Tp><CdOrPrtry><Cd>SCOR</Cd></CdOrPrtry></Tp>"
                               f"<Ref>{escape(c.structured)}</Ref></CdtrRefInf></Strd>")
            if c.remittance:
                remittance += f"<Ustrd>{escape(c.remittance)}</Ustrd>"
            entries.append(f"""
      <Ntry>
        <Amt Ccy="{c.currency}">{c.amount}</Amt>
        <CdtDbtInd>{sign}</CdtDbtInd>
        <Sts><Cd>BOOK</Cd></Sts>
        <BookgDt><Dt>{c.booked_on.isoformat()}</Dt></BookgDt>
        <ValDt><Dt>{c.booked_on.isoformat()}</Dt></ValDt>
        <BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>RCDT</Cd><SubFmlyCd>ESCT</SubFmlyCd></Fmly></Domn></BkTxCd>
        <NtryDtls><TxDtls>
          <Refs>{f"<AcctSvcrRef>{escape(c.reference)}</AcctSvcrRef>" if c.reference else ""}<EndToEndId>NOTPROVIDED</EndToEndId></Refs>
          <Amt Ccy="{c.currency}">{c.amount}</Amt>
          <CdtDbtInd>{sign}</CdtDbtInd>
          <RltdPties>
            <{party}><Pty><Nm>{escape(c.payer_name)}</Nm></Pty></{party}>
            {f"<{party}Acct><Id><IBAN>{c.payer_iban}</IBAN></Id></{party}Acct>" if c.payer_iban else ""}
          </RltdPties>
          {f"<RmtInf>{remittance}</RmtInf>" if remittance else ""}
        </TxDtls></NtryDtls>
      </Ntry>""")
    body = "".join(entries)
    if notification:
        return f"""<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="{CAMT_054}"><BkToCstmrDbtCdtNtfctn>
  <GrpHdr><MsgId>N-1</MsgId><CreDtTm>2026-12-02T18:00:00</CreDtTm></GrpHdr>
  <Ntfctn><Id>N-1-1</Id><CreDtTm>2026-12-02T18:00:00</CreDtTm><Acct><Id><IBAN>{account}</IBAN></Id></Acct>{body}
  </Ntfctn></BkToCstmrDbtCdtNtfctn></Document>""".encode()
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="{CAMT_053}"><BkToCstmrStmt>
  <GrpHdr><MsgId>S-1</MsgId><CreDtTm>2026-12-02T18:00:00</CreDtTm></GrpHdr>
  <Stmt><Id>S-1-1</Id><CreDtTm>2026-12-02T18:00:00</CreDtTm><Acct><Id><IBAN>{account}</IBAN></Id></Acct>
    <Bal><Tp><CdOrPrtry><Cd>OPBD</Cd></CdOrPrtry></Tp><Amt Ccy="EUR">0.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><Dt><Dt>2026-12-01</Dt></Dt></Bal>{body}
  </Stmt></BkToCstmrStmt></Document>""".encode()


def mt940(credits: list[Credit], *, account: str = "FR7630006000011234567890189") -> bytes:
    """An MT940 statement; tag 86 carries the payer's name and IBAN and the remittance text."""
    lines = [":20:STMT1", f":25:{account}", ":28C:1/1", ":60F:C261201EUR0,00"]
    for c in credits:
        amount = f"{c.amount:.2f}".replace(".", ",")
        reference = c.reference or "NONREF"
        lines.append(f":61:{c.booked_on:%y%m%d}{c.booked_on:%m%d}C{amount}NTRF{reference[:16]}")
        details = " ".join(p for p in (f"/NAME/{c.payer_name}/" if c.payer_name else "",
                                       f"IBAN {c.payer_iban}" if c.payer_iban else "", c.structured, c.remittance) if p)
        chunks = [details[i:i + 65] for i in range(0, len(details), 65)] or [""]
        lines.append(":86:" + chunks[0])
        lines.extend(chunks[1:6])
    total = sum((c.amount for c in credits), Decimal("0"))
    lines.append(f":62F:C{credits[-1].booked_on if credits else date(2026, 12, 2):%y%m%d}EUR{total:.2f}".replace(".", ","))
    return ("\r\n".join(lines) + "\r\n-").encode()


def _cfonb_amount(amount: Decimal) -> str:
    cents = int((abs(amount) * 100).to_integral_value())
    digits = f"{cents:014d}"
    last = int(digits[-1])
    code = ("{" if last == 0 else chr(ord("A") + last - 1)) if amount >= 0 else \
        ("}" if last == 0 else chr(ord("J") + last - 1))
    return digits[:-1] + code


def cfonb(credits: list[Credit], *, bank: str = "30006", branch: str = "00001", account: str = "12345678901") -> bytes:
    """A CFONB 120 statement: 01, one 04 per credit with 05 complements (payer name, label), 07."""
    def head(code: str, day: date) -> str:
        return f"{code}{bank}    {branch}EUR2 {account}  {day:%d%m%y}"

    records = [(head("01", date(2026, 12, 1)) + " " * 50).ljust(90) + _cfonb_amount(Decimal(0)) + " " * 16]
    for c in credits:
        label = (c.structured or c.remittance)[:31]
        record = head("04", c.booked_on).replace("EUR2 ", "EUR2 ", 1)
        record = record[:32] + "05" + record[34:]  # interbank operation code 05: incoming transfer
        record = f"{record}  {c.booked_on:%d%m%y}{label:<31}  {'0000001'} {' '}"
        record = record.ljust(90) + _cfonb_amount(c.amount) + f"{c.reference[:16]:<16}"
        records.append(record)
        complements = []
        if c.payer_name:
            complements.append(("NPY", c.payer_name))
        rest = (c.remittance if c.structured else c.remittance[31:])
        if c.structured and c.remittance:
            rest = c.remittance
        for i in range(0, len(rest), 70):
            complements.append(("LIB", rest[i:i + 70]))
        for qualifier, text in complements:
            complement = head("05", c.booked_on)[:40] + "     " + qualifier + f"{text[:70]:<70}" + "  "
            records.append(complement)
    total = sum((c.amount for c in credits), Decimal("0"))
    records.append((head("07", date(2026, 12, 2)) + " " * 50).ljust(90) + _cfonb_amount(total) + " " * 16)
    for r in records:
        assert len(r) == 120, (len(r), r)
    return ("\n".join(records) + "\n").encode("latin-1")
