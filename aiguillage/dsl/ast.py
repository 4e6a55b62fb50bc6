"""The syntax tree of a ruleset file.

Plain dataclasses with a source position on every node, so that the checker,
the formatter and the compiler each read one shared, easy-to-inspect shape
instead of Lark trees. The checker writes its findings back onto the nodes
(`ref`, `type`, `frames`, ...): those fields are excluded from equality so
that two parses of the same text compare equal.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path as FilePath
from typing import Any


@dataclass(frozen=True, slots=True)
class SourceFile:
    """A ruleset file's text, kept for error messages (the offending line)."""

    path: str
    text: str

    @property
    def lines(self) -> list[str]:
        return self.text.splitlines()

    def line(self, number: int) -> str:
        lines = self.lines
        return lines[number - 1] if 0 < number <= len(lines) else ""

    @property
    def folder(self) -> FilePath:
        return FilePath(self.path).parent


@dataclass(kw_only=True, eq=False)
class Node:
    """Anything with a position: 1-based line and column of its first character."""

    line: int = 0
    column: int = 0
    end_line: int = 0
    end_column: int = 0

    def at(self, other: Node) -> Node:
        """Copy `other`'s position onto this node (used for synthesized nodes)."""
        self.line, self.column, self.end_line, self.end_column = other.line, other.column, other.end_line, other.end_column
        return self


# --------------------------------------------------------------------------- expressions


@dataclass(kw_only=True, eq=False)
class Expr(Node):
    #: Set by the checker: the expression's `Type`.
    type: Any = field(default=None, repr=False, compare=False)


@dataclass(kw_only=True, eq=False)
class Literal(Expr):
    """A number, text, date or true/false written in the rules."""

    value: Decimal | str | date | bool
    kind: str  # "number", "text", "date", "bool"
    #: The literal as written (numbers keep their digits, dates their form).
    raw: str = ""


@dataclass(kw_only=True, eq=False)
class Money(Expr):
    """`10000 EUR`: the amount, but only for invoices in that currency (missing otherwise)."""

    amount: Decimal
    currency: str
    raw: str = ""


@dataclass(kw_only=True, eq=False)
class Today(Expr):
    """`today`: the evaluation date (fixed per evaluation, so decisions are reproducible)."""


@dataclass(kw_only=True, eq=False)
class Path(Expr):
    """A field by name (`seller.vat_identifier`), by id (`BT-31`) or a variable (`line`)."""

    segments: list[str]
    bt: str | None = None
    #: Set by the checker: how to reach the value (see checker.PathRef).
    ref: Any = field(default=None, repr=False, compare=False)

    @property
    def text(self) -> str:
        return self.bt or ".".join(self.segments)


@dataclass(kw_only=True, eq=False)
class Lookup(Expr):
    """`purchase_orders[buyer_reference].po_number`: a row of a table by its key."""

    table: str
    key: Expr
    #: The column read from the row; None for `table[key] exists`.
    column_name: str | None = None
    table_node: Node | None = field(default=None, repr=False, compare=False)
    ref: Any = field(default=None, repr=False, compare=False)


@dataclass(kw_only=True, eq=False)
class Arg(Node):
    """A function argument, optionally filtered: `lines.net_amount where vat.rate = 20`."""

    expr: Expr
    where: Expr | None = None
    #: Set by the checker for filtered arguments: the frames the filter runs in.
    frames: Any = field(default=None, repr=False, compare=False)


@dataclass(kw_only=True, eq=False)
class Call(Expr):
    """`sum(...)`, `round(x, 2)`, `gln_valid(x)`: a built-in function."""

    name: str
    args: list[Arg]
    sig: Any = field(default=None, repr=False, compare=False)


@dataclass(kw_only=True, eq=False)
class Unary(Expr):
    """`-x` (op "neg") or `not x` (op "not")."""

    op: str
    operand: Expr


@dataclass(kw_only=True, eq=False)
class Binary(Expr):
    """Arithmetic (+ - * /) or logic (and, or)."""

    op: str
    left: Expr
    right: Expr


@dataclass(kw_only=True, eq=False)
class Compare(Expr):
    """`a = b`, `a != b`, `a < b`, ...; false when either side is missing."""

    op: str
    left: Expr
    right: Expr


@dataclass(kw_only=True, eq=False)
class Test(Expr):
    """A one-sided test on a value.

    op is one of: exists, missing, empty, not_empty, in_codelist, not_in_codelist,
    in_list, not_in_list, matches, starts_with, ends_with, contains.
    """

    op: str
    operand: Expr
    #: The code list name, the regex source, the list items or the other text.
    arg: Any = None
    flags: str = ""
    #: Where the code list name or the regex is written (for error carets).
    arg_node: Node | None = field(default=None, repr=False, compare=False)
    #: The regex as written, slashes included.
    raw: str = ""


@dataclass(kw_only=True, eq=False)
class Quantifier(Expr):
    """`every line in lines satisfies ...` (kind "every", "any" or "no")."""

    kind: str
    var: str
    source: Path
    body: Expr
    frames: Any = field(default=None, repr=False, compare=False)


@dataclass(kw_only=True, eq=False)
class IfExpr(Expr):
    """`if cond then a else b`."""

    cond: Expr
    then: Expr
    otherwise: Expr


@dataclass(kw_only=True, eq=False)
class Has(Expr):
    """`has errors` / `has warnings` / `has findings` / `has finding BR-01` (routes only)."""

    what: str
    rule: str | None = None


# --------------------------------------------------------------------------- text with placeholders


@dataclass(kw_only=True, eq=False)
class Template(Node):
    """A quoted text that may hold `{expression}` placeholders (`{{` and `}}` are braces)."""

    raw: str  # as written, quotes included
    #: Literal text and expressions, in order.
    parts: list[str | Expr] = field(default_factory=list)

    @property
    def text(self) -> str:
        return "".join(p if isinstance(p, str) else "{…}" for p in self.parts)


# --------------------------------------------------------------------------- declarations


@dataclass(kw_only=True, eq=False)
class Statement(Node):
    #: The file this statement was read from (includes keep their own).
    src: SourceFile | None = field(default=None, repr=False, compare=False)


@dataclass(kw_only=True, eq=False)
class HeaderItem(Statement):
    """One header line: key is ruleset, version, customer, effective, extends, description, allocation
    or profile (values: the BT-24 specification identifier, the name of the ruleset that judges it)."""

    key: str
    values: list[Any]
    raws: list[str] = field(default_factory=list)
    #: `allocation with (tolerance = 0.50, ...)`: the customer's payment allocation settings.
    params: list[tuple[str, Expr | Template]] = field(default_factory=list)


@dataclass(kw_only=True, eq=False)
class CodelistDecl(Statement):
    name: str
    source: str | None = None


@dataclass(kw_only=True, eq=False)
class Column(Node):
    name: str
    type_name: str
    required: bool = False


@dataclass(kw_only=True, eq=False)
class TableDecl(Statement):
    """`table NAME from "file" key COL`, or `table NAME key COL` (no `from`): the tenant's reference table NAME."""

    name: str
    #: The file read; None for a reference table of the service, whose rows come from the database at run time.
    source: str | None
    key: str
    columns: list[Column] | None = None
    schema: str | None = None
    #: Set by the checker: the loaded table (refdata.Table).
    data: Any = field(default=None, repr=False, compare=False)


@dataclass(kw_only=True, eq=False)
class LetDecl(Statement):
    name: str
    expr: Expr


@dataclass(kw_only=True, eq=False)
class ParamDecl(Statement):
    """`param NAME = VALUE`: a value the rules read by name, which a ruleset extending this one
    may set again (`param NAME = OTHER`). Its rules are compiled once; the value is the one the
    running ruleset's lineage sets last, read at evaluation."""

    name: str
    value: Expr
    #: Set by the checker on the declaring statement: the let that names the value for the rules.
    let: LetDecl | None = field(default=None, repr=False, compare=False)


@dataclass(kw_only=True, eq=False)
class ParamRef(Expr):
    """A param's value at evaluation (the expression of a param's let)."""

    name: str
    kind: str


@dataclass(kw_only=True, eq=False)
class Include(Statement):
    source: str


# --------------------------------------------------------------------------- rules


@dataclass(kw_only=True, eq=False)
class Scope(Node):
    """`for each line in lines where ...`: run the rule once per occurrence."""

    var: str
    source: Path
    where: Expr | None = None
    frames: Any = field(default=None, repr=False, compare=False)


@dataclass(kw_only=True, eq=False)
class Message(Node):
    lang: str
    template: Template


@dataclass(kw_only=True, eq=False)
class Action(Node):
    """`set field = expr` (mode "set") or `fill field = expr` (mode "fill": only if missing)."""

    mode: str
    target: Path
    expr: Expr


@dataclass(kw_only=True, eq=False)
class EnrichRule(Statement):
    name: str
    scopes: list[Scope] = field(default_factory=list)
    when: Expr | None = None
    actions: list[Action] = field(default_factory=list)
    quoted: bool = False


@dataclass(kw_only=True, eq=False)
class ValidateRule(Statement):
    id: str
    severity: str
    severity_node: Node | None = None
    messages: list[Message] = field(default_factory=list)
    scopes: list[Scope] = field(default_factory=list)
    when: Expr | None = None
    assertion: Expr | None = None
    #: True when the message was written inline after the severity.
    inline_message: bool = False
    #: Clause keywords seen, to report duplicates ("when", "assert").
    duplicates: list[Node] = field(default_factory=list, repr=False)
    #: Set for a member of a rule family: its family, and the keys it fires on.
    family: Family | None = field(default=None, repr=False)
    keys: tuple[str, ...] = ()


@dataclass(kw_only=True, eq=False)
class FamilyEntry(Node):
    """One member of a family: its rule id and the key values it fires on."""

    id: str
    keys: list[str]


@dataclass(kw_only=True, eq=False)
class Family(Statement):
    """`family UBL-CR warning … lookup f.path` + entries: one rule per entry, judged by one look-up.

    Every member fires, for each occurrence of the scope where `when` holds, when
    the `lookup` expression equals one of its keys (a key starting with `//` matches
    the end of a path: `//ram:TypeCode` matches `a/b/ram:TypeCode`). The members are
    ordinary `ValidateRule`s (`members`, same scopes, when and messages, shared), so
    each can be disabled, overridden, explained and counted in coverage by its id.
    """

    name: str
    severity: str
    severity_node: Node | None = None
    messages: list[Message] = field(default_factory=list)
    scopes: list[Scope] = field(default_factory=list)
    when: Expr | None = None
    key: Expr | None = None
    entries: list[FamilyEntry] = field(default_factory=list)
    members: list[ValidateRule] = field(default_factory=list, repr=False)
    inline_message: bool = False
    duplicates: list[Node] = field(default_factory=list, repr=False)


@dataclass(kw_only=True, eq=False)
class Override(Statement):
    rule: str
    severity: str
    severity_node: Node | None = None


@dataclass(kw_only=True, eq=False)
class Disable(Statement):
    """`disable A, B`: the rules never run; with `when CONDITION`, they do not run for the
    invoices where the condition holds (judged once per invoice, as received)."""

    rules: list[str]
    rule_nodes: list[Node] = field(default_factory=list)
    when: Expr | None = None


# --------------------------------------------------------------------------- routes


@dataclass(kw_only=True, eq=False)
class Outcome(Node):
    pass


@dataclass(kw_only=True, eq=False)
class ChannelOutcome(Outcome):
    channel: str
    format: str | None = None
    format_node: Node | None = None
    to: Expr | Template | None = None
    params: list[tuple[str, Expr | Template]] = field(default_factory=list)


@dataclass(kw_only=True, eq=False)
class ApprovalOutcome(Outcome):
    """`approval by "finance" with (escalate_after = "48h", escalate_to = "cfo")`: the settings ride on the hold."""

    role: str
    raw: str = ""
    params: list[tuple[str, Expr | Template]] = field(default_factory=list)


@dataclass(kw_only=True, eq=False)
class HoldOutcome(Outcome):
    reason: Template


@dataclass(kw_only=True, eq=False)
class RouteWhen(Statement):
    """`when c -> ...` (kind "when"), `also when c -> ...` ("also"), `otherwise -> ...` ("otherwise")."""

    kind: str
    cond: Expr | None
    outcomes: list[Outcome]


@dataclass(kw_only=True, eq=False)
class Cell(Node):
    """One condition cell of a decision table row.

    kind: any, equals, compare, in_list, not_in_list, in_codelist,
    not_in_codelist, exists, missing.
    """

    kind: str
    op: str | None = None
    expr: Expr | None = None
    items: list[Expr] = field(default_factory=list)
    codelist: str | None = None


@dataclass(kw_only=True, eq=False)
class Row(Node):
    cells: list[Cell]
    outcomes: list[Outcome]


@dataclass(kw_only=True, eq=False)
class Decision(Statement):
    name: str | None
    policy: str  # "first" or "all"
    inputs: list[Expr]
    rows: list[Row]


@dataclass(kw_only=True, eq=False)
class Section(Statement):
    kind: str  # "enrich", "validate", "route"
    items: list[Statement] = field(default_factory=list)


# --------------------------------------------------------------------------- the file


@dataclass(kw_only=True, eq=False)
class Comment(Node):
    text: str


@dataclass(kw_only=True, eq=False)
class RulesFile(Node):
    """One parsed `.rules` file: its items in order, and its comments for the formatter."""

    src: SourceFile
    items: list[Statement] = field(default_factory=list)
    comments: list[Comment] = field(default_factory=list)

    def header(self, key: str) -> HeaderItem | None:
        return next((i for i in self.items if isinstance(i, HeaderItem) and i.key == key), None)

    @property
    def name(self) -> str | None:
        item = self.header("ruleset")
        return str(item.values[0]) if item else None

    @property
    def version(self) -> str | None:
        item = self.header("version")
        return str(item.values[0]) if item else None

    @property
    def customers(self) -> list[str]:
        return [v for i in self.items if isinstance(i, HeaderItem) and i.key == "customer" for v in i.values]

    @property
    def profiles(self) -> dict[str, str]:
        """BT-24 specification identifier → the ruleset that judges invoices declaring it."""
        return {str(i.values[0]).strip(): str(i.values[1]) for i in self.items if isinstance(i, HeaderItem) and i.key == "profile"}

    @property
    def extends(self) -> list[str]:
        return [v for i in self.items if isinstance(i, HeaderItem) and i.key == "extends" for v in i.values]
