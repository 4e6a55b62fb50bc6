"""Names shared by the CII D16B reader, writer and fact recording: namespaces, tags, code maps."""

from __future__ import annotations

RSM_NS = "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100"
RAM_NS = "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100"
UDT_NS = "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100"
QDT_NS = "urn:un:unece:uncefact:data:standard:QualifiedDataType:100"
PREFIXES = {RSM_NS: "rsm", RAM_NS: "ram", UDT_NS: "udt", QDT_NS: "qdt"}

ROOT_TAG = f"{{{RSM_NS}}}CrossIndustryInvoice"
UDT_DATE_TIME = f"{{{UDT_NS}}}DateTimeString"
UDT_DATE = f"{{{UDT_NS}}}DateString"
QDT_DATE_TIME = f"{{{QDT_NS}}}DateTimeString"
UDT_INDICATOR = f"{{{UDT_NS}}}Indicator"

#: BT-8 is coded with UNTDID 2005 in the model (as in UBL); CII codes it with UNTDID 2475.
VAT_POINT_TO_CII = {"3": "5", "35": "29", "432": "72"}
VAT_POINT_FROM_CII = {cii: code for code, cii in VAT_POINT_TO_CII.items()}


def rsm(name: str) -> str:
    return f"{{{RSM_NS}}}{name}"


def ram(name: str) -> str:
    return f"{{{RAM_NS}}}{name}"
