"""Compile an ISO Schematron source (`.sch`, XSLT 2 query binding) into an XSLT oracle.

Peppol publishes its BIS 3.0 rules only as Schematron sources; the official
EN 16931 artefacts come compiled. To run both the same way (Saxon-HE, SVRL
out), a `.sch` is compiled once with the ISO Schematron "skeleton" that lxml
ships (`lxml/isoschematron/resources/xsl`): its inclusion and abstract-pattern
steps, then its SVRL meta-stylesheet, imported by a small driver that accepts
`queryBinding="xslt2"` and marks the result as XSLT 2.0 (the skeleton only
copies the XPath of rule contexts and asserts into the result, so it need not
understand XPath 2 itself; Saxon does). Foreign elements such as Peppol's
`xsl:function` check-digit helpers are copied through (`allow-foreign`).

This is test tooling (differential tests, `aiguillage conformance --oracle`),
never the product. The compiled stylesheet is cached by the source's digest.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from lxml import etree, isoschematron

from aiguillage import cache

_SKELETON = Path(isoschematron.__file__).parent / "resources" / "xsl" / "iso-schematron-xslt1"

#: Overrides the skeleton's schema template (which knows only the XSLT 1 bindings) for xslt2.
_DRIVER = """<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform"
    xmlns:axsl="http://www.w3.org/1999/XSL/TransformAlias" xmlns:iso="http://purl.oclc.org/dsdl/schematron">
  <xsl:import href="{svrl}"/>
  <xsl:template match="iso:schema[@queryBinding = 'xslt2' or @queryBinding = 'xslt3']" priority="20">
    <axsl:stylesheet>
      <xsl:apply-templates select="iso:ns"/>
      <xsl:attribute name="version">2.0</xsl:attribute>
      <xsl:apply-templates select="." mode="stylesheetbody"/>
    </axsl:stylesheet>
  </xsl:template>
</xsl:stylesheet>
"""


def is_schematron(path: Path) -> bool:
    """Whether a file is a Schematron source (by its root element, whatever its suffix)."""
    try:
        for _, element in etree.iterparse(
            str(path), events=("start",), resolve_entities=False, no_network=True
        ):
            return element.tag == f"{{{isoschematron.SCHEMATRON_NS}}}schema"
    except etree.XMLSyntaxError:
        return False
    return False


def compile_schematron(source: Path, cache_folder: Path | None = None) -> Path:
    """The compiled XSLT for a `.sch` file: from the cache when it was compiled before.

    The cache is `cache_folder/schematron/` when given, else the project's cache
    folder (`aiguillage.cache`), else a temporary folder.
    """
    source = Path(source)
    data = source.read_bytes()
    digest = cache.key(data, _DRIVER, str(_SKELETON))[:20]
    folder = _folder(cache_folder)
    target = folder / f"{source.stem}-{digest}.xslt"
    if target.is_file():
        return target
    compiled = _compile(source)
    folder.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=folder, suffix=".tmp")
    with os.fdopen(handle, "wb") as out:
        out.write(etree.tostring(compiled, xml_declaration=True, encoding="UTF-8"))
    os.replace(temporary, target)
    return target


def _folder(cache_folder: Path | None) -> Path:
    if cache_folder is not None:
        return Path(cache_folder) / "schematron"
    shared = cache.cache_dir()
    if shared is not None:
        return shared / "schematron"
    return Path(tempfile.gettempdir()) / "aiguillage-schematron"


def _compile(source: Path) -> etree._ElementTree:
    schema = etree.parse(str(source))
    if schema.getroot().tag != f"{{{isoschematron.SCHEMATRON_NS}}}schema":
        raise ValueError(f"{source}: not an ISO Schematron schema")
    schema = isoschematron.iso_dsdl_include(schema)
    schema = isoschematron.iso_abstract_expand(schema)
    driver = etree.XSLT(
        etree.XML(_DRIVER.format(svrl=(_SKELETON / "iso_svrl_for_xslt1.xsl").as_uri()).encode())
    )
    compiled = driver(schema, **{"allow-foreign": "'true'"})
    problems = [
        e.message
        for e in driver.error_log
        if "error" in e.message.lower() or "fail" in e.message.lower()
    ]
    if problems or compiled.getroot() is None:
        raise ValueError(
            f"{source}: the Schematron does not compile: " + "; ".join(problems or ["no result"])
        )
    return compiled
