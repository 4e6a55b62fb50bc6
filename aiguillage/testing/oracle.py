"""An official validation artefact (compiled Schematron, XSLT 2/3) run as a test oracle.

The official EN 16931 artefacts are XSLT stylesheets that produce an SVRL
report; a verdict is the set of `(rule id, flag)` of its failed asserts and
successful reports. They run in Saxon-HE (`saxonche`, a test dependency),
never in the product: this module is for differential tests and for
`aiguillage conformance --oracle`. A Schematron source (`.sch`, as Peppol
publishes its rules) is compiled first (aiguillage.testing.schematron) and the
compiled stylesheet cached.

Verdicts are cached on disk by (stylesheet, document) digest when a cache
folder is given, so that a pytest session (or several xdist workers) pays
the XSLT once per document; each entry is written to a temporary file and
renamed, so concurrent writers never leave a half-written entry.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import tempfile
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from lxml import etree

from aiguillage.testing.schematron import compile_schematron, is_schematron

SVRL_NS = "http://purl.oclc.org/dsdl/svrl"
#: The rule id some artefacts (Factur-X, EXTENDED-CTC-FR) put in brackets opening an assert's
#: message, where their SVRL id is a serial number or missing.
BRACKETED_ID = re.compile(r"^\s*\[([A-Za-z0-9-]+)\]")
_XSL_NS = "http://www.w3.org/1999/XSL/Transform"
_INVOICE_ROOTS = frozenset({
    "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2",
    "urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2",
    "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100",
})
_FIRED = (f"{{{SVRL_NS}}}failed-assert", f"{{{SVRL_NS}}}successful-report")

Verdict = frozenset[tuple[str, str]]


@dataclass(frozen=True, slots=True)
class OracleResult:
    """What the artefact said: the fired `(id, flag)` pairs, or the error it stopped with."""

    fired: Verdict
    error: str | None = None


class Oracle:
    """One compiled stylesheet; `judge(xml)` gives its verdict on a document."""

    def __init__(self, stylesheet: Path, cache: Path | None = None) -> None:
        try:
            import saxonche
        except ImportError as exc:  # the test extra is not installed
            raise RuntimeError(
                "the oracle needs Saxon-HE: python3 -m pip install saxonche (the 'test' extra)"
            ) from exc
        self.stylesheet = Path(stylesheet)
        if not self.stylesheet.is_file():
            raise FileNotFoundError(f"{stylesheet}: no such stylesheet")
        #: What runs: the stylesheet itself, or the XSLT compiled from a Schematron source.
        self.compiled = compile_schematron(self.stylesheet, cache) if is_schematron(self.stylesheet) else self.stylesheet
        self._digest = hashlib.sha256(self.compiled.read_bytes()).hexdigest()[:16]
        self._cache = cache
        self._processor = saxonche.PySaxonProcessor(license=False)
        compiler = self._processor.new_xslt30_processor()
        self._executable = compiler.compile_stylesheet(stylesheet_file=str(self.compiled))

    @cached_property
    def namespaces(self) -> frozenset[str]:
        """The invoice root namespaces (UBL, CII) the stylesheet reads; empty when it names none."""
        declared = set(etree.parse(str(self.compiled)).getroot().nsmap.values())
        return frozenset(declared & _INVOICE_ROOTS)

    def reads(self, xml: bytes) -> bool:
        """Whether this stylesheet is for the document's syntax (UBL or CII)."""
        return not self.namespaces or root_namespace(xml) in self.namespaces

    @cached_property
    def rule_ids(self) -> frozenset[str]:
        """Every assertion id the stylesheet can report: what it can judge (the BR-FR artefacts
        know only BR-FR ids, not the EN 16931 rules a French invoice must also meet)."""
        tree = etree.parse(str(self.compiled))
        ids = set()
        for tag in _FIRED:
            for element in tree.iter(tag):
                for attribute in element.iter(f"{{{_XSL_NS}}}attribute"):
                    if attribute.get("name") == "id" and attribute.text and attribute.text.strip():
                        ids.add(attribute.text.strip())
                if element.get("id"):
                    ids.add(element.get("id"))
        return frozenset(ids)

    def judge(self, xml: bytes) -> OracleResult:
        """The artefact's verdict on one document (from the cache when known)."""
        key = hashlib.sha256(xml).hexdigest()
        cached = self._cached(key)
        if cached is not None:
            return cached
        result = self._run(xml)
        self._store(key, result)
        return result

    def _run(self, xml: bytes) -> OracleResult:
        try:
            node = self._processor.parse_xml(xml_text=xml.decode("utf-8"))
            report = self._executable.transform_to_string(xdm_node=node)
        except Exception as exc:  # noqa: BLE001 - Saxon raises PySaxonApiError and friends
            return OracleResult(frozenset(), error=" ".join(str(exc).split())[:300])
        if report is None:
            return OracleResult(frozenset(), error="the stylesheet produced no report")
        root = etree.fromstring(report.encode("utf-8"))
        fired = set()
        for tag in _FIRED:
            for element in root.iter(tag):
                fired.add((self._rule_of(element), element.get("flag") or "fatal"))
        return OracleResult(frozenset(fired))

    def _rule_of(self, fired: etree._Element) -> str:
        """The rule a fired SVRL assert or report names (its `id`)."""
        return fired.get("id", "?")

    # ----------------------------------------------------------------- cache

    def _entry(self, key: str) -> Path | None:
        if self._cache is None:
            return None
        return self._cache / self._digest / key[:2] / f"{key}.json"

    def _cached(self, key: str) -> OracleResult | None:
        entry = self._entry(key)
        if entry is None or not entry.is_file():
            return None
        data = json.loads(entry.read_text())
        return OracleResult(frozenset(tuple(pair) for pair in data["fired"]), data["error"])

    def _store(self, key: str, result: OracleResult) -> None:
        entry = self._entry(key)
        if entry is None:
            return
        entry.parent.mkdir(parents=True, exist_ok=True)
        data = {"fired": sorted(result.fired), "error": result.error}
        handle, temporary = tempfile.mkstemp(dir=entry.parent, suffix=".tmp")
        with os.fdopen(handle, "w") as out:
            json.dump(data, out)
        os.replace(temporary, entry)


def root_namespace(xml: bytes) -> str | None:
    """The namespace of a document's root element (None when it is not XML)."""
    try:
        for _, element in etree.iterparse(io.BytesIO(xml), events=("start",), resolve_entities=False, no_network=True):
            return etree.QName(element).namespace
    except etree.XMLSyntaxError:
        return None
    return None
