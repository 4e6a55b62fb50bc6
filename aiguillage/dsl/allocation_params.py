"""What `allocation with (...)` may say: a customer's payment allocation policy, checked with the ruleset.

    allocation with (tolerance = 0.50, order = "oldest", write_off = 1.00)

Like an approval's settings (`approval_params`), only constants are allowed
and a typo fails `aiguillage check` at its line rather than being ignored
when a bank statement is imported months later. The payments package reads
the values with `allocation_settings`.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

from aiguillage.dsl import ast
from aiguillage.dsl.approval_params import _text, check_params, value_raw

#: Parameter name → what it takes.
ALLOCATION_PARAMS: dict[str, str] = {
    "tolerance": "amount",
    "order": "order",
    "write_off": "amount",
}
ORDERS = ("oldest", "due")


def _constant(value: ast.Expr | ast.Template) -> Any:
    """The constant a parameter holds: a text, a number (Decimal), or None when it is not a constant."""
    text = _text(value)
    if text is not None:
        return text
    if isinstance(value, ast.Literal) and value.kind == "number":
        return Decimal(str(value.raw or value.value))
    return None


def _written(value: ast.Expr | ast.Template) -> str:
    """How the value was written, for messages (a negative number has no raw text of its own)."""
    if getattr(value, "raw", None) or isinstance(value, ast.Template):
        return value_raw(value)
    from aiguillage.dsl.formatter import format_expr

    return format_expr(value)


def check_allocation_params(item: ast.HeaderItem) -> Iterator[tuple[ast.Node, str]]:
    """(node, message) for each problem with the allocation settings."""
    if not item.params:
        yield item, "allocation needs settings, e.g. allocation with (tolerance = 0.50)"
    yield from check_params(item.params, ALLOCATION_PARAMS, "allocation", _problem)


def _problem(name: str, kind: str, value: ast.Expr | ast.Template) -> str | None:
    constant = _constant(value)
    if kind == "order":
        return None if constant in ORDERS else f"order takes \"oldest\" or \"due\", not {_written(value)}"
    if not isinstance(constant, Decimal) or constant < 0:
        return f"{name} takes an amount of zero or more such as 0.50, not {_written(value)}"
    return None


def allocation_settings(rules: ast.RulesFile) -> dict[str, Any] | None:
    """The settings of the file's `allocation with (...)` line as plain values; None when it has none."""
    item = rules.header("allocation")
    if item is None:
        return None
    return {name: _constant(value) for name, value in item.params}
