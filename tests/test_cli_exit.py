"""`check` and `evaluate` leave without interpreter teardown (`cli.main.entry`): nothing may be lost.

The output is flushed before `os._exit`, the exit status is the command's, and a
reader that goes away early (`| head`) ends the program quietly.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO, cli_process

from aiguillage.engine.loader import rulesets_root

SAMPLES = sorted((REPO / "samples").glob("*.xml"))


@pytest.fixture(autouse=True)
def _buffered_output(monkeypatch: pytest.MonkeyPatch) -> None:
    """Standard output block-buffered, as when run by a user into a pipe or file."""
    monkeypatch.delenv("PYTHONUNBUFFERED", raising=False)


def test_every_decision_of_a_long_jsonl_run_reaches_the_reader(tmp_path: Path) -> None:
    files = [str(p) for p in SAMPLES] * 20  # several pipe buffers of output, written just before the exit
    status, out, err = cli_process(rulesets_root(), str(tmp_path), "evaluate", "--ruleset", "en16931",
                                   "--format", "jsonl", "--jobs", "1", *files)
    lines = out.splitlines()
    assert len(lines) == len(files), err
    assert [json.loads(line)["file"] for line in lines] == files
    assert status in (0, 1) and err == ""


def test_the_exit_status_is_the_commands(tmp_path: Path) -> None:
    broken = tmp_path / "broken.xml"
    broken.write_text("<Invoice><unclosed></Invoice>", encoding="utf-8")
    status, out, err = cli_process(rulesets_root(), str(tmp_path / "cache"), "evaluate", "--ruleset", "en16931", str(broken))
    assert status == 1 and "broken.xml" in err

    rules = tmp_path / "bad.rules"
    rules.write_text('ruleset "bad" version "1"\nextends "en16931"\nvalidate\n  rule X-1 error\n    assert totals.nope > 0\n',
                     encoding="utf-8")
    status, out, err = cli_process(rulesets_root(), str(tmp_path / "cache"), "check", str(rules))
    assert status == 1 and "nope" in (out + err)


def test_a_reader_that_goes_away_ends_the_program_quietly(tmp_path: Path) -> None:
    files = [str(p) for p in SAMPLES] * 40
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    reader = subprocess.Popen(["head", "-n", "1"], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    program = subprocess.Popen([sys.executable, "-m", "aiguillage", "evaluate", "--ruleset", "en16931", "--format", "jsonl",
                                "--jobs", "1", *files], stdout=reader.stdin, stderr=subprocess.PIPE, env=env)
    assert reader.stdin is not None
    reader.stdin.close()  # the program holds the only writing end
    assert reader.stdout is not None
    first = reader.stdout.read()
    reader.wait(timeout=120)
    _, err = program.communicate(timeout=120)
    assert json.loads(first)["file"] == files[0]
    assert program.returncode in (0, 1, 141) and b"Traceback" not in err
