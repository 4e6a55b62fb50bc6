"""The code lists in rulesets/codelists/ are exactly what the shared conformance data says.

Each shared ``codelists.json`` (EN 16931 and Peppol) is turned into the expected list files
here, independently of ``rulesets/codelists/build.py``, and compared with the files in the
repository: a list added, dropped, reordered or edited on either side fails the test, with
``python rulesets/codelists/build.py <shared codelists.json>`` as the fix.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

CODELISTS = Path(__file__).resolve().parents[1] / "rulesets" / "codelists"
SOURCES = {"en16931": CODELISTS, "peppol": CODELISTS / "peppol"}


def expected_files(conformance: Path, family: str) -> dict[str, dict]:
    data = json.loads((conformance / family / "codelists.json").read_text(encoding="utf-8"))
    used_by: dict[str, list[str]] = {}
    for rule, names in data.get("used_by_rule", {}).items():
        for name in names:
            used_by.setdefault(name, []).append(rule)
    return {
        f"{name}.json": {
            "name": name,
            "source": data["source"],
            "used_by": used_by.get(name, []),
            "values": [str(v) for v in values],
        }
        for name, values in data["lists"].items()
    }


@pytest.mark.conformance
@pytest.mark.parametrize("family", sorted(SOURCES))
def test_list_files_match_shared_data(conformance: Path, family: str) -> None:
    expected = expected_files(conformance, family)
    folder = SOURCES[family]
    present = {p.name for p in folder.glob("*.json")}
    hint = f"run: python rulesets/codelists/build.py {conformance / family / 'codelists.json'}"
    assert present == set(expected), f"{folder}: files differ from the shared lists; {hint}"
    for file_name, document in expected.items():
        actual = json.loads((folder / file_name).read_text(encoding="utf-8"))
        assert actual == document, f"{folder / file_name} differs from the shared data; {hint}"


@pytest.mark.conformance
@pytest.mark.parametrize("family", sorted(SOURCES))
def test_values_are_unique_strings(family: str) -> None:
    for path in sorted(SOURCES[family].glob("*.json")):
        values = json.loads(path.read_text(encoding="utf-8"))["values"]
        assert all(isinstance(v, str) and v == v.strip() and v for v in values), path
        assert len(values) == len(set(values)), f"{path}: duplicate codes"


@pytest.mark.conformance
def test_build_script_is_idempotent(conformance: Path, tmp_path: Path) -> None:
    import importlib.util

    spec = importlib.util.spec_from_file_location("codelists_build", CODELISTS / "build.py")
    build = importlib.util.module_from_spec(spec)
    assert spec.loader is not None
    spec.loader.exec_module(build)
    source = conformance / "en16931" / "codelists.json"
    first = {p: p.read_bytes() for p in build.build(source, tmp_path)}
    second = {p: p.read_bytes() for p in build.build(source, tmp_path)}
    assert first == second
    for path, text in first.items():
        assert text == (CODELISTS / path.name).read_bytes()
