"""What the checker knows about values, names and contexts.

Kept apart from the checker so that the compiler, which reads these
annotations off the syntax tree, does not depend on how they were found.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from aiguillage.dsl.schema import FieldNode


@dataclass(frozen=True, slots=True)
class Type:
    """The kind of a value (number, text, date, bool, group, row) and whether there are many."""

    kind: str
    many: bool = False

    def describe(self) -> str:
        words = {
            "number": ("a number", "numbers"),
            "text": ("a text", "texts"),
            "date": ("a date", "dates"),
            "bool": ("a condition (true or false)", "conditions"),
            "group": ("a group of fields", "groups of fields"),
            "row": ("a table row", "table rows"),
        }
        one, several = words.get(self.kind, (self.kind, self.kind))
        return f"a list of {several}" if self.many else one

    def single(self) -> Type:
        return Type(self.kind)


NUMBER = Type("number")
TEXT = Type("text")
DATE = Type("date")
BOOL = Type("bool")
GROUP = Type("group")
ROW = Type("row")


@dataclass(eq=False)
class Frame:
    """A context names are looked up in: the invoice, or one occurrence of a repeating group.

    kind: "root", "scope" (`for each`), "filter" (`where`), "quant" (`every`/`any`/`no`),
    or "step" (an outer repeating group crossed on the way, e.g. the line around a line allowance).
    """

    kind: str
    node: FieldNode
    #: Python variable holding the object (or, when `item`, the value itself) in generated code.
    pyvar: str
    #: The name the rule gave it (`line` in `for each line in lines`), if any.
    var: str | None = None
    #: Python variable holding the 1-based occurrence number (scopes only).
    index: str | None = None
    #: True when pyvar holds a plain value (every code in lines.vat.category_code).
    item: bool = False
    #: True when this frame iterates a list (the node repeats); false for `lines.vat`-style ends.
    loops: bool = True


@dataclass(eq=False)
class PathRef:
    """How a name resolved: from which frame, through which fields; or to a `let` value."""

    base: Frame | None
    steps: list[FieldNode] = field(default_factory=list)
    let: Any = None

    @property
    def node(self) -> FieldNode | None:
        if self.steps:
            return self.steps[-1]
        return self.base.node if self.base else None

    @property
    def many(self) -> bool:
        return any(step.repeats for step in self.steps)


@dataclass(eq=False)
class LookupRef:
    """A resolved table lookup: the table and the kind of the column read."""

    table: Any
    kind: str
