"""Finding rulesets (by name, path, customer), extends/override/disable, includes, and the compile cache."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from test_engine_support import CODELISTS, invoice
from test_engine_support import program as load_text

from aiguillage.dsl.diagnostics import RulesError
from aiguillage.engine import compiled
from aiguillage.engine.compiled import STATS
from aiguillage.engine.compiler import compile_ruleset
from aiguillage.engine.evaluate import evaluate
from aiguillage.engine.loader import ENV_VAR, Library, library, rulesets_root

STANDARD = """ruleset "std" version 2.1
codelist ISO-4217
include "std-core.rules"
validate
  rule S-02 error "currency {currency_code} unknown"
    assert currency_code in codelist ISO-4217
  rule S-03 warning "no due date"
    assert due_date exists
"""
CORE = """validate
  rule S-01 fatal "invoice number missing"
    assert number exists
"""
CUSTOMER = """ruleset "acme" version 7
customer "ACME-1", "ACME-2"
extends "std"
validate
  rule A-01 error "buyer reference {buyer_reference} is not ACME's"
    assert buyer_reference starts with "ACME"
  override S-02 severity warning
  disable S-03
"""


@pytest.fixture()
def root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "standard" / "std").mkdir(parents=True)
    (tmp_path / "customers" / "acme").mkdir(parents=True)
    (tmp_path / "codelists").symlink_to(CODELISTS)
    (tmp_path / "standard" / "std" / "main.rules").write_text(STANDARD, encoding="utf-8")
    (tmp_path / "standard" / "std" / "std-core.rules").write_text(CORE, encoding="utf-8")
    (tmp_path / "customers" / "acme" / "acme.rules").write_text(CUSTOMER, encoding="utf-8")
    monkeypatch.setenv(ENV_VAR, str(tmp_path))
    compiled.clear_cache()
    return tmp_path


def test_root_from_environment_or_repository(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert rulesets_root() == root
    monkeypatch.delenv(ENV_VAR)
    assert rulesets_root().name in ("rulesets", "_rulesets")


def test_find_by_name_whatever_the_file_name(root: Path) -> None:
    lib = library()
    assert lib.find("std") == root / "standard" / "std" / "main.rules"
    assert lib.find_customer("ACME-2") == root / "customers" / "acme" / "acme.rules"
    with pytest.raises(LookupError, match='unknown ruleset "stdd"; did you mean "std"?'):
        lib.find("stdd")
    with pytest.raises(LookupError, match='no ruleset declares customer "NOPE"'):
        lib.find_customer("NOPE")


def test_extends_override_disable_and_provenance_of_findings(root: Path) -> None:
    compiled = library().compiled("acme")
    assert compiled.rulesets == [("std", "2.1"), ("acme", "7")]
    decision = evaluate(invoice(number=None, currency_code="EUX", due_date=None), compiled)
    assert [(f.rule, f.severity, f.ruleset, f.ruleset_version) for f in decision.findings] == [
        ("S-01", "fatal", "std", "2.1"),  # from the included file
        ("S-02", "warning", "std", "2.1"),  # overridden from error
        ("A-01", "error", "acme", "7"),  # S-03 is disabled
    ]
    assert [r.name for r in decision.rulesets] == ["std", "acme"]


def test_the_standard_unit_is_shared_not_recompiled_per_customer(root: Path) -> None:
    other = CUSTOMER.replace('"acme" version 7', '"beta" version 1').replace('"ACME-1", "ACME-2"', '"BETA-1"')
    (root / "customers" / "beta").mkdir()
    (root / "customers" / "beta" / "beta.rules").write_text(other.replace("disable S-03", ""), encoding="utf-8")
    before = STATS.unit_compilations
    acme = library().customer("ACME-1")
    beta = library().customer("BETA-1")
    assert STATS.unit_compilations - before == 3  # std once, acme, beta
    assert acme.units[0] is beta.units[0]
    assert acme.flags[0] != beta.flags[0]  # disables apply around the shared unit
    assert [f.rule for f in evaluate(invoice(due_date=None), beta).findings] == ["S-03", "A-01"]
    assert [f.rule for f in evaluate(invoice(due_date=None), acme).findings] == ["A-01"]


def test_loading_twice_reuses_and_a_change_on_disk_recompiles(root: Path) -> None:
    lib = Library(root)
    first = lib.compiled("acme")
    before = STATS.unit_compilations
    assert lib.compiled("acme") is first
    assert Library(root).compiled("acme") is first  # a fresh library finds the same content hash
    assert STATS.unit_compilations == before
    core = root / "standard" / "std" / "std-core.rules"
    core.write_text(CORE.replace("fatal", "error"), encoding="utf-8")
    stamp = time.time() + 5
    os.utime(core, (stamp, stamp))
    changed = lib.compiled("acme")
    assert changed is not first and changed.units[0].hash != first.units[0].hash
    assert STATS.unit_compilations == before + 2  # std and acme (its hash covers what it extends)


def test_load_by_path(root: Path) -> None:
    compiled = library().compiled(str(root / "customers" / "acme" / "acme.rules"))
    assert compiled.name == "acme"


def test_extends_errors(root: Path) -> None:
    bad = root / "customers" / "acme" / "bad.rules"
    bad.write_text('ruleset "bad"\nextends "nope"\n', encoding="utf-8")
    with pytest.raises(RulesError) as info:
        library().program(bad)
    assert info.value.diagnostics[0].render().splitlines()[0].endswith('bad.rules:2:1: unknown ruleset "nope" (known: acme, bad, std)')
    (root / "customers" / "acme" / "x.rules").write_text('ruleset "x"\nextends "y"\n', encoding="utf-8")
    (root / "customers" / "acme" / "y.rules").write_text('ruleset "y"\nextends "x"\n', encoding="utf-8")
    with pytest.raises(RulesError) as info:
        library().program("x")
    assert "has 1 error" in info.value.render() or "extends cycle" in info.value.render()


def test_override_and_disable_must_name_inherited_rules(root: Path) -> None:
    bad = root / "customers" / "acme" / "bad.rules"
    bad.write_text('ruleset "bad"\nextends "std"\nvalidate\n  override S-2 severity info\n  disable S-04\n  rule S-01 error "again"\n    assert true\n', encoding="utf-8")
    with pytest.raises(RulesError) as info:
        library().program(bad)
    heads = [d.render().splitlines()[0].split("bad.rules:")[1] for d in info.value.diagnostics]
    assert heads == [
        "4:3: cannot override unknown rule S-2; did you mean S-02?",
        "5:11: cannot disable unknown rule S-04; did you mean S-03?",
        "6:3: rule S-01 is already defined in ruleset std; use 'override' or 'disable' to change it",
    ]


def test_a_rule_defined_by_two_parents_is_an_error(root: Path) -> None:
    (root / "standard" / "two.rules").write_text('ruleset "two"\nvalidate\n  rule S-01 error "m"\n    assert true\n', encoding="utf-8")
    both = root / "customers" / "acme" / "both.rules"
    both.write_text('ruleset "both"\nextends "std", "two"\n', encoding="utf-8")
    with pytest.raises(RulesError, match="rule S-01 is defined both in std and in two"):
        library().program(both)


def test_diamond_extends_runs_each_ruleset_once(root: Path) -> None:
    (root / "standard" / "mid.rules").write_text('ruleset "mid"\nextends "std"\nvalidate\n  rule M-1 error "m"\n    assert false\n', encoding="utf-8")
    top = root / "customers" / "acme" / "top.rules"
    top.write_text('ruleset "top"\nextends "std", "mid"\n', encoding="utf-8")
    compiled = library().compiled(top)
    assert [u.name for u in compiled.units] == ["std", "mid", "top"]
    assert [f.rule for f in evaluate(invoice(), compiled).findings] == ["M-1"]


PARAM_STD = """ruleset "pstd" version 1
param strict = false
param label = "standard"
validate
  rule P-01 error "a buyer reference is needed ({label})"
    assert not strict or buyer_reference exists
"""


def test_a_param_set_again_by_an_extending_ruleset_is_what_the_inherited_rules_read(root: Path) -> None:
    (root / "standard" / "pstd.rules").write_text(PARAM_STD, encoding="utf-8")
    (root / "customers" / "acme" / "strict.rules").write_text('ruleset "strict"\nextends "pstd"\nparam strict = true\nparam label = "customer"\n', encoding="utf-8")
    (root / "customers" / "acme" / "below.rules").write_text('ruleset "below"\nextends "strict"\n', encoding="utf-8")
    lib = library()
    standard, strict, below = lib.compiled("pstd"), lib.compiled("strict"), lib.compiled("below")
    assert strict.units[0] is standard.units[0]  # the standard's rules are compiled once
    assert standard.params == {"strict": False, "label": "standard"}
    assert strict.params == below.params == {"strict": True, "label": "customer"}
    bare = invoice(buyer_reference=None)
    assert evaluate(bare, standard).findings == []
    assert [(f.rule, f.message) for f in evaluate(bare, strict).findings] == [("P-01", "a buyer reference is needed (customer)")]
    assert [f.rule for f in evaluate(bare, below).findings] == ["P-01"]


def test_a_param_is_a_literal_of_one_kind_and_a_new_name(root: Path) -> None:
    (root / "standard" / "pstd.rules").write_text(PARAM_STD, encoding="utf-8")
    bad = root / "customers" / "acme" / "bad.rules"
    bad.write_text('ruleset "bad"\nextends "pstd"\nlet other = 1\nparam strict = "yes"\nparam more = 1 + 2\nparam when = 2024-01-31\nparam other = 2\nparam number = 3\n', encoding="utf-8")
    with pytest.raises(RulesError) as info:
        library().program(bad)
    heads = [d.render().splitlines()[0].split("bad.rules:")[1] for d in info.value.diagnostics]
    assert heads == [
        "4:16: param strict is a condition (true or false), not a text",
        "5:14: a param's value is a number, a text, true or false, written as such",
        "6:14: a param's value is a number, a text, true or false, written as such",
        "7:1: 'other' is already defined by an earlier let",
        "8:1: 'number' is a field of the invoice; give the param another name",
    ]


def test_a_200_rule_ruleset_compiles_once(tmp_path: Path) -> None:
    rules = "\n".join(f'  rule R-{n:03d} error "m"\n    assert count(lines) > {n % 7}\n' for n in range(200))
    prog = load_text(tmp_path, f'ruleset "big"\nvalidate\n{rules}')
    before = STATS.unit_compilations
    first = compile_ruleset(prog)
    for _ in range(5):
        assert compile_ruleset(prog) is first
    again = compile_ruleset(load_text(tmp_path, f'ruleset "big"\nvalidate\n{rules}'))
    assert again is first
    assert STATS.unit_compilations == before + 1
    assert first.rule_count() == 200
    decision = evaluate(invoice(), first)
    assert len(decision.findings) == sum(1 for n in range(200) if not n % 7 < 3)  # count(lines) is 3
    before_explain = STATS.explain_compilations
    evaluate(invoice(), first, explain=True)
    evaluate(invoice(), first, explain=True)
    assert STATS.explain_compilations == before_explain + 1


def test_generated_code_names_come_only_from_the_catalogue(tmp_path: Path) -> None:
    """User texts reach generated code only through repr() or named constants, never as code."""
    text = 'ruleset "x"\nlet evil = "__import__(\'os\')"\nvalidate\n  rule A-1 error "m {evil}"\n    assert number != "\\"); import os; (\\"" and evil = evil\n'
    unit = compile_ruleset(load_text(tmp_path, text)).units[0]
    assert "import os" not in unit.source.replace("'\"); import os; (\"'", "")
    assert "evil" not in unit.source
    assert "__import__" not in unit.source.replace("\"__import__('os')\"", "")


def test_a_conditional_disable_applies_per_invoice_around_the_shared_unit(root: Path) -> None:
    text = CUSTOMER.replace("disable S-03", 'disable S-03, S-02 when currency_code = "USD"\n  disable S-01 when 1 / 0 = 1')
    (root / "customers" / "acme" / "acme.rules").write_text(text, encoding="utf-8")
    compiled = library().compiled("acme")
    assert compiled.flags[0] == (True, True, True)  # nothing is off for good
    usd = evaluate(invoice(number=None, currency_code="USD", due_date=None), compiled, explain=True)
    assert [(f.rule, f.severity) for f in usd.findings] == [
        ("S-01", "fatal"),  # its condition cannot be evaluated: it does not hold, S-01 runs
        ("engine-error:disable@acme.rules:9", "error"),
        ("A-01", "error"),
    ]
    assert not {"S-02", "S-03"} & {e.rule for e in usd.explain or []}  # not run, as with `disable`
    eur = evaluate(invoice(currency_code="EUX", due_date=None), compiled)
    assert [f.rule for f in eur.findings] == ["S-02", "S-03", "engine-error:disable@acme.rules:9", "A-01"]


def test_look_ups_by_name_and_customer_follow_files_added_edited_and_removed(root: Path) -> None:
    """The folder listing and headers are kept between look-ups; what changes on disk is seen at once."""
    lib = Library(root)
    assert lib.find("acme").name == "acme.rules"
    later = root / "customers" / "acme" / "later.rules"
    later.write_text('ruleset "later"\ncustomer "LATER-1"\n', encoding="utf-8")
    assert lib.find("later") == later and lib.find_customer("LATER-1") == later
    later.write_text('ruleset "renamed"\ncustomer "LATER-2"\n', encoding="utf-8")  # same folder, header edited
    assert lib.find("renamed") == later and lib.find_customer("LATER-2") == later
    with pytest.raises(LookupError, match='unknown ruleset "later"'):
        lib.find("later")
    (root / "customers" / "newco").mkdir()
    newco = root / "customers" / "newco" / "newco.rules"
    newco.write_text('ruleset "newco"\n', encoding="utf-8")  # in a folder created after the listing
    assert lib.find("newco") == newco
    later.unlink()
    with pytest.raises(LookupError):
        lib.find_customer("LATER-2")
    assert sorted(lib.index()) == ["acme", "newco", "std"]


def test_a_ruleset_looked_up_again_is_the_one_compiled_until_a_file_it_read_changes(root: Path) -> None:
    lib = Library(root)
    first = lib.compiled("acme")
    old = time.time() - 60  # settled: older than the file system's clock tick
    for path in root.rglob("*.rules"):
        os.utime(path, (old, old))
    first = lib.compiled("acme")
    assert lib.compiled("acme") is first and lib.customer("ACME-2") is first
    core = root / "standard" / "std" / "std-core.rules"
    core.write_text(CORE.replace("fatal", "error"), encoding="utf-8")
    assert lib.compiled("acme") is not first
