"""Errors in ruleset files, printed the way compilers print them.

Every problem, from a stray character to a misspelt field, is reported as
`FILE:LINE:COL: message`, followed by the offending line and a caret under
the spot, so an analyst can find it in any editor without reading a stack
trace.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # annotations only: `evaluate` catches RulesError without importing the syntax tree
    from aiguillage.dsl.ast import Node, SourceFile


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """One problem at one place in one file."""

    file: str
    line: int
    column: int
    message: str
    #: "error" stops a ruleset from being used; "warning" does not.
    severity: str = "error"
    #: Width of the underlined span (1 = a lone caret).
    width: int = 1
    #: The source line, for the caret display (empty when unknown).
    source_line: str = ""

    @property
    def location(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"

    def render(self) -> str:
        """`FILE:LINE:COL: message`, the line, and a caret (with `~` under the rest of the span)."""
        prefix = "" if self.severity == "error" else f"{self.severity}: "
        head = f"{self.location}: {prefix}{self.message}"
        if not self.source_line:
            return head
        line = self.source_line.expandtabs(1)
        width = max(1, min(self.width, len(line) - self.column + 1))
        marker = " " * (self.column - 1) + "^" + "~" * (width - 1)
        return f"{head}\n    {line}\n    {marker}"

    def __str__(self) -> str:
        return self.render()


def at_node(src: SourceFile, node: Node, message: str, *, severity: str = "error") -> Diagnostic:
    """A diagnostic pointing at a node, underlining it when it fits on one line."""
    width = node.end_column - node.column if node.end_line == node.line and node.end_column > node.column else 1
    return Diagnostic(src.path, node.line or 1, node.column or 1, message, severity, width, src.line(node.line or 1))


def at_position(src: SourceFile, line: int, column: int, message: str, *, width: int = 1, severity: str = "error") -> Diagnostic:
    return Diagnostic(src.path, line, column, message, severity, width, src.line(line))


class RulesError(Exception):
    """Raised when a ruleset cannot be used; carries every diagnostic found."""

    def __init__(self, diagnostics: list[Diagnostic]) -> None:
        self.diagnostics = sorted(diagnostics, key=lambda d: (d.file, d.line, d.column))
        super().__init__(self.render())

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity == "error"]

    def render(self) -> str:
        return "\n".join(d.render() for d in self.diagnostics)
