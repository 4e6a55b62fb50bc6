"""Write the EXTENDED-CTC-FR profile's own code lists (fr/FR-EXT-*.json) from its official XSLT.

The profile's code-list rules (BR-FREXT-CL-*) spell their codes out in the test of the assert.
Where a list is an EN 16931 list plus a few codes (BR-FREXT-CL-10, 24) or one as it is
(BR-FREXT-CL-20: UNTDID 7161), the rules reuse the EN 16931 file and name the extra codes; only
lists of their own are written here (FR-EXT-UNTDID-5153: the tax reason codes but VAT).
`tests/test_codelists_fr.py` reads both the UBL and the CII XSLTs and fails when a file here
differs, or when a reused EN 16931 list no longer matches.

    python rulesets/codelists/fr/extended.py ../shared/conformance/fr/ubl/EXTENDED-CTC-FR-UBL.xslt
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from build import write_lists  # the sibling script (this folder is on sys.path when run)
from lxml import etree

XSL = "{http://www.w3.org/1999/XSL/Transform}"
SOURCE = "FNFE-MPE EXTENDED-CTC-FR validation artefacts 1.4.0 (XP Z12-012), code values only"

#: list name -> the assert that spells it out
LISTS = {
    "FR-EXT-INCOTERMS": "BR-FREXT-CL-27",
    "FR-EXT-ITEM-ATTRIBUTE": "BR-FREXT-04",
    "FR-EXT-UNTDID-5153": "BR-FREXT-CL-20-TAX",
}


def assert_codes(xslt: Path, rule_id: str) -> list[str]:
    """The codes of the first `contains(' A B ... ', ...)` in the test of the assert `rule_id`,
    in the order written (a leading double space, which lets an empty code pass, is dropped)."""
    for when in etree.parse(str(xslt)).iter(f"{XSL}when"):
        ids = when.getparent().iterfind(f".//{XSL}attribute[@name='id']")
        if any(i.text == rule_id for i in ids):
            found = re.search(r"contains\('([^']*)'", when.get("test", ""))
            if found:
                return found.group(1).split()
    raise KeyError(f"{rule_id} not in {xslt}")


def expected(xslt: Path) -> dict[str, dict]:
    """The list files the XSLT gives: file name -> content."""
    return {
        f"{name}.json": {
            "name": name,
            "source": SOURCE,
            "used_by": [rule_id],
            "values": assert_codes(xslt, rule_id),
        }
        for name, rule_id in LISTS.items()
    }


def main(argv: list[str]) -> int:
    return write_lists(expected(Path(argv[0])))


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
