"""`aiguillage evaluate --jobs N`: the same output, in the same order, as one process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SAMPLES = sorted(p for p in (REPO / "samples").iterdir() if p.is_file())


def _evaluate(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run([sys.executable, "-m", "aiguillage", "evaluate", *args], capture_output=True, text=True, env=env, timeout=300)


def _without_timings(line: str) -> dict:
    value = json.loads(line)
    value.pop("timings", None)
    return value


def test_jobs_keep_input_order_errors_and_exit_status(tmp_path: Path) -> None:
    broken = tmp_path / "broken.xml"
    broken.write_text("<Invoice><unclosed></Invoice>", encoding="utf-8")
    names = [str(p) for p in SAMPLES] * 3
    names.insert(7, str(broken))
    names.insert(11, str(tmp_path / "missing.xml"))
    common = ["--ruleset", "en16931", "--format", "jsonl", "--today", "2026-11-27", *names]
    alone = _evaluate("--jobs", "1", *common)
    spread = _evaluate("--jobs", "3", *common)
    assert alone.returncode == spread.returncode == 1
    lines_alone = [_without_timings(x) for x in alone.stdout.splitlines()]
    lines_spread = [_without_timings(x) for x in spread.stdout.splitlines()]
    assert [x["file"] for x in lines_spread] == names
    assert lines_spread == lines_alone
    assert "error" in lines_spread[7] and "error" in lines_spread[11]
    assert sum("findings" in x for x in lines_spread) == len(names) - 2


def test_jobs_text_and_json_formats_match_one_process() -> None:
    names = [str(p) for p in SAMPLES] * 2
    for fmt in ("text", "json"):
        common = ["--ruleset", "en16931", "--format", fmt, "--today", "2026-11-27", *names]
        alone, spread = _evaluate("-j", "1", *common), _evaluate("-j", "2", *common)
        assert alone.returncode == spread.returncode
        if fmt == "json":
            strip = [{k: v for k, v in d.items() if k != "timings"} for d in json.loads(alone.stdout)]
            assert [{k: v for k, v in d.items() if k != "timings"} for d in json.loads(spread.stdout)] == strip
        else:
            assert spread.stdout == alone.stdout


def test_jobs_must_be_positive() -> None:
    done = _evaluate("--jobs", "0", "--ruleset", "en16931", str(SAMPLES[0]))
    assert done.returncode == 2 and "must be at least 1" in done.stderr
