"""`aiguillage demo`: the README's first command runs the main job locally and says what happened."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from aiguillage.cli.main import main
from aiguillage.demo import DemoCustomer, demo_ruleset_text, discover, samples_root
from aiguillage.engine.loader import rulesets_root

SAMPLES = sorted(p.name for p in samples_root().iterdir() if p.suffix in {".xml", ".json", ".pdf"})


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, subprocess.CompletedProcess[str]]:
    """One run of the command, as a user types it, in a fresh folder."""
    folder = tmp_path_factory.mktemp("demo") / "run"
    result = subprocess.run([sys.executable, "-m", "aiguillage", "demo", "--dir", str(folder)],
                            capture_output=True, text=True, timeout=300)
    return folder, result


def test_demo_exits_0_and_names_every_sample(demo_run: tuple[Path, subprocess.CompletedProcess[str]]) -> None:
    _folder, result = demo_run
    assert result.returncode == 0, result.stderr
    for name in SAMPLES:
        assert name in result.stdout
    last = result.stdout.strip().splitlines()[-1]
    customers = len(discover(rulesets_root(), samples_root()))
    assert last.startswith(f"TOTAL: {len(SAMPLES)} invoice(s) for {customers} customer(s)")


def test_demo_delivers_into_local_folders(demo_run: tuple[Path, subprocess.CompletedProcess[str]]) -> None:
    folder, result = demo_run
    assert result.returncode == 0, result.stderr
    for channel in ("edi", "print", "portal", "peppol"):
        files = [p for p in (folder / channel).rglob("*") if p.is_file() and ".staging" not in p.parts]
        assert files, f"nothing delivered into {channel}/"
    assert list((folder / "edi").glob("INVOIC_*.edi"))
    assert list((folder / "print").glob("batch-*/*.pdf"))
    assert list((folder / "portal").glob("*/*/publication.json"))


def test_demo_database_holds_the_invoices(demo_run: tuple[Path, subprocess.CompletedProcess[str]]) -> None:
    folder, result = demo_run
    assert result.returncode == 0, result.stderr
    with sqlite3.connect(folder / "aiguillage.db") as db:
        numbers = {row[0] for row in db.execute("SELECT number FROM invoices")}
        statuses = {row[0] for row in db.execute("SELECT status FROM invoices")}
    assert len(numbers) == len(SAMPLES)
    assert statuses <= {"delivered", "sent", "held", "rejected"}
    assert "pending" not in result.stdout


def test_demo_keep_runs_again_on_the_same_database(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "demo"
    assert main(["demo", "--dir", str(folder)]) == 0
    capsys.readouterr()
    assert main(["demo", "--dir", str(folder), "--keep"]) == 0
    out = capsys.readouterr().out
    assert out.count("(duplicate of an earlier run)") == len(SAMPLES)
    with sqlite3.connect(folder / "aiguillage.db") as db:
        assert db.execute("SELECT count(*) FROM invoices").fetchone()[0] == len(SAMPLES)


def test_demo_refuses_to_delete_a_folder_it_did_not_make(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "precious.txt").write_text("keep me")
    assert main(["demo", "--dir", str(tmp_path)]) == 1
    assert "not made by the demo" in capsys.readouterr().err
    assert (tmp_path / "precious.txt").exists()


def test_every_sample_belongs_to_a_customer_ruleset() -> None:
    customers = discover(rulesets_root(), samples_root())
    assert len(customers) == 7
    assert sorted(p.name for c in customers for p in c.samples) == SAMPLES


def test_demo_ruleset_extends_and_swaps_only_unreachable_channels() -> None:
    root = rulesets_root() / "customers"
    dufresne = DemoCustomer("maison-dufresne", "DUFRESNE-FR-001", root / "maison-dufresne" / "dufresne.rules")
    text = demo_ruleset_text(dufresne)
    assert 'extends "maison-dufresne"' in text
    assert "email" not in text and "portal as pdf" in text
    assert 'approval by "dufresne-account-manager", then portal as pdf' in text
    distrilux = DemoCustomer("distrilux", "X", root / "distrilux" / "distrilux.rules")
    assert "route" not in demo_ruleset_text(distrilux)


def test_the_french_customer_goes_through_a_loopback_pa_and_its_statuses_show(
        demo_run: tuple[Path, subprocess.CompletedProcess[str]]) -> None:
    _folder, result = demo_run
    block = result.stdout.split("atelier-lumiere-F2026-0150-lumen-pa.xml", 1)[1].split("\n\n", 1)[0]
    assert "routes:   pa as cii" in block and "loopback approved platform, flow" in block
    assert "lifecycle: 200 Déposée, 202 Reçue par la plateforme, 203 Mise à disposition, 204 Prise en charge, " \
           "205 Approuvée" in block
