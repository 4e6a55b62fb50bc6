"""`table NAME key COL` (no `from`): the tenant's reference table, in the parser, formatter, checker and stored cache."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest

from aiguillage.cli.main import main
from aiguillage.dsl import ast
from aiguillage.dsl.diagnostics import RulesError
from aiguillage.dsl.formatter import format_text
from aiguillage.dsl.parser import parse_text
from aiguillage.dsl.program import load_program
from aiguillage.dsl.refdata import ReferenceData
from aiguillage.engine.stored import StoredRulesets
from aiguillage.store.hashing import sha256_hex

TEXT = '''ruleset "acme"

table limits key currency
  shape
    currency code required
    max_total amount required
table notes key code

validate
  rule LIM-01 error "over {limits[currency_code].max_total}"
    when limits[currency_code] exists
    assert totals.amount_with_vat <= limits[currency_code].max_total

route
  otherwise -> print
'''


def test_the_declaration_parses_without_a_file():
    rules_file = parse_text(TEXT)
    limits, notes = [i for i in rules_file.items if isinstance(i, ast.TableDecl)]
    assert (limits.name, limits.source, limits.key) == ("limits", None, "currency")
    assert [(c.name, c.type_name, c.required) for c in limits.columns or []] == [
        ("currency", "code", True), ("max_total", "amount", True)]
    assert (notes.name, notes.source, notes.key, notes.columns) == ("notes", None, "code", None)


def test_the_formatter_round_trips_it():
    messy = TEXT.replace("table limits key currency\n  shape", "table   limits   key currency\n       shape")
    formatted = format_text(messy)
    assert formatted == format_text(formatted)
    assert "table limits key currency\n  shape\n    currency code required\n" in formatted
    assert "table notes key code\n" in formatted
    assert 'table t from "t.csv" key k' in format_text(TEXT.replace("table notes key code", 'table t from "t.csv" key k'))


def test_checking_a_file_says_where_the_rows_come_from(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    path = tmp_path / "acme.rules"
    path.write_text(TEXT, encoding="utf-8")
    with pytest.raises(RulesError) as caught:
        load_program(path)
    assert "reference table limits, read from the service's database (/v1/tables)" in str(caught.value)
    assert main(["check", str(path)]) == 1
    err = capsys.readouterr().err
    assert f"{path}:3:1: table limits has no `from \"file\"`" in err


class FakeReferences:
    """A tenant's tables in memory, counting how often rows are read."""

    def __init__(self, scope: str, rows: dict[str, dict[str, str | None]]) -> None:
        self.scope = scope
        self.revision = 1
        self.limits = rows
        self.reads = 0

    def versions(self, names: Sequence[str]) -> dict[str, str | None]:
        return {name: f"{self.scope}-{name}:{self.revision}" for name in names}

    def reference(self, name: str) -> ReferenceData | None:
        self.reads += 1
        columns = ["currency", "max_total"] if name == "limits" else ["code"]
        rows = list(self.limits.values()) if name == "limits" else []
        return ReferenceData(name, columns[0], columns, rows, f"{self.scope}-{name}:{self.revision}")


def _max_total(compiled: object) -> object:
    """The limit compiled in, read back from the table the checker loaded."""
    program = compiled.units[-1].program  # type: ignore[attr-defined]
    return program.decls.tables["limits"].data.rows["NOK"]["max_total"]


def test_the_cache_key_follows_the_tenant_and_the_table_version():
    stored = StoredRulesets()
    key = sha256_hex(TEXT)
    mine = FakeReferences("tenant-a", {"NOK": {"currency": "NOK", "max_total": "10"}})
    first = stored.compiled("acme", TEXT, key, mine)
    assert stored.compiled("acme", TEXT, key, mine) is first and stored.compilations == 1
    assert str(_max_total(first)) == "10"

    mine.revision, mine.limits = 2, {"NOK": {"currency": "NOK", "max_total": "20"}}
    second = stored.compiled("acme", TEXT, key, mine)
    assert second is not first and str(_max_total(second)) == "20" and stored.compilations == 2

    theirs = FakeReferences("tenant-b", {"NOK": {"currency": "NOK", "max_total": "99"}})
    other = stored.compiled("acme", TEXT, key, theirs)
    assert str(_max_total(other)) == "99" and str(_max_total(stored.compiled("acme", TEXT, key, mine))) == "20"


def test_a_stored_text_with_reference_tables_needs_them():
    stored = StoredRulesets()
    result = stored.check("acme", TEXT)
    assert not result.ok and "read from the service's database" in result.diagnostics[0].message
    with pytest.raises(RulesError):
        stored.compiled("acme", TEXT, sha256_hex(TEXT))


def test_a_text_reading_reference_tables_is_never_kept_on_disk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Its rows are the tenant's, compiled in: the disk keeps nothing of them, and a restarted
    server compiles it again with the tables as they are then."""
    from aiguillage import cache as disk_cache
    from aiguillage.engine import compiled

    monkeypatch.setenv(disk_cache.ENV_VAR, str(tmp_path / "cache"))
    mine = FakeReferences("tenant-a", {"NOK": {"currency": "NOK", "max_total": "10"}})
    first = StoredRulesets().compiled("acme", TEXT, sha256_hex(TEXT), mine)
    assert str(_max_total(first)) == "10"
    assert not list((tmp_path / "cache").glob("kept/*.pickle"))
    compiled.clear_cache()
    restarted = StoredRulesets()
    again = restarted.compiled("acme", TEXT, sha256_hex(TEXT), mine)
    assert restarted.kept_rebuilds == 0 and str(_max_total(again)) == "10"
