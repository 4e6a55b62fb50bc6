"""Which rules two ruleset texts add, change and remove (beside the line diff), so a reviewer reads rules, not lines.

A rule is known by what the language names it by: a validation rule by its
id, an enrichment by its name, a route line by its condition, a decision
table by its name. Its text is the lines it spans; a change of text (not of
layout alone) is a change.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator
from dataclasses import dataclass

from aiguillage.dsl import ast
from aiguillage.dsl.diagnostics import RulesError
from aiguillage.dsl.parser import parse_text


@dataclass(frozen=True)
class RuleChanges:
    added: list[str]
    changed: list[str]
    removed: list[str]
    #: The unified diff of the two texts.
    lines: list[str]
    #: Why rules could not be compared (a text that does not parse), else None.
    unparsed: str | None = None


def compare(old: str, new: str, old_label: str, new_label: str) -> RuleChanges:
    lines = [line.rstrip("\n") for line in difflib.unified_diff(
        old.splitlines(keepends=True), new.splitlines(keepends=True), fromfile=old_label, tofile=new_label)]
    try:
        before, after = rules_of(old, old_label), rules_of(new, new_label)
    except RulesError as exc:
        return RuleChanges([], [], [], lines, unparsed=exc.diagnostics[0].render() if exc.diagnostics else str(exc))
    return RuleChanges(
        added=[k for k in after if k not in before],
        changed=[k for k in after if k in before and _normal(before[k]) != _normal(after[k])],
        removed=[k for k in before if k not in after],
        lines=lines,
    )


def rules_of(text: str, label: str) -> dict[str, str]:
    """Each rule's key and its source text, in file order."""
    parsed = parse_text(text, label)
    source = text.splitlines()
    found: dict[str, str] = {}
    for item in _statements(parsed.items):
        key = _key(item, source)
        if key is not None:
            end = item.end_line or item.line
            found[key] = "\n".join(source[item.line - 1:end])
    return found


def _statements(items: list[ast.Statement]) -> Iterator[ast.Statement]:
    for item in items:
        if isinstance(item, ast.Section):
            yield from _statements(item.items)
        else:
            yield item


def _key(item: ast.Statement, source: list[str]) -> str | None:
    if isinstance(item, ast.ValidateRule):
        return f"validate {item.id}"
    if isinstance(item, ast.EnrichRule):
        return f"enrich {item.name}"
    if isinstance(item, ast.Override):
        return f"override {item.rule}"
    if isinstance(item, ast.Disable):
        return f"disable {', '.join(item.rules)}" + (" when" if item.when is not None else "")
    if isinstance(item, ast.Decision):
        return f"decision {item.name or item.line}"
    if isinstance(item, ast.RouteWhen):
        head = source[item.line - 1][item.column - 1:].split("->", 1)[0].strip() if item.line else item.kind
        return f"route {head}"
    return None


def _normal(text: str) -> str:
    return " ".join(text.split())
