"""What `approval by "role" with (...)` may say, checked when the ruleset is checked.

Why here: the workflow reads these settings long after the ruleset was
published (when an approval has waited too long); a typo such as
`escalate_afer` or `"48 hours"` must fail `aiguillage check` at its line,
not be ignored at run time. Only constants are allowed: the settings
configure a workflow, they do not depend on the invoice.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

from aiguillage.dsl import ast, schema

#: A duration written as text: a whole number and a unit (s, m, h, d, w); "48h", "7d".
DURATION = re.compile(r"^\s*\d+\s*[smhdw]\s*$")

#: Parameter name → what it takes.
APPROVAL_PARAMS: dict[str, str] = {
    "escalate_after": "duration",
    "escalate_to": "role",
}


def _text(value: ast.Expr | ast.Template) -> str | None:
    """The constant text of a quoted value; None when it is not one (or has placeholders)."""
    if isinstance(value, ast.Template) and all(isinstance(p, str) for p in value.parts):
        return "".join(p for p in value.parts if isinstance(p, str))
    return None


def _duration_problem(name: str, value: ast.Expr | ast.Template) -> str | None:
    text = _text(value)
    if text is not None:
        return None if DURATION.match(text) else (
            f"{name} takes a duration such as \"48h\" or \"7d\" (units s, m, h, d, w), not {value_raw(value)}")
    if isinstance(value, ast.Literal) and value.kind == "number":
        number = value.value
        if number == int(number) and number >= 0:
            return None  # a bare whole number is hours, as in the route parameters
    return f"{name} takes a duration such as \"48h\" or \"7d\" (units s, m, h, d, w), not {value_raw(value)}"


def _role_problem(name: str, value: ast.Expr | ast.Template) -> str | None:
    text = _text(value)
    if text is None:
        return f"{name} takes a role in quotes, e.g. {name} = \"cfo\""
    return None if text.strip() else f"{name} needs a role, e.g. {name} = \"cfo\""


def value_raw(value: ast.Expr | ast.Template) -> str:
    """How the value was written, for messages."""
    return getattr(value, "raw", None) or type(value).__name__.lower()


def check_params(params: list[tuple[str, ast.Expr | ast.Template]], known: dict[str, str], what: str,
                 problem_of: Callable[[str, str, ast.Expr | ast.Template], str | None],
                 ) -> Iterator[tuple[ast.Node, str]]:
    """(node, message) for each setting given twice, unknown (with did-you-mean), or refused by
    `problem_of(name, kind, value)`: what approval and allocation settings share."""
    seen: set[str] = set()
    for name, value in params:
        if name in seen:
            yield value, f"parameter '{name}' is given twice"
            continue
        seen.add(name)
        kind = known.get(name)
        if kind is None:
            near = schema.suggest(name, list(known), n=1)
            hint = f"; did you mean {near[0]}?" if near else f" (use {', '.join(known)})"
            yield value, f"unknown {what} parameter '{name}'{hint}"
            continue
        problem = problem_of(name, kind, value)
        if problem is not None:
            yield value, problem


def check_approval_params(outcome: ast.ApprovalOutcome) -> Iterator[tuple[ast.Node, str]]:
    """(node, message) for each problem with the approval's parameters."""
    yield from check_params(
        outcome.params, APPROVAL_PARAMS, "approval",
        lambda name, kind, value: _duration_problem(name, value) if kind == "duration" else _role_problem(name, value))
