"""Write the Factur-X code lists (factur-x/*.json) from the profiles' code databases.

Each Factur-X 1.09 artefact checks its code values against a code database beside it
(`FACTUR-X_MINIMUM_codedb.xml`: `<codedb><cl id="6"><enumeration value="AED"/>…`). A list
that differs from the EN 16931 one it resembles (the currencies: STD, not STN) is written
here, in the shape of the other lists; the rules that use it are named in `used_by`.
`tests/test_facturx_families.py` fails when a file here differs from its database.

    python rulesets/codelists/factur-x/build.py
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from lxml import etree

HERE = Path(__file__).resolve().parent
SOURCE = "Factur-X 1.09 {profile} code database ({file}), list {list}, code values only"

#: list name -> (profile, code database list id, the rules that use it)
LISTS = {
    "FX-MINIMUM-GUIDELINES": ("minimum", "1", ["FX-SCH-A-000026"]),
    "FX-MINIMUM-CURRENCIES": ("minimum", "6", ["FX-SCH-A-000040"]),
}


def codedb(profile: str) -> Path:
    """The code database of a profile, beside its artefact (aiguillage.testing.facturx_oracle)."""
    from aiguillage.testing.facturx_oracle import stylesheet

    artefact = stylesheet(profile, HERE.parents[3] / "shared" / "conformance")
    return next(artefact.parent.glob("*_codedb.xml"))


def values(profile: str, list_id: str) -> list[str]:
    """The codes of one list of a profile's code database, in its order."""
    root = etree.parse(str(codedb(profile))).getroot()
    found = root.find(f"cl[@id='{list_id}']")
    return [e.get("value") for e in found.iter("enumeration")]


def content(name: str) -> dict:
    profile, list_id, used_by = LISTS[name]
    source = SOURCE.format(profile=profile.upper(), file=codedb(profile).name, list=list_id)
    return {"name": name, "source": source, "used_by": used_by, "values": values(profile, list_id)}


def main() -> int:
    for name in LISTS:
        path = HERE / f"{name}.json"
        text = json.dumps(content(name), indent=2, ensure_ascii=False) + "\n"
        if not path.is_file() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
            print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
