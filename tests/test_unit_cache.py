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


BASE_RULES = """ruleset "t-base" version 1
extends "en16931"
codelist T-NUMBERS from "t-numbers.json"

validate

  rule T-10 error
    message en "{message}"
    assert number not in codelist T-NUMBERS
"""

CHILD_RULES = """ruleset "t-child" version 1
extends "t-base"
"""


def _family(root: Path, message: str, numbers: list[str]) -> Path:
    """A ruleset extending another one that reads a code list of the rulesets folder (a copy, not a link)."""
    import json
    import shutil

    codelists = root / "codelists"
    if codelists.is_symlink():
        codelists.unlink()
        shutil.copytree(REPO / "rulesets" / "codelists", codelists)
    (codelists / "t-numbers.json").write_text(json.dumps({"name": "T-NUMBERS", "values": numbers}), encoding="utf-8")
    (root / "customers" / "t" / "base.rules").write_text(BASE_RULES.format(message=message), encoding="utf-8")
    child = root / "customers" / "t" / "child.rules"
    child.write_text(CHILD_RULES, encoding="utf-8")
    return child


def test_a_warm_evaluate_builds_the_ruleset_without_parser_checker_or_compiler(root: Path, tmp_path: Path) -> None:
    """What a kept ruleset needs is read from the disk: none of the language's machinery is imported."""
    import json
    import os
    import subprocess
    import sys

    from aiguillage.engine import loader

    child = _family(root, "Number refused", ["F2026-0120"])
    script = (
        "import sys, json\n"
        "from aiguillage.cli.main import main\n"
        f"status = main(['evaluate', '--ruleset', {str(child)!r}, '--format', 'jsonl', {str(INVOICE)!r}])\n"
        "machinery = ('lark', 'aiguillage.dsl.parser', 'aiguillage.dsl.checker', 'aiguillage.engine.compiler')\n"
        "print(json.dumps(sorted(m for m in machinery if m in sys.modules)))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(REPO), loader.ENV_VAR: str(root), disk_cache.ENV_VAR: str(tmp_path / "cache")}

    def run() -> tuple[dict, list[str]]:
        done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, check=True, timeout=180)
        decision, imported = done.stdout.strip().splitlines()[-2:]
        return json.loads(decision), json.loads(imported)

    cold, cold_imports = run()
    warm, warm_imports = run()
    assert "aiguillage.engine.compiler" in cold_imports and warm_imports == []
    cold.pop("timings"), warm.pop("timings")
    assert warm == cold
    assert [f["rule"] for f in warm["findings"]] == ["T-10"]


def test_a_changed_parent_or_code_list_is_compiled_again(root: Path, tmp_path: Path) -> None:
    cache = str(tmp_path / "cache")
    child = _family(root, "First wording", ["F2026-0120"])
    argv = ["evaluate", "--ruleset", str(child), str(INVOICE)]
    first = cli_process(root, cache, *argv)
    assert "First wording" in first[1]
    assert cli_process(root, cache, *argv) == first  # warm: from the kept ruleset

    _family(root, "Second wording", ["F2026-0120"])  # the parent's file changes
    second = cli_process(root, cache, *argv)
    assert "Second wording" in second[1] and "First wording" not in second[1]

    _family(root, "Second wording", ["SOMETHING-ELSE"])  # the code list it reads changes
    third = cli_process(root, cache, *argv)
    assert "T-10" not in third[1]
    assert third == cli_process(root, "off", *argv)


def test_a_kept_ruleset_whose_units_are_gone_is_compiled_again(root: Path, tmp_path: Path) -> None:
    import shutil

    cache = tmp_path / "cache"
    child = _family(root, "Number refused", ["F2026-0120"])
    argv = ["evaluate", "--ruleset", str(child), "--explain", str(INVOICE)]
    first = cli_process(root, str(cache), *argv)
    assert list((cache / "kept").glob("*.pickle"))
    shutil.rmtree(cache / "units")
    assert cli_process(root, str(cache), *argv) == first


def test_a_units_explain_variant_is_kept_on_disk_too(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`aiguillage test` and `evaluate --explain` generated en16931's instrumented code on every
    run; a later process reads it from `units/` with the unit's own rule metadata."""
    monkeypatch.setenv(disk_cache.ENV_VAR, str(tmp_path / "cache"))
    customer = REPO / "rulesets" / "customers" / "distrilux" / "distrilux.rules"

    def explained() -> dict:
        compiled.clear_cache()  # a new process: nothing compiled in memory
        ruleset = Library(REPO / "rulesets").compiled(str(customer))
        decision = evaluate(read_invoice_file(str(INVOICE)), ruleset, explain=True)
        return decision.model_dump(mode="json", exclude={"timings"})

    try:
        cold = explained()
        assert cold["explain"]
        with monkeypatch.context() as patched:
            patched.setattr(compiler, "explain_functions", _refuse)
            patched.setattr(compiler._UnitCompiler, "build", _refuse)
            assert explained() == cold
    finally:
        compiled.clear_cache()
