"""Cases with `tables:` run against a copy of the ruleset's folder named by its content, under the
user cache, so that the next run finds the copy parsed and compiled; a changed file is a new copy."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from aiguillage import cache as disk_cache
from aiguillage.dsl import parser
from aiguillage.engine import compiled
from aiguillage.engine.loader import Library
from aiguillage.engine.tester import Runner, collect

REPO = Path(__file__).resolve().parents[1]

CASES = f"""ruleset: ../distrilux.rules
base: {REPO / "samples" / "atelier-lumiere-F2026-0120-distrilux.xml"}
cases:
  - name: A new article added to the mapping table for this case only
    patch:
      lines[4].item.sellers_identifier: AL-NEW-99
    tables:
      article_codes:
        - {{sellers_code: AL-ORS-01, distrilux_code: DLX-4402117}}
        - {{sellers_code: AL-LED-27, distrilux_code: DLX-4410560}}
        - {{sellers_code: AL-MTM-02, distrilux_code: DLX-4402390}}
        - {{sellers_code: AL-NEW-99, distrilux_code: DLX-4499999}}
    expect:
      enriched:
        lines[4].item.buyers_identifier: DLX-4499999
"""


@pytest.fixture()
def root(tmp_path: Path) -> Path:
    """A rulesets folder with the standard rulesets and a copy of distrilux, with these cases."""
    folder = tmp_path / "rulesets"
    (folder / "customers").mkdir(parents=True)
    (folder / "standard").symlink_to(REPO / "rulesets" / "standard")
    (folder / "codelists").symlink_to(REPO / "rulesets" / "codelists")
    shutil.copytree(REPO / "rulesets" / "customers" / "distrilux", folder / "customers" / "distrilux")
    (folder / "customers" / "distrilux" / "tests" / "edi.yaml").write_text(CASES, encoding="utf-8")
    return folder


def _run(root: Path) -> tuple[list, list[Path]]:
    """A new process's run (nothing compiled in memory): its results and the copies it used."""
    compiled.clear_cache()
    found = collect([root / "customers" / "distrilux" / "tests"])
    with Runner(Library(root)) as runner:
        results = runner.run_all(found.cases)
        used = list(runner._overridden.values())
    return results, used


def test_the_copy_is_named_by_content_and_found_again_parsed(
    root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(disk_cache.ENV_VAR, str(tmp_path / "cache"))
    results, [first] = _run(root)
    assert [r.passed for r in results] == [True], [r.problems or r.error for r in results]
    assert first.parent.parent == tmp_path / "cache" / "case-rulesets"
    assert (first.parent / "article_codes.csv").read_text(encoding="utf-8").count("AL-NEW-99") == 1
    assert not (first.parent / "tests").exists()

    parsed: list[str] = []
    real = parser.parse_text
    monkeypatch.setattr(parser, "parse_text", lambda text, path="<rules>": parsed.append(path) or real(text, path))
    results, [again] = _run(root)
    assert again == first and [r.passed for r in results] == [True]
    assert parsed == []  # the copy's files, like the ruleset's, come parsed from the disk

    rules = root / "customers" / "distrilux" / "distrilux.rules"
    rules.write_text(rules.read_text(encoding="utf-8") + "\n# edited\n", encoding="utf-8")
    results, [edited] = _run(root)
    assert edited != first and [r.passed for r in results] == [True]
    assert first.is_file()  # an older copy is left as it was: a run still using it is not disturbed


def test_without_a_cache_the_copy_is_temporary(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(disk_cache.ENV_VAR, "off")
    results, [used] = _run(root)
    assert [r.passed for r in results] == [True]
    assert not used.exists()  # removed when the runner closed


def test_an_unknown_table_names_the_ruleset_and_its_tables(
    root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(disk_cache.ENV_VAR, str(tmp_path / "cache"))
    cases = root / "customers" / "distrilux" / "tests" / "edi.yaml"
    cases.write_text(cases.read_text(encoding="utf-8").replace("      article_codes:", "      article_code:"), encoding="utf-8")
    [result], _ = _run(root)
    assert result.error == "tables: distrilux declares no table 'article_code' (its tables: article_codes)"
