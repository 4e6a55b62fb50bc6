"""Write the code lists of the standard rulesets as data files, one per list.

Usage::

    python rulesets/codelists/build.py ../shared/conformance/en16931/codelists.json
    python rulesets/codelists/build.py ../shared/conformance/peppol/codelists.json

The input is a shared ``codelists.json``: ``{"source": str, "lists": {name: [code, ...]},
"used_by_rule": {rule_id: [list name, ...]}}`` (``used_by_rule`` is optional; the Peppol
file has none). Each list becomes ``<name>.json`` beside this script (EN 16931) or under
``peppol/`` (Peppol), holding ``{"name", "source", "used_by", "values"}``: ``values`` are the
codes as strings in the input's order, ``used_by`` the ids of the rules that name the list.

The output is a pure function of the input, so running the script twice changes nothing;
files are only rewritten when their content differs.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


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


def render(document: dict) -> str:
    """The exact text of one list file."""
    return json.dumps(document, ensure_ascii=False, indent=2) + "\n"


def build(source: Path, out: Path = HERE) -> list[Path]:
    """Write every list of ``source``; return the files written or already up to date."""
    data = json.loads(source.read_text(encoding="utf-8"))
    folder = target_dir(data, out)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for file_name, document in documents(data).items():
        path = folder / file_name
        text = render(document)
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
        paths.append(path)
    return paths


def main(argv: list[str]) -> int:
    if not argv:
        print(__doc__.strip().splitlines()[0], file=sys.stderr)
        print("usage: build.py CODELISTS.json [CODELISTS.json ...]", file=sys.stderr)
        return 2
    for arg in argv:
        for path in build(Path(arg)):
            print(path.relative_to(HERE))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
