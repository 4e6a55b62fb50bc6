"""CDAR lifecycle messages: written and read back, and our CDV checks judged against the official XSLT.

The FNFE-MPE CDV Schematron (compiled XSLT, run in Saxon-HE) is the oracle:
on every message we write (one per status code of the French lifecycle) and
on mutations of them that break each rule, our checks must fail exactly the
rules the XSLT fails, with the same severity.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from conftest import conformance_dir
from lxml import etree

from aiguillage.fr import cdar
from aiguillage.fr.cdar_checks import check
from aiguillage.fr.statuses import STATUSES, reason_error, status

NS = cdar.NS
#: A reason the rules accept for each status that needs or allows one.
REASON = {"200": "NON_TRANSMISE", "206": "PU_ERR", "207": "QTE_ERR", "208": "JUSTIF_ABS", "210": "TX_TVA_ERR",
          "213": "REJ_SEMAN", "221": "ROUTAGE_ERR", "501": "IRR_SYNTAX"}


def xslt(name: str) -> Path:
    return conformance_dir() / "fr" / "cdar" / name


@pytest.fixture(scope="module")
def oracle():  # noqa: ANN201 - saxonche callables, untyped
    import saxonche

    with saxonche.PySaxonProcessor(license=False) as processor:
        compiler = processor.new_xslt30_processor()
        fatal = compiler.compile_stylesheet(stylesheet_file=str(xslt("BR-FR-CDV-Schematron-CDAR.xslt")))
        warning = compiler.compile_stylesheet(stylesheet_file=str(xslt("BR-FR-CDV-Schematron-CDAR_WARNING.xslt")))

        def failed(xml: bytes, mode: str = "fatal") -> set[tuple[str, str]]:
            executable = fatal if mode == "fatal" else warning
            report = executable.transform_to_string(xdm_node=processor.parse_xml(xml_text=xml.decode("utf-8")))
            found = set()
            for tag in re.findall(r"<svrl:failed-assert[^>]*>", report):
                found.add((re.search(r'id="([^"]+)"', tag).group(1), re.search(r'flag="([^"]+)"', tag).group(1)))
            return found

        yield failed


def ours(xml: bytes, mode: str = "fatal") -> set[tuple[str, str]]:
    return {(f.rule_id, f.severity) for f in check(xml, mode=mode)}  # type: ignore[arg-type]


def message(code: str, **changes: object) -> bytes:
    cashed = [cdar.Cashed(Decimal("1200.00"), Decimal("20")), cdar.Cashed(Decimal("105.50"), Decimal("5.5"))] \
        if code == "212" else []
    line = cdar.StatusLine(invoice_number="F2026-0120", status_code=code, invoice_date=date(2026, 11, 26),
                           seller_siren="412345678", reason_code=REASON.get(code), cashed=cashed,
                           reason="Motif" if code in REASON else None)
    built = cdar.status_message(message_id=f"CDV-{code}", issued_at=datetime(2026, 12, 1, 10, 30, tzinfo=UTC),
                                line=line, sender=cdar.Party("BY", "550123459", "Distrilux", "550123459"),
                                recipient=cdar.Party("SE", "412345678", "Atelier Lumière", "412345678"))
    for key, value in changes.items():
        setattr(built, key, value)
    return cdar.write(built)


@pytest.mark.conformance
@pytest.mark.parametrize("code", list(STATUSES))
def test_every_status_is_written_clean_and_read_back(code: str, oracle) -> None:  # noqa: ANN001
    xml = message(code)
    assert ours(xml) == oracle(xml) == set()
    line = cdar.read(xml).statuses[0]
    assert (line.status_code, line.invoice_number, line.invoice_date, line.seller_siren, line.reason_code) == \
        (code, "F2026-0120", date(2026, 11, 26), "412345678", REASON.get(code))
    if code == "212":
        assert sum(c.amount for c in line.cashed) == Decimal("1305.50")


def _mutate(code: str, edit: Callable[[etree._Element], None]) -> bytes:
    root = etree.fromstring(message(code))
    edit(root)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def _find(root: etree._Element, path: str) -> etree._Element:
    found = root.find(path, NS)
    assert found is not None, path
    return found


def _remove(path: str) -> Callable[[etree._Element], None]:
    def edit(root: etree._Element) -> None:
        node = _find(root, path)
        node.getparent().remove(node)
    return edit


def _set(path: str, value: str, attr: str | None = None) -> Callable[[etree._Element], None]:
    def edit(root: etree._Element) -> None:
        node = _find(root, path)
        if attr:
            node.set(attr, value)
        else:
            node.text = value
    return edit


def _both(*edits: Callable[[etree._Element], None]) -> Callable[[etree._Element], None]:
    def edit(root: etree._Element) -> None:
        for one in edits:
            one(root)
    return edit


def _add(path: str, tag: str, text: str) -> Callable[[etree._Element], None]:
    def edit(root: etree._Element) -> None:
        element = etree.SubElement(_find(root, path), f"{{{cdar.RAM}}}{tag}")
        element.text = text
    return edit


def _sender_id(value: str, scheme: str) -> Callable[[etree._Element], None]:
    def edit(root: etree._Element) -> None:
        element = etree.Element(f"{{{cdar.RAM}}}GlobalID", schemeID=scheme)
        element.text = value
        _find(root, "rsm:ExchangedDocument/ram:SenderTradeParty").insert(0, element)
    return edit


_public_sender = _sender_id("9999", "0238")
_sender_siren = _sender_id("550123459", "0002")

RRD = "rsm:AcknowledgementDocument/ram:ReferenceReferencedDocument"
SDS = f"{RRD}/ram:SpecifiedDocumentStatus"
MUTATIONS: dict[str, tuple[str, Callable[[etree._Element], None]]] = {
    "no_invoice_date": ("205", _remove(f"{RRD}/ram:FormattedIssueDateTime")),
    "no_invoice_date_501": ("501", _remove(f"{RRD}/ram:FormattedIssueDateTime")),
    "status_not_in_list": ("205", _set(f"{RRD}/ram:ProcessConditionCode", "299")),
    "no_status": ("205", _remove(f"{RRD}/ram:ProcessConditionCode")),
    "unknown_reason": ("207", _set(f"{SDS}/ram:ReasonCode", "BOGUS")),
    "reason_wrong_for_200": ("200", _set(f"{SDS}/ram:ReasonCode", "AUTRE")),
    "reason_wrong_for_213": ("213", _set(f"{SDS}/ram:ReasonCode", "TX_TVA_ERR")),
    "reason_wrong_for_210": ("210", _set(f"{SDS}/ram:ReasonCode", "REJ_UNI")),
    "reason_b2g_for_210": ("210", _set(f"{SDS}/ram:ReasonCode", "LIVR_INCOMP")),
    "reason_b2g_for_210_public_buyer": ("210", _both(_set(f"{SDS}/ram:ReasonCode", "LIVR_INCOMP"), _public_sender)),
    "reason_b2b_for_210_sender_with_siren": ("210", _sender_siren),
    "reason_wrong_for_207": ("207", _set(f"{SDS}/ram:ReasonCode", "IRR_SYNTAX")),
    "reason_wrong_for_206": ("206", _set(f"{SDS}/ram:ReasonCode", "DOUBLON")),
    "reason_wrong_for_208": ("208", _set(f"{SDS}/ram:ReasonCode", "AUTRE")),
    "reason_wrong_for_221": ("221", _set(f"{SDS}/ram:ReasonCode", "AUTRE")),
    "reason_wrong_for_501": ("501", _set(f"{SDS}/ram:ReasonCode", "AUTRE")),
    "no_reason_210": ("210", _remove(f"{SDS}/ram:ReasonCode")),
    "no_sequence": ("207", _remove(f"{SDS}/ram:SequenceNumeric")),
    "ack_type_99": ("205", _set("rsm:AcknowledgementDocument/ram:TypeCode", "99")),
    "ack_305_sender_buyer": ("205", _set("rsm:AcknowledgementDocument/ram:TypeCode", "305")),
    "ack_23_issuer_platform": ("205", _set("rsm:ExchangedDocument/ram:IssuerTradeParty/ram:RoleCode", "WK")),
    "ack_23_sender_odd": ("205", _set("rsm:ExchangedDocument/ram:SenderTradeParty/ram:RoleCode", "DFH")),
    "guideline_other": ("205", _set("rsm:ExchangedDocumentContext/ram:GuidelineSpecifiedDocumentContextParameter/ram:ID", "urn:x")),
    "guideline_ppf_without_ppf": ("205", _set("rsm:ExchangedDocumentContext/ram:GuidelineSpecifiedDocumentContextParameter/ram:ID",
                                              "urn.cpro.gouv.fr:1p0:CDV:einvoicingF2")),
    "business_process_b2c": ("205", _set("rsm:ExchangedDocumentContext/ram:BusinessProcessSpecifiedDocumentContextParameter/ram:ID", "B2C")),
    "no_message_id": ("205", _remove("rsm:ExchangedDocument/ram:ID")),
    "issuer_without_id": ("205", _remove("rsm:ExchangedDocument/ram:IssuerTradeParty/ram:GlobalID")),
    "recipient_role_odd": ("205", _set("rsm:ExchangedDocument/ram:RecipientTradeParty/ram:RoleCode", "ZZ")),
    "recipient_without_address": ("205", _remove("rsm:ExchangedDocument/ram:RecipientTradeParty/ram:URIUniversalCommunication")),
    "document_type_odd": ("205", _set(f"{RRD}/ram:TypeCode", "999")),
    "seller_role_odd": ("205", _set(f"{RRD}/ram:IssuerTradeParty/ram:RoleCode", "BY")),
    "no_seller_id": ("205", _remove(f"{RRD}/ram:IssuerTradeParty/ram:GlobalID")),
    "no_seller_id_501": ("501", _remove(f"{RRD}/ram:IssuerTradeParty/ram:GlobalID")),
    "status_code_305_in_23": ("205", _add(RRD, "StatusCode", "10")),
    "cashed_without_men": ("212", _set(f"{SDS}/ram:SpecifiedDocumentCharacteristic/ram:TypeCode", "MPA")),
    "cashed_without_rate": ("212", _remove(f"{SDS}/ram:SpecifiedDocumentCharacteristic/ram:ValuePercent")),
    "characteristic_odd": ("212", _set(f"{SDS}/ram:SpecifiedDocumentCharacteristic[2]/ram:TypeCode", "XXX")),
    "action_odd": ("207", _add(SDS, "RequestedActionCode", "ZZZ")),
    "action_ok": ("207", _add(SDS, "RequestedActionCode", "NIN")),
    "detail_status_odd": ("207", _add(SDS, "ProcessConditionCode", "299")),
    "platform_status_by_buyer": ("200", _set("rsm:ExchangedDocument/ram:SenderTradeParty/ram:RoleCode", "BY")),
}


@pytest.mark.conformance
@pytest.mark.parametrize("name", list(MUTATIONS))
def test_our_checks_agree_with_the_official_xslt(name: str, oracle) -> None:  # noqa: ANN001
    code, edit = MUTATIONS[name]
    xml = _mutate(code, edit)
    expected = oracle(xml)
    assert ours(xml) == expected
    assert ours(xml, "warning") == oracle(xml, "warning")


def test_the_mutations_exercise_most_rules(oracle) -> None:  # noqa: ANN001
    """The differential test is only as good as what it makes fail: most rule ids must fail somewhere."""
    from aiguillage.fr.cdar_checks import RULES

    failed = set()
    for code, edit in MUTATIONS.values():
        failed |= {rule for rule, _ in oracle(_mutate(code, edit))}
    assert len(failed & {r.id for r in RULES}) >= len(RULES) - 2, sorted({r.id for r in RULES} - failed)


def test_reading_says_where_a_message_is_wrong() -> None:
    with pytest.raises(cdar.CdarError, match="not a CDAR message"):
        cdar.read(b"<Invoice/>")
    broken = _mutate("205", _remove(f"{RRD}/ram:IssuerAssignedID"))
    with pytest.raises(cdar.CdarError, match=r"line \d+: ReferenceReferencedDocument: needs IssuerAssignedID"):
        cdar.read(broken, source="flow-1")
    with pytest.raises(cdar.CdarError, match=r"x:1:\d+: malformed XML"):
        cdar.read(b"<rsm:CrossDomainAcknowledgementAndResponse", source="x")


def test_reasons_per_status() -> None:
    assert reason_error("210", None) == "status 210 (Refusée) needs a reason code"
    assert "not allowed with status 213" in (reason_error("213", "TX_TVA_ERR") or "")
    assert reason_error("212", None) is None and reason_error("207", "QTE_ERR") is None
    assert status("501").label_fr == "Irrecevable" and status("220").final
    with pytest.raises(KeyError, match="unknown lifecycle status"):
        status("999")
