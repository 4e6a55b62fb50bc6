"""Stored ruleset texts: checked with positions, compiled once per content hash, standard units shared."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from aiguillage.engine.compiled import STATS
from aiguillage.engine.loader import Library, rulesets_root
from aiguillage.engine.stored import StoredRulesets
from aiguillage.store.hashing import sha256_hex

TEXT = 'ruleset "acme"\nextends "en16931"\n\nroute\n  otherwise -> peppol\n'


def test_a_text_checks_and_compiles_once_per_hash():
    stored = StoredRulesets()
    assert stored.check("acme", TEXT).ok
    first = stored.compiled("acme", TEXT, sha256_hex(TEXT))
    calls = []
    again = stored.compiled("acme", lambda: calls.append(1) or TEXT, sha256_hex(TEXT))
    assert again is first and calls == [] and stored.compilations == 1
    assert [u.name for u in first.units] == ["en16931", "acme"]


def test_customer_rulesets_share_the_compiled_standard_units():
    stored = StoredRulesets()
    texts = [TEXT.replace('"acme"', f'"c{i}"') for i in range(3)]
    compiled = [stored.compiled(f"c{i}", text, sha256_hex(text)) for i, text in enumerate(texts)]
    assert len({id(c) for c in compiled}) == 3
    assert len({id(c.units[0]) for c in compiled}) == 1  # one en16931 unit for all
    before = STATS.unit_compilations
    text = TEXT.replace('"acme"', '"c9"')
    stored.compiled("c9", text, sha256_hex(text))
    assert STATS.unit_compilations == before + 1  # only the customer's own unit


def test_diagnostics_name_the_stored_ruleset_with_line_and_column():
    result = StoredRulesets().check("acme", TEXT.replace("otherwise", "otherwize"))
    assert not result.ok and result.program is None
    [diagnostic] = result.diagnostics
    assert (diagnostic.file, diagnostic.line, diagnostic.column) == ("acme.rules", 5, 3)


def test_the_header_must_name_the_stored_ruleset():
    result = StoredRulesets().check("other", TEXT)
    assert not result.ok and 'write ruleset "other"' in result.diagnostics[0].message
    assert result.diagnostics[0].line == 1


@pytest.mark.parametrize("line", [
    'include "../../etc/passwd"',
    'table t from "../../etc/passwd" key a',
    'codelist X from "../../etc/passwd"',
])
def test_files_of_the_server_are_never_read_from_stored_text(line):
    result = StoredRulesets().check("acme", TEXT.replace("\nroute", f"\n{line}\n\nroute"))
    assert not result.ok
    assert all("root:" not in d.render() for d in result.diagnostics)
    assert result.diagnostics[0].file == "acme.rules" and result.diagnostics[0].line == 4


def test_extends_takes_names_not_paths():
    result = StoredRulesets().check("acme", TEXT.replace('"en16931"', '"/etc/passwd.rules"'))
    assert not result.ok and "name a ruleset" in result.diagnostics[0].message


def test_the_least_recently_used_are_dropped_beyond_capacity():
    stored = StoredRulesets(capacity=2)

    def use(i: int) -> int:
        """Ask for ruleset r{i}; how many compilations that took (0: it was cached)."""
        before = stored.compilations
        text = f'ruleset "r{i}"\nroute\n  otherwise -> print\n'
        stored.compiled(f"r{i}", text, sha256_hex(text))
        return stored.compilations - before

    assert [use(i) for i in range(3)] == [1, 1, 1]
    assert len(stored) == 2
    assert use(1) == 0  # r1 is now the most recently used, r2 the least
    assert use(0) == 1  # r0 was dropped; compiling it again drops r2, not r1
    assert use(1) == 0
    assert use(2) == 1
    assert len(stored) == 2


def test_a_changed_standard_ruleset_on_disk_empties_the_cache(tmp_path: Path):
    shutil.copytree(rulesets_root() / "standard", tmp_path / "standard")
    shutil.copytree(rulesets_root() / "codelists", tmp_path / "codelists")
    (tmp_path / "customers").mkdir()
    stored = StoredRulesets(Library(tmp_path), recheck_seconds=0)
    first = stored.compiled("acme", TEXT, sha256_hex(TEXT))
    assert stored.compiled("acme", TEXT, sha256_hex(TEXT)) is first
    main = tmp_path / "standard" / "en16931.rules"
    main.write_text(main.read_text() + "\n# changed\n")
    assert stored.compiled("acme", TEXT, sha256_hex(TEXT)) is not first


def test_a_stored_text_is_parsed_once_and_leaves_no_parsed_file_in_the_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    """A cold customer ruleset used to be parsed three times (its tables, its file reads, the load
    itself, from a temporary file whose random path keyed a cache entry no one would read again)."""
    from aiguillage import cache as disk_cache
    from aiguillage.dsl import parser
    from aiguillage.engine import stored as stored_module

    monkeypatch.setenv(disk_cache.ENV_VAR, str(tmp_path / "cache"))
    parsed: list[str] = []
    real = parser.parse_text

    def counting(text: str, path: str = "<rules>"):
        parsed.append(path)
        return real(text, path)

    monkeypatch.setattr(stored_module, "parse_text", counting)
    text = TEXT.replace('"acme"', '"once"')
    compiled = StoredRulesets().compiled("once", text, sha256_hex(text))
    assert [u.name for u in compiled.units] == ["en16931", "once"]
    assert parsed == ["once.rules"]
    kept = [disk_cache.load("rules", entry.stem) for entry in (tmp_path / "cache").glob("rules/*.pickle")]
    assert all(not f.src.path.endswith("once.rules") for f in kept)  # only the standard rulesets' files, if any


KEPT_TEXT = '''ruleset "kept"
extends "en16931"
codelist T-NUMBERS

validate
  rule K-01 error
    message en "Number {number} is refused"
    assert number not in codelist T-NUMBERS

route
  otherwise -> peppol
'''


def _folder(tmp_path: Path, numbers: list[str]) -> Path:
    """A rulesets folder of one's own (standard rulesets and code lists copied), with code list T-NUMBERS."""
    import json

    root = tmp_path / "rulesets"
    if not root.exists():
        shutil.copytree(rulesets_root() / "standard", root / "standard")
        shutil.copytree(rulesets_root() / "codelists", root / "codelists")
        (root / "customers").mkdir()
    (root / "codelists" / "T-NUMBERS.json").write_text(json.dumps({"name": "T-NUMBERS", "values": numbers}))
    return root


def _restarted(root: Path) -> StoredRulesets:
    """What a new server process has: no compiled ruleset in memory, the disk cache as it was."""
    from aiguillage.engine import compiled

    compiled.clear_cache()
    return StoredRulesets(Library(root))


def _decision(ruleset, explain: bool = False) -> dict:
    from aiguillage.engine.evaluate import evaluate
    from aiguillage.model.syntaxes import read_invoice_file

    invoice = read_invoice_file(Path(__file__).resolve().parents[1] / "samples" / "atelier-lumiere-F2026-0120-distrilux.xml")
    decision = evaluate(invoice, ruleset, explain=explain).model_dump(mode="json")
    decision.pop("timings")
    return decision


def test_a_restarted_server_rebuilds_a_stored_ruleset_from_the_disk_without_parsing_or_compiling(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    from aiguillage import cache as disk_cache
    from aiguillage.engine import stored as stored_module

    monkeypatch.setenv(disk_cache.ENV_VAR, str(tmp_path / "cache"))
    root = _folder(tmp_path, ["F2026-0120"])
    first = _restarted(root)
    cold = first.compiled("kept", KEPT_TEXT, sha256_hex(KEPT_TEXT))
    assert first.kept_rebuilds == 0
    assert callable(cold.units[-1].origin)  # its checked program is not held, only loadable again
    expected, explained = _decision(cold), _decision(cold, explain=True)
    assert [f["rule"] for f in expected["findings"]] == ["K-01"]

    def refuse(*args, **kwargs):
        raise AssertionError("parsed or compiled again")

    with monkeypatch.context() as patched:
        patched.setattr(stored_module, "parse_text", refuse)
        patched.setattr(stored_module, "compile_ruleset", refuse)
        second = _restarted(root)
        warm = second.compiled("kept", lambda: refuse(), sha256_hex(KEPT_TEXT))  # nor read from the store
        assert (second.kept_rebuilds, second.compilations) == (1, 1)
        assert warm is not cold and _decision(warm) == expected
        assert second.compiled("kept", KEPT_TEXT, sha256_hex(KEPT_TEXT)) is warm
    assert _decision(warm, explain=True) == explained  # the text's own program, loaded from the kept text


def test_a_kept_stored_ruleset_is_compiled_again_when_what_it_extends_or_reads_changes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    from aiguillage import cache as disk_cache

    monkeypatch.setenv(disk_cache.ENV_VAR, str(tmp_path / "cache"))
    root = _folder(tmp_path, ["F2026-0120"])
    _restarted(root).compiled("kept", KEPT_TEXT, sha256_hex(KEPT_TEXT))

    main = root / "standard" / "en16931.rules"
    main.write_text(main.read_text() + "\n# changed\n")  # what it extends changes
    again = _restarted(root)
    again.compiled("kept", KEPT_TEXT, sha256_hex(KEPT_TEXT))
    assert again.kept_rebuilds == 0
    kept_again = _restarted(root)  # what that compile kept is used by the next start
    kept_again.compiled("kept", KEPT_TEXT, sha256_hex(KEPT_TEXT))
    assert kept_again.kept_rebuilds == 1

    _folder(tmp_path, ["SOMETHING-ELSE"])  # the code list it reads by name changes
    changed = _restarted(root)
    ruleset = changed.compiled("kept", KEPT_TEXT, sha256_hex(KEPT_TEXT))
    assert changed.kept_rebuilds == 0 and _decision(ruleset)["findings"] == []

