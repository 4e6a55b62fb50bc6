"""The documented list of accepted differences between our ruleset and an official artefact.

A differential test may accept only the differences a YAML file lists, per
syntax, each with its reason: `{rule, side, reason}`, where `side` is
`official` (fired by the artefact only), `ours` (fired by us only) or
`stopped` (the artefact threw on the document and gave no verdict), and
`rule` may be a glob. The test also fails on an entry nothing needs any
more, so such a list only shrinks.
"""

from __future__ import annotations

import fnmatch
from pathlib import Path

import yaml

from aiguillage.testing.differential import Comparison

Entry = dict[str, str]


def load(path: Path) -> dict[str, list[Entry]]:
    """The entries by syntax; a malformed entry is an AssertionError naming it."""
    data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    for syntax, entries in data.items():
        for entry in entries or []:
            assert {"rule", "side", "reason"} <= set(entry), (
                f"{path}: {syntax} entry {entry} needs rule, side, reason"
            )
            assert entry["side"] in ("official", "ours", "stopped"), f"{path}: bad side in {entry}"
    return {syntax: entries or [] for syntax, entries in data.items()}


def unexplained(comparison: Comparison, entries: list[Entry], used: set[int]) -> list[str]:
    """What in one difference no entry explains (marking, in `used`, the entries that did explain)."""

    def explained(rule: str, side: str) -> bool:
        for number, entry in enumerate(entries):
            if entry["side"] == side and fnmatch.fnmatchcase(rule, entry["rule"]):
                used.add(number)
                return True
        return False

    if comparison.official.error is not None:
        return (
            [] if explained("*", "stopped") else [f"official stopped: {comparison.official.error}"]
        )
    if comparison.read_error is not None:
        return [f"read error: {comparison.read_error}"]
    left = [
        f"official only {r} ({f})"
        for r, f in sorted(comparison.missing)
        if not explained(r, "official")
    ]
    left += [
        f"ours only {r} ({f})" for r, f in sorted(comparison.extra) if not explained(r, "ours")
    ]
    return left


def stale(entries: list[Entry], used: set[int]) -> list[str]:
    """The entries no comparison needed."""
    return [
        f"{entry['rule']} ({entry['side']})"
        for number, entry in enumerate(entries)
        if number not in used
    ]
