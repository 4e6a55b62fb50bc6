"""Write the Factur-X code lists (factur-x/*.json) from the profiles' code databases.

Each Factur-X 1.09 artefact checks its code values against a code database beside it
(`FACTUR-X_MINIMUM_codedb.xml`: `<codedb><cl id="6"><enumeration value="AED"/>…`). The
generated code-value rules (aiguillage.testing.facturx_codes) use an EN 16931 list where
it has the same codes, and otherwise the profile's own list, written here as
`FX-PROFILE-ID.json` (list ID of the profile's database) in the shape of the other lists.
`tests/test_facturx_families.py` fails when a file here differs.

    python rulesets/codelists/factur-x/build.py [CONFORMANCE]
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
SOURCE = "Factur-X 1.09 {profile} code database ({file}), list {list}, code values only"


def contents(conformance: Path) -> dict[str, dict]:
    """Every list file the profiles' code-value rules need: name -> content."""
    from aiguillage.testing.facturx_codes import code_checks, own_lists
    from aiguillage.testing.facturx_oracle import RULESETS, stylesheet

    found = {}
    for profile in RULESETS:
        path = str(stylesheet(profile, conformance))
        written, _ = code_checks(path)
        database = next(Path(path).parent.glob("*_codedb.xml")).name
        for name, values in own_lists(path).items():
            used_by = sorted(
                r for r, checks in written.items() if any(c.codelist == name for c in checks)
            )
            source = SOURCE.format(
                profile=profile.upper(), file=database, list=name.rsplit("-", 1)[1]
            )
            found[name] = {
                "name": name,
                "source": source,
                "used_by": used_by,
                "values": list(values),
            }
    return found


def main(argv: list[str]) -> int:
    conformance = Path(argv[0]) if argv else HERE.parents[3] / "shared" / "conformance"
    for name, content in contents(conformance).items():
        path = HERE / f"{name}.json"
        text = json.dumps(content, indent=2, ensure_ascii=False) + "\n"
        if not path.is_file() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
            print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
