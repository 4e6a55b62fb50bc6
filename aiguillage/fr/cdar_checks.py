"""The French CDV rules (BR-FR-CDV-*, FNFE-MPE 1.4.0) on a CDAR message, as our own checks.

Each rule is data: an id, a severity, the elements it looks at and the
condition that must hold there, written in XPath 1.0 and run by lxml (the
official Schematron is XPath 2.0; the few functions it adds are Python
here). Schematron's rule semantics are kept: within a pattern, an element is
judged by the first rule whose context it matches, so rules that the
official artefact can never fire (an assertion on `.`, or a second rule on an
already-matched context) are not listed. Tests judge these checks against
the official XSLT (`saxonche`) on written and mutated messages.

`mode="warning"` reports every finding as a warning, as the `_WARNING`
variant of the artefact does during the transition period.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any, Literal

from lxml import etree

from aiguillage.fr.cdar import NS, parse
from aiguillage.fr.statuses import REASON_CODES, STATUSES

CUSTOM = "http://www.example.org/custom"

_DOCUMENT_TYPES = frozenset(["380", "389", "393", "501", "386", "500", "384", "471", "472", "473", "261", "262", "381", "396", "502", "503"])
_ACTIONS = frozenset(["NOA", "PIN", "NIN", "CNF", "CNP", "CNA", "OTH"])


def _value(argument: Any) -> str:
    if isinstance(argument, list):
        if not argument:
            return ""
        first = argument[0]
        return first if isinstance(first, str) else "".join(first.itertext())
    return str(argument)


def _in(codes: frozenset[str]) -> Any:
    return lambda _context, argument: _value(argument) in codes


_FUNCTIONS = {
    (CUSTOM, "is-valid-document-type-code"): _in(_DOCUMENT_TYPES),
    (CUSTOM, "is-valid-invoice-status-code"): _in(frozenset(STATUSES)),
    (CUSTOM, "is-valid-status-reason-code"): _in(REASON_CODES),
    (CUSTOM, "is-valid-invoice-action-code"): _in(_ACTIONS),
}


@dataclass(frozen=True)
class Rule:
    id: str
    severity: Literal["fatal", "warning"]
    context: str
    test: str
    message: str


def _status_reasons(code: str, allowed: str) -> str:
    """BR-FR-CDV-CL-09's per-status test, as the artefact writes it."""
    return (f"(../../ram:ProcessConditionCode != '{code}' and (not(../ram:ProcessConditionCode) or "
            f"../ram:ProcessConditionCode != '{code}')) or (../../ram:ProcessConditionCode = '{code}' and "
            f"../ram:ProcessConditionCode != '{code}') or " + " or ".join(f". = '{r}'" for r in allowed.split()))


_RRD = "rsm:AcknowledgementDocument/ram:ReferenceReferencedDocument"
_SDS = f"{_RRD}/ram:SpecifiedDocumentStatus"
_PPF = ("(count(../rsm:ExchangedDocument/ram:RecipientTradeParty/ram:GlobalID) = 1 and "
        "../rsm:ExchangedDocument/ram:RecipientTradeParty/ram:GlobalID[@schemeID='0238'] = '0000' and "
        "../rsm:ExchangedDocument/ram:RecipientTradeParty/ram:RoleCode = 'DFH')")
_B2G = "/rsm:CrossDomainAcknowledgementAndResponse/rsm:ExchangedDocument/ram:SenderTradeParty/ram:GlobalID[@schemeID = '0238']"

RULES: tuple[Rule, ...] = (
    Rule("BR-FR-04_MDT-91", "fatal", f"{_RRD}/ram:TypeCode", "custom:is-valid-document-type-code(.)",
         "the referenced document's type code is not one the French rules allow"),
    Rule("BR-FR-CDV-02_MDT-3", "fatal", "rsm:CrossDomainAcknowledgementAndResponse/rsm:ExchangedDocumentContext",
         "./ram:GuidelineSpecifiedDocumentContextParameter/ram:ID = 'urn.cpro.gouv.fr:1p0:CDV:invoice' or "
         "(./ram:GuidelineSpecifiedDocumentContextParameter/ram:ID = 'urn.cpro.gouv.fr:1p0:CDV:einvoicingF2' and "
         "count(../rsm:ExchangedDocument/ram:RecipientTradeParty/ram:GlobalID) = 1 and "
         "../rsm:ExchangedDocument/ram:RecipientTradeParty/ram:GlobalID[@schemeID='0238'] = '0000' and "
         "../rsm:ExchangedDocument/ram:RecipientTradeParty/ram:RoleCode = 'DFH')",
         "MDT-3 must be urn.cpro.gouv.fr:1p0:CDV:invoice (or …:einvoicingF2 addressed to the PPF alone)"),
    Rule("BR-FR-CDV-03_MDT-4", "fatal", "rsm:ExchangedDocument", "ram:ID", "the message id (ExchangedDocument/ID) is required"),
    Rule("BR-FR-CDV-07_MDT-38_yes", "fatal", "rsm:ExchangedDocument/ram:IssuerTradeParty",
         "../../rsm:AcknowledgementDocument/ram:TypeCode != '23' or ram:GlobalID",
         "with type code 23 the issuer's id (MDT-38) is required"),
    Rule("BR-FR-CDV-08_MDT-73", "fatal", "rsm:ExchangedDocument/ram:RecipientTradeParty",
         "(ram:RoleCode = 'WK' or ram:RoleCode = 'DFH') or ram:URIUniversalCommunication/ram:URIID",
         "a recipient other than WK or DFH needs an electronic address (MDT-73)"),
    Rule("BR-FR-CDV-09_MDT-77", "fatal", "rsm:AcknowledgementDocument/ram:TypeCode", ". = '23' or . = '305'",
         "the acknowledgement type code (MDT-77) must be 23 or 305"),
    Rule("BR-FR-CDV-11_MDG-35", "fatal", _RRD,
         "count(ram:FormattedIssueDateTime) > 0 or /rsm:CrossDomainAcknowledgementAndResponse/" + _RRD + "/ram:ProcessConditionCode = '501'",
         "the invoice's issue date (MDG-35) is required unless the status is 501"),
    Rule("BR-FR-CDV-12_MDT-105", "fatal", _RRD, "count(ram:ProcessConditionCode) > 0", "the status code (MDT-105) is required"),
    Rule("BR-FR-CDV-13_MDT-129", "fatal", f"{_RRD}/ram:IssuerTradeParty",
         "count(ram:GlobalID) > 0 or /rsm:CrossDomainAcknowledgementAndResponse/" + _RRD + "/ram:ProcessConditionCode = '501'",
         "the seller's id (MDT-129) is required unless the status is 501"),
    Rule("BR-FR-CDV-14_MDT-207", "fatal", _RRD,
         "not(ram:ProcessConditionCode = '212') or ((count(ram:SpecifiedDocumentStatus/ram:SpecifiedDocumentCharacteristic[ram:TypeCode = 'MEN']) >= 1) "
         "and (count(ram:SpecifiedDocumentStatus/ram:SpecifiedDocumentCharacteristic[ram:TypeCode = 'MEN']) = "
         "count(ram:SpecifiedDocumentStatus/ram:SpecifiedDocumentCharacteristic[ram:TypeCode = 'MEN' and ram:ValueAmount and ram:ValuePercent])))",
         "status 212 needs at least one MEN characteristic, each with an amount and a VAT rate"),
    Rule("BR-FR-CDV-15_MDT-113", "fatal", f"{_RRD}/ram:ProcessConditionCode",
         "not((.) = '210' or (.) = '213' or (.) = '501' or (.) = '207' or (.) = '206' or (.) = '208') or "
         "(((.) = '210' or (.) = '213' or (.) = '501' or (.) = '207' or (.) = '206' or (.) = '208') and ../ram:SpecifiedDocumentStatus/ram:ReasonCode)",
         "statuses 206, 207, 208, 210, 213 and 501 need a reason code (MDT-113)"),
    Rule("BR-FR-CDV-16_MDT-124-2", "fatal", _SDS, "count(ram:SequenceNumeric) > 0",
         "a status detail needs its sequence number (MDT-124-2)"),
    Rule("BR-FR-CDV-CL-01_MDT-2", "fatal", "rsm:CrossDomainAcknowledgementAndResponse/rsm:ExchangedDocumentContext",
         f"(not({_PPF}) and (./ram:BusinessProcessSpecifiedDocumentContextParameter/ram:ID = 'REGULATED' or . = 'NON_REGULATED' "
         "or . = 'B2C' or . = 'B2CINT' or . = 'B2BINT' or . = 'OUTOFSCOPE')) or "
         f"({_PPF} and (string-length(normalize-space(./ram:BusinessProcessSpecifiedDocumentContextParameter/ram:ID)) <= 3))",
         "the business process (MDT-2) must be REGULATED, NON_REGULATED, B2C, B2CINT, B2BINT or OUTOFSCOPE"),
    Rule("BR-FR-CDV-CL-02_MDT-21_305", "fatal", "rsm:ExchangedDocument",
         "not(../rsm:AcknowledgementDocument/ram:TypeCode = '305') or ram:SenderTradeParty/ram:RoleCode = 'WK'",
         "with type code 305 the sender's role (MDT-21) must be WK"),
    Rule("BR-FR-CDV-CL-02_MDT-21_23", "fatal", "rsm:ExchangedDocument",
         "not(../rsm:AcknowledgementDocument/ram:TypeCode = '23') or "
         + " or ".join(f"ram:SenderTradeParty/ram:RoleCode = '{r}'" for r in ["BY", "AB", "DL", "SE", "SR", "WK", "PE", "PR", "II", "IV"]),
         "with type code 23 the sender's role (MDT-21) must be BY, AB, DL, SE, SR, WK, PE, PR, II or IV"),
    Rule("BR-FR-CDV-CL-03_MDT-40_305", "fatal", "rsm:ExchangedDocument",
         "not(../rsm:AcknowledgementDocument/ram:TypeCode = '305') or ram:IssuerTradeParty/ram:RoleCode = 'WK'",
         "with type code 305 the issuer's role (MDT-40) must be WK"),
    Rule("BR-FR-CDV-CL-03_MDT-40_23", "fatal", "rsm:ExchangedDocument",
         "not(../rsm:AcknowledgementDocument/ram:TypeCode = '23') or "
         + " or ".join(f"ram:IssuerTradeParty/ram:RoleCode = '{r}'" for r in ["BY", "AB", "DL", "SE", "SR", "PE", "PR", "II", "IV"]),
         "with type code 23 the issuer's role (MDT-40) must be BY, AB, DL, SE, SR, PE, PR, II or IV"),
    Rule("BR-FR-CDV-CL-04_MDT-59", "fatal", "rsm:ExchangedDocument/ram:RecipientTradeParty/ram:RoleCode",
         " or ".join(f". = '{r}'" for r in ["BY", "AB", "DL", "SE", "SR", "PE", "PR", "II", "IV", "WK", "DFH"]),
         "the recipient's role (MDT-59) is not in the list"),
    Rule("BR-FR-CDV-CL-05_MDT-88_305", "fatal", _RRD,
         "../ram:TypeCode != '305' or " + " or ".join(f"ram:StatusCode = '{c}'" for c in ["10", "51", "43", "8", "48"])
         + " or not(ram:StatusCode)", "with type code 305 the status code (MDT-88) must be 10, 51, 43, 8 or 48"),
    Rule("BR-FR-CDV-CL-05_MDT-88_23", "fatal", _RRD,
         "../ram:TypeCode != '23' or " + " or ".join(f"ram:StatusCode = '{c}'" for c in ["45", "39", "37", "50", "49", "47", "46", "1", "5"])
         + " or not(ram:StatusCode)", "with type code 23 the status code (MDT-88) must be 45, 39, 37, 50, 49, 47, 46, 1 or 5"),
    Rule("BR-FR-CDV-CL-06_MDT-105", "warning", f"{_RRD}/ram:ProcessConditionCode",
         "custom:is-valid-invoice-status-code(.)", "the status code (MDT-105) is not in the French list"),
    Rule("BR-FR-CDV-CL-06_MDT-115", "warning", f"{_SDS}/ram:ProcessConditionCode",
         "custom:is-valid-invoice-status-code(.)", "the detail status code (MDT-115) is not in the French list"),
    Rule("BR-FR-CDV-CL-07_MDT-132", "fatal", f"{_RRD}/ram:IssuerTradeParty/ram:RoleCode", ". = 'SE'",
         "the invoice issuer's role (MDT-132) must be SE"),
    Rule("BR-FR-CDV-CL-08_MDT-158", "fatal", f"{_RRD}/ram:RecipientTradeParty/ram:RoleCode",
         " or ".join(f". = '{r}'" for r in ["BY", "AB", "DL", "SE", "SR", "WK", "DFH", "PE", "PR", "II", "IV"]),
         "the invoice recipient's role (MDT-158) is not in the list"),
    Rule("BR-FR-CDV-CL-09_MDT-113", "fatal", f"{_SDS}/ram:ReasonCode", "custom:is-valid-status-reason-code(.)",
         "the reason code (MDT-113) is not in the French list"),
    Rule("BR-FR-CDV-CL-09_MDT-113_200", "fatal", f"{_SDS}/ram:ReasonCode", _status_reasons("200", "NON_TRANSMISE"),
         "the reason code is not allowed with status 200"),
    Rule("BR-FR-CDV-CL-09_MDT-113_213", "fatal", f"{_SDS}/ram:ReasonCode", _status_reasons(
        "213", "MONTANTTOTAL_ERR CALCUL_ERR DOUBLON DEST_INC ADR_ERR REJ_SEMAN REJ_UNI REJ_COH REJ_ADR REJ_CONT_B2G "
        "REJ_REF_PJ REJ_ASS_PJ"), "the reason code is not allowed with status 213"),
    Rule("BR-FR-CDV-CL-09_MDT-113_210", "fatal", f"{_SDS}/ram:ReasonCode",
         _status_reasons("210", "TX_TVA_ERR MONTANTTOTAL_ERR CALCUL_ERR NON_CONFORME DOUBLON DEST_ERR TRANSAC_INC "
                         "EMMET_INC CONTRAT_TERM DOUBLE_FACT CMD_ERR ADR_ERR REF_CT_ABSENT").replace(
             ") or . =", f") or ({_B2G} = '9999') or . =", 1),
         "the reason code is not allowed with status 210"),
    Rule("BR-FR-CDV-CL-09_MDT-113_210B2G", "fatal", f"{_SDS}/ram:ReasonCode",
         "(../../ram:ProcessConditionCode != '210' and (not(../ram:ProcessConditionCode) or ../ram:ProcessConditionCode != '210')) "
         "or (../../ram:ProcessConditionCode = '210' and ../ram:ProcessConditionCode != '210') "
         "or not(//rsm:ExchangedDocument/ram:SenderTradeParty/ram:GlobalID) "
         "or //rsm:ExchangedDocument/ram:SenderTradeParty/ram:GlobalID[@schemeID = '0238'] != '9999' "
         "or (//rsm:ExchangedDocument/ram:SenderTradeParty/ram:GlobalID[@schemeID = '0238'] = '9999' and ("
         + " or ".join(f". = '{r}'" for r in ["RETRAIT_MAN_SERV", "ST_CT_NON_DECLAR", "SUPPR_COMP_AVOIR", "TRANSF_PMNT_REGIE", "AUTRE", "COORD_BANC_ERR", "TX_TVA_ERR", "MONTANTTOTAL_ERR", "CALCUL_ERR", "NON_CONFORME", "DOUBLON", "DEST_ERR", "TRANSAC_INC", "EMMET_INC", "CONTRAT_TERM", "DOUBLE_FACT", "CMD_ERR", "ADR_ERR", "REF_CT_ABSENT", "LIVR_INCOMP"]) + "))",
         "the reason code is not allowed with status 210 from a public buyer"),
    Rule("BR-FR-CDV-CL-09_MDT-113_207", "fatal", f"{_SDS}/ram:ReasonCode", _status_reasons(
        "207", "AUTRE COORD_BANC_ERR TX_TVA_ERR MONTANTTOTAL_ERR CALCUL_ERR NON_CONFORME DOUBLON DEST_INC DEST_ERR "
        "TRANSAC_INC EMMET_INC CONTRAT_TERM DOUBLE_FACT CMD_ERR ADR_ERR SIRET_ERR CODE_ROUTAGE_ERR REF_CT_ABSENT REF_ERR "
        "PU_ERR REM_ERR QTE_ERR ART_ERR MODPAI_ERR QUALITE_ERR LIVR_INCOMP"), "the reason code is not allowed with status 207"),
    Rule("BR-FR-CDV-CL-09_MDT-113_206", "fatal", f"{_SDS}/ram:ReasonCode", _status_reasons(
        "206", "AUTRE CMD_ERR SIRET_ERR CODE_ROUTAGE_ERR REF_CT_ABSENT REF_ERR PU_ERR REM_ERR QTE_ERR ART_ERR MODPAI_ERR "
        "QUALITE_ERR LIVR_INCOMP"), "the reason code is not allowed with status 206"),
    Rule("BR-FR-CDV-CL-09_MDT-113_208", "fatal", f"{_SDS}/ram:ReasonCode", _status_reasons(
        "208", "JUSTIF_ABS COORD_BANC_ERR CMD_ERR SIRET_ERR CODE_ROUTAGE_ERR REF_CT_ABSENT REF_ERR"),
        "the reason code is not allowed with status 208"),
    Rule("BR-FR-CDV-CL-09_MDT-113_221", "fatal", f"{_SDS}/ram:ReasonCode", _status_reasons("221", "ROUTAGE_ERR"),
         "the reason code is not allowed with status 221"),
    Rule("BR-FR-CDV-CL-09_MDT-113_501", "fatal", f"{_SDS}/ram:ReasonCode", _status_reasons(
        "501", "IRR_VIDE_F IRR_TYPE_F IRR_SYNTAX IRR_TAILLE_PJ IRR_NOM_PJ IRR_VID_PJ IRR_EXT_DOC IRR_TAILLE_F "
        "IRR_ANTIVIRUS IRR_NOM_F"), "the reason code is not allowed with status 501"),
    Rule("BR-FR-CDV-CL-10_MDT-121", "fatal", f"{_SDS}/ram:RequestedActionCode", "custom:is-valid-invoice-action-code(.)",
         "the requested action (MDT-121) is not in the list"),
    Rule("BR-FR-CDV-CL-11_MDT-207", "fatal", f"{_SDS}/ram:SpecifiedDocumentCharacteristic/ram:TypeCode",
         " or ".join(f". = '{c}'" for c in ["MEN", "MPA", "RAP", "ESC", "RAB", "REM", "MAP", "MAPTTC", "MNA", "MNATTC", "CBB", "DIV", "DVA", "MAJ"]),
         "the characteristic type (MDT-207) is not in the list"),
)


@dataclass(frozen=True)
class Finding:
    """One rule that failed, where."""

    rule_id: str
    severity: str
    message: str
    line: int | None
    element: str


@cache
def _compiled() -> tuple[dict[str, etree.XPath], list[tuple[Rule, etree.XPath]]]:
    """Each distinct context path once (several rules share one), and each rule's test."""
    contexts = {rule.context: etree.XPath(f"//{rule.context}", namespaces=NS) for rule in RULES}
    tests = [(rule, etree.XPath(f"boolean({rule.test})", namespaces={**NS, "custom": CUSTOM}, extensions=_FUNCTIONS))
             for rule in RULES]
    return contexts, tests


def check_tree(root: etree._Element, *, mode: Literal["fatal", "warning"] = "fatal") -> list[Finding]:
    """Every failed rule on a parsed message, in rule order."""
    findings: list[Finding] = []
    contexts, tests = _compiled()
    found = {path: xpath(root) for path, xpath in contexts.items()}
    for rule, test in tests:
        for node in found[rule.context]:
            if not test(node):
                severity = "warning" if mode == "warning" else rule.severity
                findings.append(Finding(rule.id, severity, rule.message, node.sourceline,
                                        root.getroottree().getpath(node)))
    return findings


def check(data: bytes, *, source: str | None = None, mode: Literal["fatal", "warning"] = "fatal") -> list[Finding]:
    """Every failed rule on a CDAR message (`CdarError` if it is not well-formed CDAR)."""
    return check_tree(parse(data, source), mode=mode)


def fatal(findings: list[Finding]) -> list[Finding]:
    return [finding for finding in findings if finding.severity == "fatal"]
