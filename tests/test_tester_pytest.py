"""The pytest plugin: ruleset cases are pytest items named after them; a failure shows the diff.

Run in a subprocess, as CI runs pytest: the plugin is enabled by the repository's pytest
options (`-p aiguillage.testing.pytest_plugin`, `rulesets` among the test paths).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
TINY = Path(__file__).parent / "tester_data" / "tiny"


def pytest_run(*args: str, cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *args], cwd=cwd, capture_output=True, text=True, timeout=300)


def test_cases_are_collected_by_name() -> None:
    done = pytest_run("--collect-only", "-q", "rulesets/customers")
    assert done.returncode == 0, done.stdout + done.stderr
    items = set(done.stdout.splitlines())
    assert "rulesets/customers/maison-dufresne/tests/orders.yaml::PO looked up from the order book" in items
    assert "rulesets/customers/distrilux/tests/edi.yaml::201 lines is one too many for the EDI translator" in items
    assert "rulesets/customers/ville-de-liege/tests/routing.yaml::Without a buyer reference the invoice is held" in items
    assert "rulesets/customers/paper-small-business/tests/paper.yaml::Faxed when the customer's fax number is known" in items


def test_a_failing_case_shows_the_diff(tmp_path: Path) -> None:
    home = tmp_path / "tiny"
    shutil.copytree(TINY, home)
    (home / "tests" / "broken.yaml").write_text("- name: wrong reference\n  base: ../invoice.json\n  expect:\n    enriched: {buyer_reference: PO-9}\n", encoding="utf-8")
    done = pytest_run("-p", "aiguillage.testing.pytest_plugin", "-q", str(home), cwd=tmp_path)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "tiny/tests/broken.yaml::wrong reference" in done.stdout
    assert "  enriched buyer_reference\n    - expected: PO-9\n    + actual:   PO-1" in done.stdout
    assert "1 failed, 3 passed" in done.stdout


def test_an_unreadable_case_file_is_a_collection_error(tmp_path: Path) -> None:
    home = tmp_path / "tiny"
    shutil.copytree(TINY, home)
    (home / "tests" / "typo.yaml").write_text("- name: x\n  base: ../invoice.json\n  expct: {valid: true}\n", encoding="utf-8")
    done = pytest_run("-p", "aiguillage.testing.pytest_plugin", "-q", str(home), cwd=tmp_path)
    assert done.returncode != 0
    assert "a case has no key 'expct'; did you mean expect?" in done.stdout
