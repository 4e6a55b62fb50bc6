"""Lifecycle status messages as UN/CEFACT CDAR D22B (CrossDomainAcknowledgementAndResponse), read and written with lxml.

One message carries one or more statuses, each about one invoice
(`ReferenceReferencedDocument`): its number (BT-1), type, issue date,
seller (SIREN), status code (MDT-105), reason (MDT-113) and, for 212
Encaissée, the amounts cashed per VAT rate (MDG-43, type MEN). Statuses of
the transmission phase (200–203, 213, 221, 501) are a platform's
(`TypeCode` 305, sender and issuer role WK); the others are the buyer's or
seller's (`TypeCode` 23). Element names and order follow the CDV profile
(`urn.cpro.gouv.fr:1p0:CDV:invoice`) as the FNFE-MPE rules read it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation

from lxml import etree

from aiguillage.model.errors import InvoiceReadError
from aiguillage.model.xmlsafe import parse_xml

RSM = "urn:un:unece:uncefact:data:standard:CrossDomainAcknowledgementAndResponse:100"
RAM = "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100"
UDT = "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100"
QDT = "urn:un:unece:uncefact:data:standard:QualifiedDataType:100"
NS = {"rsm": RSM, "ram": RAM, "udt": UDT, "qdt": QDT}

GUIDELINE = "urn.cpro.gouv.fr:1p0:CDV:invoice"
#: SIREN scheme for GlobalID; 0225 is the French electronic-address scheme (BT-49 / URIID).
SIREN_SCHEME = "0002"
ADDRESS_SCHEME = "0225"
#: Statuses a platform issues (transmission phase, TypeCode 305).
PLATFORM_STATUSES = frozenset({"200", "201", "202", "203", "213", "221", "501"})


class CdarError(ValueError):
    """A CDAR message that cannot be read or written; says where (line, element)."""


@dataclass
class Party:
    """A trade party of the message: role (UNTDID 3035: SE, BY, WK, …), SIREN, name, electronic address."""

    role: str
    siren: str | None = None
    name: str | None = None
    address: str | None = None
    address_scheme: str = ADDRESS_SCHEME
    id_scheme: str = SIREN_SCHEME


@dataclass
class Cashed:
    """One MDG-43 line of a 212 Encaissée: the amount cashed at one VAT rate."""

    amount: Decimal
    vat_rate: Decimal
    currency: str = "EUR"


@dataclass
class StatusLine:
    """One status about one invoice."""

    invoice_number: str
    status_code: str
    invoice_date: date | None = None
    invoice_type: str = "380"
    seller_siren: str | None = None
    reason_code: str | None = None
    reason: str | None = None
    cashed: list[Cashed] = field(default_factory=list)
    #: 1-based rank of the status detail (MDT-124-2).
    sequence: int = 1


@dataclass
class LifecycleMessage:
    """A whole CDAR message."""

    message_id: str
    issued_at: datetime
    sender: Party
    issuer: Party
    recipients: list[Party]
    statuses: list[StatusLine]
    type_code: str = "23"
    business_process: str = "REGULATED"
    guideline: str = GUIDELINE
    name: str | None = None

    @classmethod
    def type_for(cls, status_code: str) -> str:
        """305 for a platform's transmission-phase status, else 23."""
        return "305" if status_code in PLATFORM_STATUSES else "23"


# ---------------------------------------------------------------------- writing


def _el(parent: etree._Element, ns: str, name: str, text: str | None = None, **attrs: str) -> etree._Element:
    element = etree.SubElement(parent, f"{{{ns}}}{name}", attrs)
    if text is not None:
        element.text = text
    return element


def _party(parent: etree._Element, tag: str, party: Party) -> None:
    node = _el(parent, RAM, tag)
    if party.siren:
        _el(node, RAM, "GlobalID", party.siren, schemeID=party.id_scheme)
    if party.name:
        _el(node, RAM, "Name", party.name)
    _el(node, RAM, "RoleCode", party.role)
    if party.address:
        uri = _el(node, RAM, "URIUniversalCommunication")
        _el(uri, RAM, "URIID", party.address, schemeID=party.address_scheme)


def _when(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%d%H%M%S")


def _amount(value: Decimal) -> str:
    return f"{Decimal(value).quantize(Decimal('0.01')):f}"


def write(message: LifecycleMessage) -> bytes:
    """The message as CDAR XML (UTF-8, with declaration)."""
    if not message.statuses:
        raise CdarError("a lifecycle message needs at least one status")
    root = etree.Element(f"{{{RSM}}}CrossDomainAcknowledgementAndResponse", nsmap=NS)
    context = _el(root, RSM, "ExchangedDocumentContext")
    _el(_el(context, RAM, "BusinessProcessSpecifiedDocumentContextParameter"), RAM, "ID", message.business_process)
    _el(_el(context, RAM, "GuidelineSpecifiedDocumentContextParameter"), RAM, "ID", message.guideline)
    document = _el(root, RSM, "ExchangedDocument")
    _el(document, RAM, "ID", message.message_id)
    if message.name:
        _el(document, RAM, "Name", message.name)
    _el(_el(document, RAM, "IssueDateTime"), UDT, "DateTimeString", _when(message.issued_at), format="204")
    _party(document, "SenderTradeParty", message.sender)
    _party(document, "IssuerTradeParty", message.issuer)
    for recipient in message.recipients:
        _party(document, "RecipientTradeParty", recipient)
    acknowledgement = _el(root, RSM, "AcknowledgementDocument")
    _el(_el(acknowledgement, RAM, "MultipleReferencesIndicator"), UDT, "Indicator",
        "true" if len(message.statuses) > 1 else "false")
    _el(acknowledgement, RAM, "TypeCode", message.type_code)
    _el(_el(acknowledgement, RAM, "IssueDateTime"), UDT, "DateTimeString", _when(message.issued_at), format="204")
    for line in message.statuses:
        reference = _el(acknowledgement, RAM, "ReferenceReferencedDocument")
        _el(reference, RAM, "IssuerAssignedID", line.invoice_number)
        _el(reference, RAM, "TypeCode", line.invoice_type)
        if line.invoice_date is not None:
            _el(_el(reference, RAM, "FormattedIssueDateTime"), QDT, "DateTimeString",
                line.invoice_date.strftime("%Y%m%d"), format="102")
        _el(reference, RAM, "ProcessConditionCode", line.status_code)
        _party(reference, "IssuerTradeParty", Party(role="SE", siren=line.seller_siren))
        if line.reason_code or line.reason or line.cashed:
            detail = _el(reference, RAM, "SpecifiedDocumentStatus")
            if line.reason_code:
                _el(detail, RAM, "ReasonCode", line.reason_code)
            if line.reason:
                _el(detail, RAM, "Reason", line.reason)
            _el(detail, RAM, "SequenceNumeric", str(line.sequence))
            for cashed in line.cashed:
                characteristic = _el(detail, RAM, "SpecifiedDocumentCharacteristic")
                _el(characteristic, RAM, "TypeCode", "MEN")
                _el(characteristic, RAM, "ValueAmount", _amount(cashed.amount), currencyID=cashed.currency)
                _el(characteristic, RAM, "ValuePercent", _amount(cashed.vat_rate))
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


# ---------------------------------------------------------------------- reading


def parse(data: bytes, source: str | None = None) -> etree._Element:
    """The message's root element, parsed hardened; `CdarError` with line/column if malformed or not CDAR."""
    try:
        root = parse_xml(data, source or "CDAR")
    except InvoiceReadError as exc:
        raise CdarError(str(exc)) from None
    if root.tag != f"{{{RSM}}}CrossDomainAcknowledgementAndResponse":
        raise CdarError(f"{source or 'CDAR'}: line {root.sourceline}: not a CDAR message: <{etree.QName(root).localname}>")
    return root


def _text(node: etree._Element, path: str) -> str | None:
    found = node.find(path, NS)
    if found is None or found.text is None:
        return None
    return found.text.strip() or None


def _read_party(node: etree._Element | None) -> Party:
    if node is None:
        return Party(role="")
    address = node.find("ram:URIUniversalCommunication/ram:URIID", NS)
    global_id = node.find("ram:GlobalID", NS)
    return Party(role=_text(node, "ram:RoleCode") or "", siren=_text(node, "ram:GlobalID"), name=_text(node, "ram:Name"),
                 address=(address.text or "").strip() or None if address is not None else None,
                 address_scheme=address.get("schemeID", ADDRESS_SCHEME) if address is not None else ADDRESS_SCHEME,
                 id_scheme=global_id.get("schemeID", SIREN_SCHEME) if global_id is not None else SIREN_SCHEME)


def _read_when(text: str | None, where: str) -> datetime:
    if not text:
        raise CdarError(f"{where}: missing IssueDateTime")
    for pattern in ("%Y%m%d%H%M%S", "%Y%m%d"):
        try:
            return datetime.strptime(text, pattern).replace(tzinfo=UTC)
        except ValueError:
            continue
    raise CdarError(f"{where}: IssueDateTime {text!r} is neither YYYYMMDDHHMMSS (format 204) nor YYYYMMDD")


def read(data: bytes, source: str | None = None) -> LifecycleMessage:
    """The message's statuses; `CdarError` says which element is missing or wrong (with its line)."""
    root = parse(data, source)
    where = source or "CDAR"
    document = root.find("rsm:ExchangedDocument", NS)
    acknowledgement = root.find("rsm:AcknowledgementDocument", NS)
    if document is None or acknowledgement is None:
        raise CdarError(f"{where}: line {root.sourceline}: needs ExchangedDocument and AcknowledgementDocument")
    statuses: list[StatusLine] = []
    for reference in acknowledgement.findall("ram:ReferenceReferencedDocument", NS):
        at = f"{where}: line {reference.sourceline}: ReferenceReferencedDocument"
        number = _text(reference, "ram:IssuerAssignedID")
        code = _text(reference, "ram:ProcessConditionCode")
        if not number or not code:
            raise CdarError(f"{at}: needs IssuerAssignedID (MDT-87) and ProcessConditionCode (MDT-105)")
        day = _text(reference, "ram:FormattedIssueDateTime/qdt:DateTimeString")
        try:
            invoice_date = datetime.strptime(day, "%Y%m%d").date() if day else None
        except ValueError:
            raise CdarError(f"{at}: FormattedIssueDateTime {day!r} is not YYYYMMDD") from None
        detail = reference.find("ram:SpecifiedDocumentStatus", NS)
        cashed: list[Cashed] = []
        if detail is not None:
            for characteristic in detail.findall("ram:SpecifiedDocumentCharacteristic", NS):
                if _text(characteristic, "ram:TypeCode") != "MEN":
                    continue
                amount = characteristic.find("ram:ValueAmount", NS)
                try:
                    cashed.append(Cashed(Decimal((amount.text or "").strip()) if amount is not None else Decimal(0),
                                         Decimal(_text(characteristic, "ram:ValuePercent") or "0"),
                                         amount.get("currencyID", "EUR") if amount is not None else "EUR"))
                except InvalidOperation:
                    raise CdarError(f"{at}: line {characteristic.sourceline}: MEN amount or rate is not a number") from None
        sequence = _text(detail, "ram:SequenceNumeric") if detail is not None else None
        statuses.append(StatusLine(
            invoice_number=number, status_code=code, invoice_date=invoice_date,
            invoice_type=_text(reference, "ram:TypeCode") or "380",
            seller_siren=_text(reference, "ram:IssuerTradeParty/ram:GlobalID"),
            reason_code=_text(detail, "ram:ReasonCode") if detail is not None else None,
            reason=_text(detail, "ram:Reason") if detail is not None else None,
            cashed=cashed, sequence=int(sequence) if sequence and sequence.isdigit() else 1,
        ))
    if not statuses:
        raise CdarError(f"{where}: line {acknowledgement.sourceline}: AcknowledgementDocument names no invoice")
    return LifecycleMessage(
        message_id=_text(document, "ram:ID") or "",
        issued_at=_read_when(_text(document, "ram:IssueDateTime/udt:DateTimeString"), f"{where}: ExchangedDocument"),
        sender=_read_party(document.find("ram:SenderTradeParty", NS)),
        issuer=_read_party(document.find("ram:IssuerTradeParty", NS)),
        recipients=[_read_party(node) for node in document.findall("ram:RecipientTradeParty", NS)],
        statuses=statuses,
        type_code=_text(acknowledgement, "ram:TypeCode") or "",
        business_process=_text(root, "rsm:ExchangedDocumentContext/ram:BusinessProcessSpecifiedDocumentContextParameter/ram:ID") or "",
        guideline=_text(root, "rsm:ExchangedDocumentContext/ram:GuidelineSpecifiedDocumentContextParameter/ram:ID") or "",
        name=_text(document, "ram:Name"),
    )


def status_message(*, message_id: str, issued_at: datetime, line: StatusLine, sender: Party, recipient: Party,
                   issuer: Party | None = None) -> LifecycleMessage:
    """A one-status message with the type code and issuer role its phase needs (platform: WK/305; else 23)."""
    type_code = LifecycleMessage.type_for(line.status_code)
    if issuer is None:
        issuer = sender if type_code == "23" else Party(role="WK", siren=sender.siren, name=sender.name)
    if type_code == "305":
        sender = Party(role="WK", siren=sender.siren, name=sender.name, address=sender.address)
        issuer = Party(role="WK", name=issuer.name)
    if line.status_code == "210" and sender.siren and sender.id_scheme != "0238":
        # The 1.4.0 artefact's B2G-only rule (BR-FR-CDV-CL-09_MDT-113_210B2G) fails every 210 whose sender
        # has a GlobalID outside scheme 0238; a B2B sender is then named by its electronic address alone.
        sender = Party(role=sender.role, name=sender.name, address=sender.address or sender.siren)
    return LifecycleMessage(message_id=message_id, issued_at=issued_at, sender=sender, issuer=issuer,
                            recipients=[recipient], statuses=[line], type_code=type_code)
