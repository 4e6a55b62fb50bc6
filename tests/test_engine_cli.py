"""The CLI: `check`, `fmt` and `evaluate`, as a user runs them."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from test_engine_support import REPO

from aiguillage.cli.main import main
from aiguillage.engine.loader import ENV_VAR

SAMPLE = REPO / "samples" / "atelier-lumiere-F2026-0042.json"
DEMO = REPO / "rulesets" / "customers" / "demo-acme" / "acme.rules"


@pytest.fixture()
def root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    shutil.copytree(REPO / "rulesets" / "customers" / "demo-acme", tmp_path / "customers" / "demo-acme")
    (tmp_path / "standard").mkdir()
    (tmp_path / "codelists").symlink_to(REPO / "rulesets" / "codelists")
    monkeypatch.setenv(ENV_VAR, str(tmp_path))
    return tmp_path


def test_check_ok(root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", str(root / "customers")]) == 0
    out = capsys.readouterr().out
    assert "acme.rules: ok (ruleset demo-acme 1, 8 rules)" in out
    assert "1 ruleset checked, 0 errors" in out


def test_check_errors_exit_1_with_positions(root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = root / "customers" / "bad.rules"
    bad.write_text('ruleset "bad"\nvalidate\n  rule B-1 error "m"\n    assert seller.nme exists\n', encoding="utf-8")
    assert main(["check", str(bad)]) == 1
    err = capsys.readouterr().err
    assert f"{bad}:4:12: seller has no field 'nme'; did you mean seller.name?" in err
    assert "        assert seller.nme exists\n               ^~~~~~~~~~" in err
    assert "1 ruleset checked, 1 error" in err


def test_check_a_fragment_checks_the_rulesets_including_it(root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (root / "standard" / "main.rules").write_text('ruleset "m"\ninclude "part.rules"\n', encoding="utf-8")
    (root / "standard" / "part.rules").write_text('validate\n  rule P-1 error "m"\n    assert number exists\n', encoding="utf-8")
    assert main(["check", str(root / "standard" / "part.rules")]) == 0
    assert "main.rules: ok (ruleset m 0, 1 rule)" in capsys.readouterr().out


def test_fmt_check_and_write(root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = root / "customers" / "messy.rules"
    path.write_text('ruleset "m"\nvalidate\n  rule M-1 error "m"   # keep me\n      assert number   exists\n', encoding="utf-8")
    assert main(["fmt", "--check", str(root / "customers")]) == 1
    assert f"{path}: not formatted" in capsys.readouterr().out
    assert main(["fmt", str(path)]) == 0
    assert path.read_text(encoding="utf-8") == 'ruleset "m"\n\nvalidate\n\n  rule M-1 error "m"  # keep me\n    assert number exists\n'
    assert main(["fmt", "--check", str(root / "customers")]) == 0


def test_fmt_reports_syntax_errors(root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = root / "customers" / "broken.rules"
    path.write_text('ruleset "m"\nvalidate\n  rule\n', encoding="utf-8")
    assert main(["fmt", str(path)]) == 1
    assert f"{path}:3:7: unexpected end of file; expected a rule id (e.g. BR-01)" in capsys.readouterr().err


def test_evaluate_text(root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["evaluate", str(SAMPLE), "--customer", "ACME-FR-001", "--today", "2026-11-27"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"{SAMPLE}: 1 finding → peppol")
    assert "warning ACME-06" in out and "route: peppol  (acme.rules:" in out


def test_evaluate_jsonl_keeps_input_order_and_reports_unreadable_files(root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = json.loads(SAMPLE.read_text(encoding="utf-8"))
    data["order_reference"] = None
    data["buyer_reference"] = "ACME-ACHATS-13"
    second = tmp_path / "second.json"
    second.write_text(json.dumps({k: v for k, v in data.items() if v is not None}), encoding="utf-8")
    status = main(["evaluate", str(SAMPLE), "missing.json", str(second), "--ruleset", "demo-acme", "--format", "jsonl", "--lang", "fr", "--today", "2026-11-27"])
    assert status == 1  # one input could not be read
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [line["file"] for line in lines] == [str(SAMPLE), "missing.json", str(second)]
    assert "error" in lines[1]
    assert lines[2]["enrichments"][0] == {"rule": "PO number from the order book", "field": "order_reference", "old": None, "new": "PO-204777", "ruleset": "demo-acme"}
    assert lines[0]["findings"][0]["message"].startswith("La clé du SIRET")


def test_evaluate_json_and_explain(root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["evaluate", str(SAMPLE), "--ruleset", str(root / "customers" / "demo-acme" / "acme.rules"), "--format", "json", "--explain"]) == 0
    decision = json.loads(capsys.readouterr().out)
    assert decision["file"] == str(SAMPLE)
    assert {e["rule"] for e in decision["explain"]} >= {"ACME-01", "ACME-06"}
    assert main(["evaluate", str(SAMPLE), "--ruleset", "demo-acme", "--explain"]) == 0
    assert "ACME-06 (demo-acme): fired" in capsys.readouterr().out


def test_evaluate_unknown_ruleset(root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["evaluate", str(SAMPLE), "--ruleset", "demo-acm"]) == 1
    assert 'unknown ruleset "demo-acm"; did you mean "demo-acme"?' in capsys.readouterr().err


def test_evaluate_official_ubl_and_cii_examples(root: Path, conformance: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ubl = conformance / "en16931" / "ubl-examples" / "ubl-tc434-example1.xml"
    cii = conformance / "en16931" / "cii-examples" / "CII_example1.xml"
    assert main(["evaluate", str(ubl), str(cii), "--ruleset", "demo-acme", "--format", "jsonl"]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [line["file"] for line in lines] == [str(ubl), str(cii)]
    assert all("findings" in line and line["rulesets"] == [{"name": "demo-acme", "version": "1"}] for line in lines)
