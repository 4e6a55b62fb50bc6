"""Shared fixtures: where the official conformance data is.

The data is read from `AIGUILLAGE_CONFORMANCE` or `../shared/conformance`
beside the checkout. When it is missing the tests that need it fail loudly;
they never skip.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[1]


def conformance_dir() -> Path:
    """The conformance folder, or a failure that says how to provide it."""
    configured = os.environ.get("AIGUILLAGE_CONFORMANCE")
    path = Path(configured) if configured else REPO.parent / "shared" / "conformance"
    if not (path / "en16931").is_dir():
        pytest.fail(
            f"conformance data not found at {path}: put the official test sets there "
            "or set AIGUILLAGE_CONFORMANCE to their folder",
            pytrace=False,
        )
    return path


def _files(*parts: str, pattern: str = "*") -> list[Path]:
    configured = os.environ.get("AIGUILLAGE_CONFORMANCE")
    base = Path(configured) if configured else REPO.parent / "shared" / "conformance"
    return sorted(base.joinpath(*parts).glob(pattern))


def example_files() -> list[Path]:
    """Every complete example invoice (UBL, CII and Peppol), for parametrising."""
    return (
        _files("en16931", "ubl-examples")
        + _files("en16931", "cii-examples")
        + _files("peppol", "examples")
    )


def unit_test_files() -> list[Path]:
    """Every unit test-set file (EN 16931 UBL and Peppol UBL)."""
    return _files("en16931", "ubl-unit-invoice", pattern="*.xml") + _files("peppol", "ubl-unit", pattern="*.xml")


@pytest.fixture(scope="session")
def conformance() -> Path:
    return conformance_dir()


def cli_process(root: Path, cache_dir: str, *argv: str) -> tuple[int, str, str]:
    """`aiguillage ARGV` as a whole process with the standard rulesets of `root` and the on-disk
    cache in `cache_dir` ("off" turns it off): exit status, stdout, stderr."""
    import subprocess
    import sys

    from aiguillage import cache as disk_cache
    from aiguillage.engine import loader

    env = {**os.environ, "PYTHONPATH": str(REPO), loader.ENV_VAR: str(root), disk_cache.ENV_VAR: cache_dir}
    done = subprocess.run([sys.executable, "-m", "aiguillage", *argv], capture_output=True, text=True, env=env, timeout=180)
    return done.returncode, done.stdout, done.stderr


def agreement(what: str, total: int, agree: int, stopped: int) -> str:
    """A differential's figure: variants fully equal, of all and of those the artefact could judge."""
    judged = total - stopped
    return (
        f"{what}: {total} variants, {agree} fully equal ({100 * agree / total:.1f}%); "
        f"the artefact stopped on {stopped}, so {agree} of {judged} judged ({100 * agree / max(judged, 1):.1f}%)"
    )


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """Print the differential tests' agreement figures (recorded as `agreement` properties,
    which reach the controller from xdist workers) at the end of the run."""
    lines = sorted(
        value
        for report in terminalreporter.stats.get("passed", []) + terminalreporter.stats.get("failed", [])
        if report.when == "call"
        for key, value in report.user_properties
        if key == "agreement"
    )
    if lines:
        terminalreporter.section("agreement with the official artefacts")
        for line in lines:
            terminalreporter.write_line(line)


@pytest.fixture(scope="session")
def oracle_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The official artefacts' verdict cache (aiguillage.testing.oracle), shared by every
    xdist worker of one run (the base temp folder's parent is common)."""
    root = tmp_path_factory.getbasetemp()
    shared = root.parent if os.environ.get("PYTEST_XDIST_WORKER") else root
    path = shared / "oracle-cache"
    path.mkdir(exist_ok=True)
    return path
