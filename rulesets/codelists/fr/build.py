"""Write the French code lists (fr/*.json) from the FNFE-MPE BR-FR Schematron source.

The BR-FR rules spell their code lists out inside `xsl:function`s of the `.sch`
(`custom:is-valid-billing-mode`, ...). This script reads those functions from the UBL
source and writes one list file per function, in the shape of the other lists here.
`tests/test_codelists_fr.py` reads both the UBL and the CII sources independently and
fails when a file here differs.

    python rulesets/codelists/fr/build.py ../shared/conformance/fr/ubl/BR-FR-Flux2-Schematron-UBL.sch
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

from lxml import etree

XSL = "{http://www.w3.org/1999/XSL/Transform}"
SOURCE = "FNFE-MPE BR-FR validation artefacts 1.4.0 (XP Z12-012), code values only"

#: list name -> (Schematron function, the rules that use it)
LISTS = {
    "FR-DOCUMENT-TYPES": ("custom:is-valid-document-type-code", ["BR-FR-04_BT-3"]),
    "FR-BILLING-FRAMEWORKS": ("custom:is-valid-billing-mode", ["BR-FR-08_BT-23"]),
    "FR-BAR-TREATMENTS": ("custom:is-valid-bar-treatment", ["BR-FR-20_BT-21"]),
    "FR-EAS": ("custom:is-valid-eas-code", []),
    "FR-VAT-CATEGORIES": ("custom:is-valid-vat-category-code", ["BR-FR-15_BT-118-1", "BR-FR-15_BT-151-1", "BR-FR-15_BT-95_BT-102-1"]),
    "FR-VAT-RATES": ("custom:is-valid-vat-rate", ["BR-FR-16_BT-96", "BR-FR-16_BT-119", "BR-FR-16_BT-152"]),
    "FR-ATTACHMENT-CODES": ("custom:is-valid-attachment-code", ["BR-FR-17_BT-123"]),
}


def function_codes(sch: Path, function: str) -> list[str]:
    """The codes a Schematron function compares with, in the order written."""
    for fn in etree.parse(str(sch)).iter(f"{XSL}function"):
        if fn.get("name") == function:
            selects = [el.get("select") for el in fn.iter(f"{XSL}variable", f"{XSL}sequence") if el.get("select")]
            quoted = [re.findall(r"'([^']*)'", s) for s in selects]
            codes = max(quoted, key=len)
            if len(codes) == 1 or (len(codes) == 2 and codes[1] == r"\s+"):
                return codes[0].split()
            return codes
    raise KeyError(f"{function} not in {sch}")


def expected(sch: Path) -> dict[str, dict]:
    """The list files the source gives: file name -> content."""
    return {
        f"{name}.json": {"name": name, "source": SOURCE, "used_by": used_by, "values": function_codes(sch, fn)}
        for name, (fn, used_by) in LISTS.items()
    }


def write_lists(lists: dict[str, dict]) -> int:
    """Write each list file of this folder whose content changed (also used by extended.py)."""
    out = Path(__file__).resolve().parent
    for filename, content in lists.items():
        text = json.dumps(content, ensure_ascii=False) + "\n"
        path = out / filename
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
            print(f"wrote {path}")
    return 0


def main(argv: list[str]) -> int:
    return write_lists(expected(Path(argv[0])))


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
