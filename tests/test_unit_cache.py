"""Compiled units kept on disk: a warm run generates no code, and says exactly what a cold run says."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import cli_process

from aiguillage import cache as disk_cache
from aiguillage.engine import compiled, compiler
from aiguillage.engine.evaluate import evaluate
from aiguillage.engine.loader import Library
from aiguillage.model.syntaxes import read_invoice_file

REPO = Path(__file__).resolve().parents[1]
INVOICE = REPO / "samples" / "atelier-lumiere-F2026-0120-distrilux.xml"

WARNING_RULES = """ruleset "t-warn" version 1
extends "en16931"

validate

  rule T-01 error
    message en "{message}"
    assert number = "TEST"

  override T-01 severity warning
"""

ERROR_RULES = """ruleset "t-err" version 1
extends "en16931"

validate

  rule T-02 error
    message en "The invoice has no such field"
    assert numbr != "TEST"
"""


@pytest.fixture()
def root(tmp_path: Path) -> Path:
    """A rulesets folder: the standard rulesets, and one ruleset with a warning and one with an error."""
    folder = tmp_path / "rulesets"
    (folder / "customers" / "t").mkdir(parents=True)
    (folder / "standard").symlink_to(REPO / "rulesets" / "standard")
    (folder / "codelists").symlink_to(REPO / "rulesets" / "codelists")
    (folder / "customers" / "t" / "warn.rules").write_text(
        WARNING_RULES.format(message="The invoice number is not TEST"), encoding="utf-8"
    )
    (folder / "customers" / "t" / "err.rules").write_text(ERROR_RULES, encoding="utf-8")
    return folder


def _commands(root: Path) -> list[list[str]]:
    warn, err = (str(root / "customers" / "t" / name) for name in ("warn.rules", "err.rules"))
    return [
        ["check", warn],
        ["check", err],
        ["evaluate", "--ruleset", warn, str(INVOICE)],
        ["evaluate", "--ruleset", warn, "--explain", str(INVOICE)],
        ["evaluate", "--ruleset", err, str(INVOICE)],
    ]


def test_cold_warm_and_uncached_runs_print_the_same_bytes(root: Path, tmp_path: Path) -> None:
    cache = str(tmp_path / "cache")
    for argv in _commands(root):
        cold = cli_process(root, cache, *argv)
        warm = cli_process(root, cache, *argv)
        uncached = cli_process(root, "off", *argv)
        assert cold == warm == uncached, argv
    assert list((tmp_path / "cache" / "units").glob("*.pickle"))  # the warm runs had units to read
    check_warn, check_err, evaluate_warn, _, evaluate_err = (
        cli_process(root, cache, *argv) for argv in _commands(root)
    )
    assert check_warn[0] == 0 and "warning: rule T-01 is defined in this ruleset" in check_warn[2]
    assert check_err[0] == 1 and "unknown field 'numbr'; did you mean number?" in check_err[2]
    assert (
        "warning T-01 The invoice number is not TEST" in evaluate_warn[1]
    )  # the override applies, warm too
    assert evaluate_err[0] != 0 and "numbr" in evaluate_err[2]


def test_a_changed_rule_file_is_compiled_again(root: Path, tmp_path: Path) -> None:
    cache = str(tmp_path / "cache")
    rules = root / "customers" / "t" / "warn.rules"
    rules.write_text(
        WARNING_RULES.format(message="First wording").replace(
            'number = "TEST"', 'number = "NOT-THIS"'
        ),
        encoding="utf-8",
    )
    argv = ["evaluate", "--ruleset", str(rules), str(INVOICE)]
    first = cli_process(root, cache, *argv)
    assert "First wording" in first[1]
    rules.write_text(
        WARNING_RULES.format(message="Second wording").replace(
            'number = "TEST"', 'number = "NOT-THIS"'
        ),
        encoding="utf-8",
    )
    second = cli_process(root, cache, *argv)
    assert "Second wording" in second[1] and "First wording" not in second[1]
    assert second == cli_process(root, "off", *argv)


def _refuse(*args: object, **kwargs: object) -> None:
    raise AssertionError("a unit was compiled although it is cached")


def test_a_warm_unit_is_read_not_generated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(disk_cache.ENV_VAR, str(tmp_path / "cache"))
    library = Library(REPO / "rulesets")
    customer = REPO / "rulesets" / "customers" / "distrilux" / "distrilux.rules"

    def decide(explain: bool = False) -> tuple[object, ...]:
        compiled.clear_cache()
        ruleset = library.compiled(str(customer))
        decision = evaluate(read_invoice_file(str(INVOICE)), ruleset, explain=explain)
        whole = decision.model_dump(mode="json", exclude={"timings"})
        return whole, [u.source for u in ruleset.units], [u.rule_ids for u in ruleset.units]

    try:
        cold = decide()
        cold_explained = decide(explain=True)
        with monkeypatch.context() as patched:
            patched.setattr(compiler, "_metas", _refuse)
            patched.setattr(compiler._UnitCompiler, "build", _refuse)
            warm = decide()
        assert warm == cold
        assert (
            decide(explain=True) == cold_explained
        )  # explain compiles its variant from the loaded program
    finally:
        compiled.clear_cache()
