"""Mutations that reach Peppol's own rules, on top of the EN 16931 ones (aiguillage.testing.mutations).

The general mutator changes what EN 16931 looks at; Peppol BIS 3.0 also
judges identifiers by their ICD / EAS scheme (PEPPOL-COMMON-R040…R050) and
attachments' MIME codes (PEPPOL-EN16931-CL001). One variant in four is one of
these: an identifier EN 16931 gives a scheme (electronic address, party and
legal identifiers, delivery location, item standard identifier) given a Peppol
scheme and, half of the time, a value of one of the forms the check-digit
rules tell apart; or an attachment with a MIME code from inside or outside
Peppol's list. (Peppol's CII binding judges a scheme on any `ram:ID`,
`ram:GlobalID` or `ram:URIID`, the invoice number's too; a scheme where
EN 16931 has none is left to the general "unused" mutations.) Deterministic like the
general mutator: the same (document, seed, index) gives the same variant.
"""

from __future__ import annotations

import copy
import random

from lxml import etree

from aiguillage.testing.mutations import Mutator, Variant

_NS = {
    "ram": "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100",
    "cac": "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2",
    "cbc": "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2",
}

#: The schemes with a form or check-digit rule, and others Peppol accepts or not.
_SCHEMES = (
    "0088",
    "0192",
    "0184",
    "0208",
    "0201",
    "0210",
    "9907",
    "0211",
    "9906",
    "0007",
    "0151",
    "0002",
    "9999",
    "",
)
#: Values of the forms those rules tell apart (valid and invalid check digits, lengths, prefixes).
_VALUES = (
    "5790000436057",
    "5790000436058",
    "987654325",
    "987654321",
    "DK12345678",
    "12345678",
    "DK1234567",
    "0403019261",
    "0403019262",
    "ABC123",
    "AB1234",
    "RSSMRA85T10A562S",
    "12345678903",
    "IT12345678903",
    "IT12345678901",
    "5560360793",
    "5560360794",
    "51824753556",
    "51824753557",
    " 5790000436057 ",
)
_MIME_CODES = (
    "application/pdf",
    "image/png",
    "image/jpeg",
    "text/csv",
    "application/xml",
    "text/plain",
    "",
)
#: The identifiers EN 16931 gives a scheme, as (parent, element) local names; None: any parent.
_SCHEMED = {
    "ubl": {
        (None, "EndpointID"),
        ("PartyIdentification", "ID"),
        ("PartyLegalEntity", "CompanyID"),
        ("DeliveryLocation", "ID"),
        ("StandardItemIdentification", "ID"),
    },
    "cii": {
        ("URIUniversalCommunication", "URIID"),
        (None, "GlobalID"),
        ("SpecifiedLegalOrganization", "ID"),
    },
}


class PeppolMutator(Mutator):
    """The general mutations, and one in four a Peppol scheme or attachment mutation."""

    def mutate(
        self, name: str, original: etree._Element, index: int, seed: int = 0
    ) -> Variant | None:
        if index % 4 == 3:
            rng = random.Random(f"peppol:{seed}:{name}:{index}")
            for kind in rng.sample(("scheme", "attachment"), 2):
                root = copy.deepcopy(original)
                description = getattr(self, f"_{kind}")(root, rng)
                if description is not None:
                    xml = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
                    return Variant(name, index, kind, description, xml)
        return super().mutate(name, original, index, seed)

    def _scheme(self, root: etree._Element, rng: random.Random) -> str | None:
        schemed = _SCHEMED[self.syntax]
        holders = [
            e
            for e in self._elements(root)
            if (e.text or "").strip()
            and (
                (None, etree.QName(e).localname) in schemed
                or (etree.QName(e.getparent()).localname, etree.QName(e).localname) in schemed
            )
        ]
        if not holders:
            return None
        element = rng.choice(holders)
        old = element.get("schemeID")
        element.set("schemeID", rng.choice(_SCHEMES))
        change = f"@schemeID {old!r} -> {element.get('schemeID')!r}"
        if rng.random() < 0.5:
            element.text = rng.choice(_VALUES)
            change += f", value {element.text!r}"
        return f"scheme {self._where(element)} {change}"

    def _attachment(self, root: etree._Element, rng: random.Random) -> str | None:
        mime = rng.choice(_MIME_CODES)
        if self.syntax == "cii":
            agreements = root.findall(".//ram:ApplicableHeaderTradeAgreement", _NS)
            if not agreements:
                return None
            document = etree.SubElement(agreements[0], _q("ram", "AdditionalReferencedDocument"))
            etree.SubElement(document, _q("ram", "IssuerAssignedID")).text = "ATT-1"
            etree.SubElement(document, _q("ram", "TypeCode")).text = "916"
            binary = etree.SubElement(document, _q("ram", "AttachmentBinaryObject"))
        else:
            document = etree.Element(_q("cac", "AdditionalDocumentReference"))
            etree.SubElement(document, _q("cbc", "ID")).text = "ATT-1"
            attachment = etree.SubElement(document, _q("cac", "Attachment"))
            binary = etree.SubElement(attachment, _q("cbc", "EmbeddedDocumentBinaryObject"))
            anchor = root.find("cac:AccountingSupplierParty", _NS)
            if anchor is not None:
                anchor.addprevious(document)
            else:
                root.append(document)
        binary.set("mimeCode", mime)
        binary.set("filename", "attachment")
        binary.text = "aGVsbG8="
        return f"attachment with mimeCode {mime!r}"


def _q(prefix: str, local: str) -> str:
    return f"{{{_NS[prefix]}}}{local}"
