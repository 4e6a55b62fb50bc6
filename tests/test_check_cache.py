"""`aiguillage check` keeps its outcome on disk: a warm run parses nothing and says exactly what a cold
or uncached run says; any change to a file the ruleset reads (itself, an include, a data file, what it
extends, where a name leads) is seen."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import cli_process

from aiguillage import cache as disk_cache
from aiguillage.engine import loader
from aiguillage.engine.loader import Library

REPO = Path(__file__).resolve().parents[1]

MAIN = """ruleset "t-main" version 3
extends "en16931"
include "parts/more.rules"

codelist CURRENCIES from "ISO-4217.json"

table codes from "codes.csv" key code
  shape
    code text required
    label text

validate

  rule T-01 error
    message en "The invoice number is not TEST"
    assert number = "TEST"

  override T-01 severity warning
"""

MORE_OK = """validate

  rule T-02 warning
    message en "A code the table knows"
    assert codes[buyer_reference] exists
"""

MORE_BROKEN = """validate

  rule T-02 warning
    message en "A code the table knows"
    assert codes[buyer_referense] exists
"""


@pytest.fixture()
def root(tmp_path: Path) -> Path:
    """A rulesets folder: the standard rulesets, and one ruleset with an include and a table."""
    folder = tmp_path / "rulesets"
    (folder / "customers" / "t" / "parts").mkdir(parents=True)
    (folder / "standard").symlink_to(REPO / "rulesets" / "standard")
    (folder / "codelists").symlink_to(REPO / "rulesets" / "codelists")
    (folder / "customers" / "t" / "main.rules").write_text(MAIN, encoding="utf-8")
    (folder / "customers" / "t" / "parts" / "more.rules").write_text(MORE_OK, encoding="utf-8")
    (folder / "customers" / "t" / "codes.csv").write_text("code,label\nA,first\n", encoding="utf-8")
    return folder


@pytest.fixture()
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv(disk_cache.ENV_VAR, str(folder))
    return folder


def _main(root: Path) -> Path:
    return root / "customers" / "t" / "main.rules"


def _check(root: Path) -> object:
    """One check as a new process would do it (a new library: nothing remembered in memory)."""
    return Library(root).outcome(_main(root))


def _uncached(root: Path, monkeypatch: pytest.MonkeyPatch) -> object:
    with monkeypatch.context() as patched:
        patched.setenv(disk_cache.ENV_VAR, "off")
        return _check(root)


def _no_loading(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("the ruleset was loaded and checked although its outcome is kept")

    monkeypatch.setattr(Library, "_load", refuse)


def test_a_warm_check_loads_nothing_and_says_the_same(
    root: Path, cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cold = _check(root)
    assert cold.ok and cold.warnings == 1 and "T-01" in cold.rendered[0]
    assert len(list((cache / "checked").glob("*.pickle"))) == 1
    with monkeypatch.context() as patched:
        _no_loading(patched)
        assert _check(root) == cold
    assert _uncached(root, monkeypatch) == cold


@pytest.mark.parametrize(
    "change",
    [
        "include",
        "data",
        "main",
        "include removed",
        "parent name declared twice",
        "code list found in an earlier folder",
        "include's link pointed elsewhere",
    ],
)
def test_a_change_to_anything_the_ruleset_reads_is_checked_again(
    root: Path, cache: Path, monkeypatch: pytest.MonkeyPatch, change: str
) -> None:
    before = _check(root)
    folder = root / "customers" / "t"
    if change == "include":
        (folder / "parts" / "more.rules").write_text(MORE_BROKEN, encoding="utf-8")
    elif change == "data":
        (folder / "codes.csv").write_text("code,label\n,no code\n", encoding="utf-8")
    elif change == "main":
        (folder / "main.rules").write_text(MAIN.replace("version 3", "version 4"), encoding="utf-8")
    elif change == "include removed":
        (folder / "parts" / "more.rules").unlink()
    elif change == "code list found in an earlier folder":
        (folder / "ISO-4217.json").write_text("not JSON", encoding="utf-8")  # looked for here first
    elif change == "include's link pointed elsewhere":
        (folder / "parts" / "broken.rules").write_text(MORE_BROKEN, encoding="utf-8")
        (folder / "parts" / "more.rules").unlink()
        (folder / "parts" / "more.rules").symlink_to(folder / "parts" / "broken.rules")
    else:
        (folder / "other.rules").write_text('ruleset "en16931" version 1\n', encoding="utf-8")
    after = _check(root)
    assert after != before
    assert after == _uncached(root, monkeypatch)
    with monkeypatch.context() as patched:
        _no_loading(patched)
        assert _check(root) == after  # the new outcome is kept in its turn


def test_errors_are_kept_with_their_file_line_and_column(
    root: Path, cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (root / "customers" / "t" / "parts" / "more.rules").write_text(MORE_BROKEN, encoding="utf-8")
    cold = _check(root)
    assert not cold.ok and cold.errors == 1
    included = (root / "customers" / "t" / "parts" / "more.rules").resolve()
    assert any(r.startswith(f"{included}:5:") and "buyer_referense" in r for r in cold.rendered)
    with monkeypatch.context() as patched:
        _no_loading(patched)
        assert _check(root) == cold
    assert _uncached(root, monkeypatch) == cold


def test_a_damaged_entry_is_ignored_and_rewritten(
    root: Path, cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cold = _check(root)
    (entry,) = (cache / "checked").glob("*.pickle")
    entry.write_bytes(entry.read_bytes()[:-20])
    assert _check(root) == cold
    with monkeypatch.context() as patched:
        _no_loading(patched)
        assert _check(root) == cold


def test_notes_of_a_parent_loaded_earlier_in_the_process_count(
    root: Path, cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Checking two rulesets in one process: the second reuses en16931 from memory, yet its entry must
    still list en16931's files, so that a change there is seen."""
    library = Library(root)
    library.outcome(root / "standard" / "en16931.rules")
    library.outcome(_main(root))
    (entry,) = [e for e in (cache / "checked").glob("*.pickle") if _names(e, "main.rules")]
    assert _names(entry, "en16931.rules")


def _names(entry: Path, file_name: str) -> bool:
    return file_name.encode() in entry.read_bytes()


def test_cold_warm_and_uncached_processes_print_the_same_bytes(root: Path, tmp_path: Path) -> None:
    cache_dir = str(tmp_path / "cli-cache")
    included = root / "customers" / "t" / "parts" / "more.rules"
    for text in (MORE_OK, MORE_BROKEN):
        included.write_text(text, encoding="utf-8")
        argv = ["check", str(_main(root)), str(root / "standard")]
        cold = cli_process(root, cache_dir, *argv)
        warm = cli_process(root, cache_dir, *argv)
        assert cold == warm == cli_process(root, "off", *argv)
    assert cold[0] == 1 and ":5:" in cold[2] and "buyer_referense" in cold[2]


def test_a_warm_check_imports_neither_the_checker_nor_pydantic(root: Path, tmp_path: Path) -> None:
    cache_dir = str(tmp_path / "cli-cache")
    cli_process(root, cache_dir, "check", str(_main(root)))
    script = (
        "import sys\n"
        "from aiguillage.cli.main import main\n"
        f"status = main(['check', '-q', {str(_main(root))!r}])\n"
        "print(status, sorted(m for m in ('pydantic', 'lark', 'aiguillage.dsl.checker', 'aiguillage.dsl.ast') if m in sys.modules))\n"
    )
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO),
        loader.ENV_VAR: str(root),
        disk_cache.ENV_VAR: cache_dir,
    }
    done = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        env=env,
        timeout=180,
        check=True,
    )
    assert done.stdout.strip().splitlines()[-1] == "0 []"


def test_an_include_linked_to_another_file_of_the_same_text_is_checked_again(
    root: Path, cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Diagnostics name the file an include resolves to: same text elsewhere is a different outcome."""
    parts = root / "customers" / "t" / "parts"
    for name in ("a", "b"):
        (parts / name).mkdir()
        (parts / name / "more.rules").write_text(MORE_BROKEN, encoding="utf-8")
    (parts / "more.rules").unlink()
    (parts / "more.rules").symlink_to(parts / "a" / "more.rules")
    before = _check(root)
    assert any(r.startswith(str((parts / "a" / "more.rules").resolve())) for r in before.rendered)
    (parts / "more.rules").unlink()
    (parts / "more.rules").symlink_to(parts / "b" / "more.rules")
    after = _check(root)
    assert any(r.startswith(str((parts / "b" / "more.rules").resolve())) for r in after.rendered)
    assert after == _uncached(root, monkeypatch)
