"""Start-up: the CLI imports only what the command uses; the on-disk cache is used, and survives damage."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import lark
import pytest

from aiguillage import cache as disk_cache
from aiguillage.cli.main import COMMANDS, build_parser
from aiguillage.dsl import parser as rules_parser
from aiguillage.engine import compiled
from aiguillage.engine.evaluate import evaluate
from aiguillage.engine.loader import Library
from aiguillage.model.syntaxes import read_invoice_file

REPO = Path(__file__).resolve().parents[1]
CUSTOMER = REPO / "rulesets" / "customers" / "distrilux" / "distrilux.rules"
INVOICE = REPO / "samples" / "atelier-lumiere-F2026-0120-distrilux.xml"
HEAVY = ("sqlalchemy", "flask", "alembic", "gunicorn", "psycopg", "durable_rules", "reportlab")


def _env(cache: Path | str) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(REPO), disk_cache.ENV_VAR: str(cache)}


def _loaded_after(argv: list[str], cache: Path) -> dict[str, object]:
    """Run the CLI in a fresh interpreter; which heavy modules it imported, and its exit status."""
    script = (
        "import sys, json\n"
        "from aiguillage.cli.main import main\n"
        f"try:\n    status = main({argv!r})\nexcept SystemExit as exc:\n    status = exc.code\n"
        f"print(json.dumps({{'status': status, 'heavy': sorted(m for m in {HEAVY!r} if m in sys.modules)}}))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=_env(cache), check=True, timeout=120)
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_help_imports_no_database_web_or_adapter_module(tmp_path: Path) -> None:
    seen = _loaded_after(["--help"], tmp_path)
    assert seen == {"status": 0, "heavy": []}


def test_check_and_evaluate_import_no_database_or_web_module(tmp_path: Path) -> None:
    assert _loaded_after(["check", "-q", str(CUSTOMER)], tmp_path) == {"status": 0, "heavy": []}
    seen = _loaded_after(["evaluate", "--ruleset", "en16931", "--format", "jsonl", str(INVOICE)], tmp_path)
    assert seen["heavy"] == []


def test_the_command_table_matches_what_each_module_registers() -> None:
    """The help listed without importing a module is the help that module registers itself."""
    parser = build_parser(full=True)
    sub = next(a for a in parser._actions if a.dest == "command")
    registered = {choice.dest: choice.help for choice in sub._choices_actions}
    assert registered == COMMANDS
    assert list(sub.choices) == list(COMMANDS)


def test_an_unknown_command_still_lists_the_commands(capsys: pytest.CaptureFixture[str]) -> None:
    from aiguillage.cli.main import main

    with pytest.raises(SystemExit):
        main(["evalute"])
    assert "invalid choice: 'evalute'" in capsys.readouterr().err


def _fresh_memory() -> None:
    """Forget what this process built, so the next load can only come from disk (or be rebuilt)."""
    rules_parser._lark.cache_clear()
    compiled.clear_cache()


def _findings(cache_dir: Path) -> list[tuple[str, str, str]]:
    _fresh_memory()
    compiled = Library(REPO / "rulesets").compiled(str(CUSTOMER))
    decision = evaluate(read_invoice_file(str(INVOICE)), compiled)
    return [(f.rule, f.severity, f.message) for f in decision.findings] + [(r.channel, r.format or "", r.to or "") for r in decision.routes]


@pytest.fixture()
def cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv(disk_cache.ENV_VAR, str(folder))
    yield folder
    _fresh_memory()


def _no_building_of_lark(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("the Lark parser was built although it is cached")

    monkeypatch.setattr(lark.Lark, "__init__", refuse)


def test_the_second_run_reads_the_kept_ruleset_and_its_units_from_the_cache(cache_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    before = disk_cache.STATS.writes
    cold = _findings(cache_dir)
    assert disk_cache.STATS.writes > before
    kinds = {p.parent.name for p in cache_dir.rglob("*.pickle")}
    assert kinds == {"lark", "rules", "code", "units", "kept"}
    stored = sorted(cache_dir.rglob("*.pickle"))

    hits, writes, misses = disk_cache.STATS.hits, disk_cache.STATS.writes, disk_cache.STATS.misses
    _no_building_of_lark(monkeypatch)
    warm = _findings(cache_dir)
    assert warm == cold
    # The ruleset's make-up and its compiled units come whole (metadata, constants, code): no file is
    # parsed or checked again, no generated source compiled again.
    assert disk_cache.STATS.hits - hits == len([p for p in stored if p.parent.name in ("kept", "units")])
    assert disk_cache.STATS.writes == writes and disk_cache.STATS.misses == misses
    assert rules_parser._lark.cache_info().currsize == 0  # no parser needed at all
    rules_parser._lark()  # and the parser itself loads from the cache (building it would fail here)


def test_a_second_load_reads_parsed_files_from_the_cache(cache_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """What `check` and a changed ruleset do: the files of what it extends come parsed from the disk."""
    _findings(cache_dir)
    _fresh_memory()
    _no_building_of_lark(monkeypatch)
    hits = disk_cache.STATS.hits
    Library(REPO / "rulesets").program(str(CUSTOMER))
    assert disk_cache.STATS.hits - hits == len(list((cache_dir / "rules").glob("*.pickle")))
    assert rules_parser._lark.cache_info().currsize == 0


def test_a_damaged_or_truncated_entry_is_ignored_and_rebuilt(cache_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cold = _findings(cache_dir)
    entries = sorted(cache_dir.rglob("*.pickle"))
    for i, path in enumerate(entries):
        data = path.read_bytes()
        if i % 3 == 0:
            path.write_bytes(data[: len(data) // 2])  # truncated
        elif i % 3 == 1:
            middle = len(data) // 2
            path.write_bytes(data[:middle] + bytes([data[middle] ^ 0xFF]) + data[middle + 1 :])  # one byte flipped
        else:
            path.write_bytes(b"not a cache entry at all")
    damaged = disk_cache.STATS.damaged
    rules_parser._lark.cache_clear()
    assert _findings(cache_dir) == cold
    rules_parser._lark()
    assert disk_cache.STATS.damaged - damaged == len(entries)

    # Rebuilt entries were written back whole: the next run trusts all of them.
    damaged = disk_cache.STATS.damaged
    _no_building_of_lark(monkeypatch)
    assert _findings(cache_dir) == cold
    rules_parser._lark()
    assert disk_cache.STATS.damaged == damaged


def test_an_unusable_cache_folder_costs_speed_not_correctness(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("the cache folder cannot be created under a file", encoding="utf-8")
    monkeypatch.setenv(disk_cache.ENV_VAR, str(blocker / "cache"))
    reference = _findings(tmp_path)
    monkeypatch.setenv(disk_cache.ENV_VAR, "off")
    assert disk_cache.cache_dir() is None
    assert _findings(tmp_path) == reference
    _fresh_memory()


def test_concurrent_cold_runs_agree_and_leave_whole_entries(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cache = tmp_path / "cache"
    argv = [sys.executable, "-m", "aiguillage", "evaluate", "--ruleset", str(CUSTOMER), "--format", "jsonl", str(INVOICE)]
    runs = [subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_env(cache)) for _ in range(3)]
    outputs = [run.communicate(timeout=180) for run in runs]
    assert [run.returncode for run in runs] == [0, 0, 0], [err for _, err in outputs]
    decisions = [{k: v for k, v in json.loads(out).items() if k != "timings"} for out, _ in outputs]
    assert decisions[0]["routes"] and all(d == decisions[0] for d in decisions)
    assert not list(cache.rglob("*.tmp"))
    monkeypatch.setenv(disk_cache.ENV_VAR, str(cache))
    before = disk_cache.STATS.damaged
    assert {p.parent.name for p in cache.rglob("*.pickle")} == {"lark", "rules", "code", "units", "kept"}
    for path in cache.rglob("*.pickle"):
        assert disk_cache.load(path.parent.name, path.stem) is not None
    assert disk_cache.STATS.damaged == before


def test_each_kind_keeps_the_most_recently_used_entries(cache_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(disk_cache, "MAX_ENTRIES", 3)
    monkeypatch.setattr(disk_cache, "LOW_WATER_SHARE", 1.0)
    for number in range(3):
        disk_cache.store("rules", f"entry{number}", number)
        os.utime(cache_dir / "rules" / f"entry{number}.pickle", (1000 + number, 1000 + number))
    assert disk_cache.load("rules", "entry0") == 0  # used: now the most recent
    disk_cache.store("rules", "entry3", 3)
    assert sorted(p.stem for p in (cache_dir / "rules").glob("*.pickle")) == ["entry0", "entry2", "entry3"]
    assert disk_cache.load("rules", "entry1") is None


def test_a_kind_past_its_limit_is_trimmed_in_batches_not_listed_per_write(
    cache_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Listing and stating the folder is the costly part: done once per batch of writes."""
    monkeypatch.setattr(disk_cache, "MAX_ENTRIES", 10)
    monkeypatch.setattr(disk_cache, "LOW_WATER_SHARE", 0.5)
    listed: list[str] = []
    real_scandir = os.scandir

    def counting_scandir(path: Any) -> Any:
        listed.append(str(path))
        return real_scandir(path)

    monkeypatch.setattr(disk_cache.os, "scandir", counting_scandir)  # os.listdir below is not counted
    folder = cache_dir / "rules"
    for number in range(10):
        disk_cache.store("rules", f"entry{number:02d}", number)
        os.utime(folder / f"entry{number:02d}.pickle", (1000 + number, 1000 + number))
    assert len(listed) == 1  # the first write lists the folder; the next nine are counted
    disk_cache.store("rules", "entry10", 10)  # the eleventh passes the limit: listed, trimmed to 5
    assert len(listed) == 2
    assert sorted(os.listdir(folder)) == [f"entry{n:02d}.pickle" for n in range(6, 11)]
    for number in range(11, 16):  # room for five more before the next listing
        disk_cache.store("rules", f"entry{number:02d}", number)
    assert len(listed) == 2 and len(os.listdir(folder)) == 10
    disk_cache.store("rules", "entry16", 16)
    assert len(listed) == 3 and len(os.listdir(folder)) == 5
