"""One canonical layout for ruleset files (`aiguillage fmt`).

The layout is computed from the syntax tree alone, so formatting twice gives
the same text (idempotent) and two analysts' edits never fight over spacing.
Comments are not in the tree: each full-line comment is put back before the
statement that followed it, each end-of-line comment after the statement it
ended.
"""

from __future__ import annotations

from dataclasses import dataclass

from aiguillage.dsl import ast

INDENT = "  "
#: Conditions longer than this are broken before each top-level `and` / `or`.
WIDTH = 100

# Precedence levels: a child is parenthesised when it binds more loosely than its place needs.
_P_TOP, _P_OR, _P_AND, _P_NOT, _P_PRED, _P_SUM, _P_PROD, _P_UNARY, _P_ATOM = range(9)

_TEST_WORDS = {
    "exists": "exists",
    "missing": "is missing",
    "empty": "is empty",
    "not_empty": "is not empty",
    "starts_with": "starts with",
    "ends_with": "ends with",
    "contains": "contains",
}


def format_text(text: str, path: str = "<rules>") -> str:
    """Format ruleset text; raises `RulesError` if it does not parse."""
    # Imported here: the compiler and checker use this module without ever parsing.
    from aiguillage.dsl.parser import parse_text

    return format_file(parse_text(text, path))


def format_file(rules_file: ast.RulesFile) -> str:
    writer = _Writer()
    writer.file(rules_file)
    return writer.render(rules_file)


# --------------------------------------------------------------------------- expressions


def _prec(e: ast.Expr) -> int:
    if isinstance(e, ast.IfExpr | ast.Quantifier):
        return _P_TOP
    if isinstance(e, ast.Binary):
        return {"or": _P_OR, "and": _P_AND, "+": _P_SUM, "-": _P_SUM, "*": _P_PROD, "/": _P_PROD}[e.op]
    if isinstance(e, ast.Unary):
        return _P_NOT if e.op == "not" else _P_UNARY
    if isinstance(e, ast.Compare | ast.Test | ast.Has):
        return _P_PRED
    return _P_ATOM


def _sub(e: ast.Expr, need: int) -> str:
    text = format_expr(e)
    return f"({text})" if _prec(e) < need else text


def format_expr(e: ast.Expr) -> str:
    """The canonical one-line text of an expression."""
    if isinstance(e, ast.Literal):
        return e.raw or str(e.value)
    if isinstance(e, ast.Money):
        return f"{e.amount} {e.currency}"
    if isinstance(e, ast.Today):
        return "today"
    if isinstance(e, ast.Path):
        return e.text
    if isinstance(e, ast.Lookup):
        return f"{e.table}[{format_expr(e.key)}]" + (f".{e.column_name}" if e.column_name else "")
    if isinstance(e, ast.Call):
        return f"{e.name}({', '.join(_arg(a) for a in e.args)})"
    if isinstance(e, ast.Unary):
        if e.op == "not":
            return f"not {_sub(e.operand, _P_NOT)}"
        return f"-{_sub(e.operand, _P_UNARY)}"
    if isinstance(e, ast.Binary):
        level = _prec(e)
        return f"{_sub(e.left, level)} {e.op} {_sub(e.right, level + 1)}"
    if isinstance(e, ast.Compare):
        return f"{_sub(e.left, _P_SUM)} {e.op} {_sub(e.right, _P_SUM)}"
    if isinstance(e, ast.Test):
        return _test(e)
    if isinstance(e, ast.Quantifier):
        return f"{e.kind} {e.var} in {format_expr(e.source)} satisfies {format_expr(e.body)}"
    if isinstance(e, ast.IfExpr):
        return f"if {format_expr(e.cond)} then {format_expr(e.then)} else {format_expr(e.otherwise)}"
    if isinstance(e, ast.Has):
        return f"has finding {e.rule}" if e.what == "finding" else f"has {e.what}"
    raise TypeError(f"cannot format {type(e).__name__}")


def _arg(a: ast.Arg) -> str:
    return format_expr(a.expr) + (f" where {format_expr(a.where)}" if a.where is not None else "")


def _test(e: ast.Test) -> str:
    left = _sub(e.operand, _P_SUM)
    if e.op in ("in_codelist", "not_in_codelist"):
        return f"{left} {'not ' if e.op.startswith('not') else ''}in codelist {e.arg}"
    if e.op in ("in_list", "not_in_list"):
        items = ", ".join(format_expr(i) for i in e.arg)
        return f"{left} {'not ' if e.op.startswith('not') else ''}in ({items})"
    if e.op == "matches":
        return f"{left} matches {e.raw}"
    word = _TEST_WORDS[e.op]
    if e.op in ("starts_with", "ends_with", "contains"):
        return f"{left} {word} {_sub(e.arg, _P_SUM)}"
    return f"{left} {word}"


def _text_or_expr(value: ast.Expr | ast.Template) -> str:
    return value.raw if isinstance(value, ast.Template) else _sub(value, _P_SUM)


def format_outcome(o: ast.Outcome) -> str:
    if isinstance(o, ast.ApprovalOutcome):
        return f"approval by {o.raw}" + _with(o.params)
    if isinstance(o, ast.HoldOutcome):
        return f"hold {o.reason.raw}"
    assert isinstance(o, ast.ChannelOutcome)
    parts = [o.channel]
    if o.to is not None:
        parts.append(f"to {_text_or_expr(o.to)}")
    if o.format:
        parts.append(f"as {o.format}")
    return " ".join(parts) + _with(o.params)


def _with(params: list[tuple[str, ast.Expr | ast.Template]]) -> str:
    """` with name = value` for one parameter, ` with (a = 1, b = 2)` for several; "" for none."""
    if len(params) == 1:
        name, value = params[0]
        return f" with {name} = {_param(value)}"
    if params:
        return " with (" + ", ".join(f"{n} = {_param(v)}" for n, v in params) + ")"
    return ""


def _param(value: ast.Expr | ast.Template) -> str:
    return value.raw if isinstance(value, ast.Template) else format_expr(value)


def format_outcomes(outcomes: list[ast.Outcome]) -> str:
    out = format_outcome(outcomes[0])
    for previous, current in zip(outcomes, outcomes[1:], strict=False):
        sep = ", then " if isinstance(previous, ast.ApprovalOutcome | ast.HoldOutcome) else ", "
        out += sep + format_outcome(current)
    return out


def format_cell(c: ast.Cell) -> str:
    if c.kind == "any":
        return "any"
    if c.kind == "equals":
        return format_expr(c.expr)
    if c.kind == "compare":
        return f"{c.op} {format_expr(c.expr)}"
    if c.kind in ("in_list", "not_in_list"):
        return f"{'not ' if c.kind.startswith('not') else ''}in ({', '.join(format_expr(i) for i in c.items)})"
    if c.kind in ("in_codelist", "not_in_codelist"):
        return f"{'not ' if c.kind.startswith('not') else ''}in codelist {c.codelist}"
    return "exists" if c.kind == "exists" else "is missing"


def _broken(lead: str, e: ast.Expr, indent: str) -> list[str]:
    """`lead + expr`, broken before each top-level and/or when the line is too long."""
    text = format_expr(e)
    if len(indent) + len(lead) + len(text) <= WIDTH or not (isinstance(e, ast.Binary) and e.op in ("and", "or")):
        return [lead + text]
    op = e.op
    operands: list[ast.Expr] = []
    node: ast.Expr = e
    while isinstance(node, ast.Binary) and node.op == op:
        operands.append(node.right)
        node = node.left
    operands.append(node)
    operands.reverse()
    level = _prec(e)
    pad = " " * len(lead) + "  "
    lines = [lead + _sub(operands[0], level)]
    lines.extend(f"{pad}{op} {_sub(o, level + 1)}" for o in operands[1:])
    return lines


# --------------------------------------------------------------------------- statements


@dataclass
class _Unit:
    """A statement or clause: its original lines, and where its output lines are."""

    start: int
    end: int
    first: int
    last: int
    indent: str
    owner: bool = True


class _Writer:
    def __init__(self) -> None:
        self.lines: list[str] = []
        self.units: list[_Unit] = []

    def emit(self, node: ast.Node, indent: str, texts: list[str], *, start: int | None = None, end: int | None = None) -> None:
        first = len(self.lines)
        self.lines.extend(indent + t if t else "" for t in texts)
        self.units.append(_Unit(start or node.line, end or node.end_line or node.line, first, len(self.lines) - 1, indent))

    def blank(self) -> None:
        if self.lines and self.lines[-1] != "":
            self.lines.append("")

    # ---- file

    def file(self, f: ast.RulesFile) -> None:
        previous: str | None = None
        items = f.items
        i = 0
        while i < len(items):
            item = items[i]
            group = _group_of(item)
            if previous is not None and (group != previous or group == "section"):
                self.blank()
            previous = group
            if isinstance(item, ast.HeaderItem) and item.key == "ruleset" and i + 1 < len(items):
                nxt = items[i + 1]
                if isinstance(nxt, ast.HeaderItem) and nxt.key == "version":
                    self.emit(item, "", [f"ruleset {item.raws[0]} version {nxt.raws[0]}"], end=item.line)
                    self.units.append(_Unit(nxt.line, nxt.end_line, len(self.lines) - 1, len(self.lines) - 1, ""))
                    i += 2
                    continue
            self.statement(item, "")
            i += 1

    def statement(self, item: ast.Statement, indent: str) -> None:
        method = getattr(self, "s_" + type(item).__name__)
        method(item, indent)

    def s_HeaderItem(self, item: ast.HeaderItem, indent: str) -> None:
        if item.key == "allocation":
            self.emit(item, indent, ["allocation" + _with(item.params)])
            return
        if item.key == "profile":
            self.emit(item, indent, [f"profile {item.raws[0]} uses {item.raws[1]}"])
            return
        self.emit(item, indent, [f"{item.key} {', '.join(item.raws)}"])

    def s_CodelistDecl(self, item: ast.CodelistDecl, indent: str) -> None:
        text = f"codelist {item.name}" + (f' from "{_escape(item.source)}"' if item.source is not None else "")
        self.emit(item, indent, [text])

    def s_TableDecl(self, item: ast.TableDecl, indent: str) -> None:
        origin = f' from "{_escape(item.source)}"' if item.source is not None else ""
        head = f"table {item.name}{origin} key {item.key}"
        if item.schema is not None:
            self.emit(item, indent, [head + f' schema "{_escape(item.schema)}"'])
            return
        self.emit(item, indent, [head], end=item.line)
        if item.columns:
            self.lines.append(indent + INDENT + "shape")
            for col in item.columns:
                self.emit(col, indent + INDENT * 2, [f"{col.name} {col.type_name}" + (" required" if col.required else "")])

    def s_LetDecl(self, item: ast.LetDecl, indent: str) -> None:
        self.emit(item, indent, _broken(f"let {item.name} = ", item.expr, indent))

    def s_ParamDecl(self, item: ast.ParamDecl, indent: str) -> None:
        self.emit(item, indent, _broken(f"param {item.name} = ", item.value, indent))

    def s_Include(self, item: ast.Include, indent: str) -> None:
        self.emit(item, indent, [f'include "{_escape(item.source)}"'])

    def s_Section(self, item: ast.Section, indent: str) -> None:
        self.emit(item, indent, [item.kind], end=item.line)
        inner = indent + INDENT
        previous: ast.Statement | None = None
        for child in item.items:
            if item.kind != "route" or isinstance(child, ast.Decision) or isinstance(previous, ast.Decision):
                if previous is not None or item.kind != "route":
                    spaced = not (isinstance(child, ast.Override | ast.Disable) and isinstance(previous, ast.Override | ast.Disable))
                    if spaced:
                        self.blank()
            elif isinstance(previous, ast.Override | ast.Disable) != isinstance(child, ast.Override | ast.Disable):
                self.blank()
            if isinstance(child, ast.RouteWhen):
                run = _route_run(item.items, child)
                self.route_when(child, inner, run)
            else:
                self.statement(child, inner)
            previous = child

    def s_Override(self, item: ast.Override, indent: str) -> None:
        self.emit(item, indent, [f"override {item.rule} severity {item.severity}"])

    def s_Disable(self, item: ast.Disable, indent: str) -> None:
        head = f"disable {', '.join(item.rules)}"
        self.emit(item, indent, [head] if item.when is None else _broken(f"{head} when ", item.when, indent))

    def s_EnrichRule(self, rule: ast.EnrichRule, indent: str) -> None:
        name = f'"{_escape(rule.name)}"' if rule.quoted else rule.name
        self.emit(rule, indent, [f"rule {name}"], end=rule.line)
        inner = indent + INDENT
        for scope in rule.scopes:
            self.scope(scope, inner)
        if rule.when is not None:
            self.emit(rule.when, inner, _broken("when ", rule.when, inner))
        for n, action in enumerate(rule.actions):
            lead = ("then " if rule.when is not None else "") if n == 0 else (" " * 5 if rule.when is not None else "")
            self.emit(action, inner, _broken(f"{lead}{action.mode} {format_expr(action.target)} = ", action.expr, inner))

    def s_ValidateRule(self, rule: ast.ValidateRule, indent: str) -> None:
        head = f"rule {rule.id} {rule.severity}"
        inline = len(rule.messages) == 1 and rule.messages[0].lang == "en"
        if inline:
            head += f" {rule.messages[0].template.raw}"
        self.emit(rule, indent, [head], end=rule.line)
        inner = indent + INDENT
        if not inline and rule.messages:
            first, *rest = rule.messages
            self.emit(first, inner, [f"message {first.lang} {first.template.raw}"])
            for msg in rest:
                self.emit(msg, inner, [f"        {msg.lang} {msg.template.raw}"])
        for scope in rule.scopes:
            self.scope(scope, inner)
        if rule.when is not None:
            self.emit(rule.when, inner, _broken("when ", rule.when, inner))
        if rule.assertion is not None:
            self.emit(rule.assertion, inner, _broken("assert ", rule.assertion, inner))

    def s_Family(self, family: ast.Family, indent: str) -> None:
        head = f"family {family.name} {family.severity}"
        inline = len(family.messages) == 1 and family.messages[0].lang == "en"
        if inline:
            head += f" {family.messages[0].template.raw}"
        self.emit(family, indent, [head], end=family.line)
        inner = indent + INDENT
        if not inline and family.messages:
            first, *rest = family.messages
            self.emit(first, inner, [f"message {first.lang} {first.template.raw}"])
            for msg in rest:
                self.emit(msg, inner, [f"        {msg.lang} {msg.template.raw}"])
        for scope in family.scopes:
            self.scope(scope, inner)
        if family.when is not None:
            self.emit(family.when, inner, _broken("when ", family.when, inner))
        if family.key is not None:
            self.emit(family.key, inner, [f"lookup {format_expr(family.key)} members"])
        for entry in family.entries:
            keys = ", ".join(f'"{_escape(k)}"' for k in entry.keys)
            self.emit(entry, inner + INDENT, [f"{entry.id} {keys}"])

    def scope(self, scope: ast.Scope, indent: str) -> None:
        lead = f"for each {scope.var} in {format_expr(scope.source)}"
        if scope.where is None:
            self.emit(scope, indent, [lead])
        else:
            self.emit(scope, indent, _broken(lead + " where ", scope.where, indent))

    def route_when(self, item: ast.RouteWhen, indent: str, width: int) -> None:
        if item.kind == "otherwise":
            left = "otherwise"
        else:
            left = ("also when " if item.kind == "also" else "when ") + format_expr(item.cond)
        self.emit(item, indent, [f"{left.ljust(width)} -> {format_outcomes(item.outcomes)}"])

    def s_Decision(self, item: ast.Decision, indent: str) -> None:
        name = f' "{_escape(item.name)}"' if item.name is not None else ""
        policy = "first match" if item.policy == "first" else "all matches"
        self.emit(item, indent, [f"decision{name} {policy}"], end=item.line)
        header = [format_expr(e) for e in item.inputs]
        rows = [[format_cell(c) for c in row.cells] for row in item.rows]
        widths = [max([len(header[i])] + [len(r[i]) for r in rows if i < len(r)]) for i in range(len(header))]

        def line(cells: list[str], tail: str) -> str:
            padded = [c.ljust(widths[i]) if i < len(widths) else c for i, c in enumerate(cells)]
            return "| " + " | ".join(padded) + " | -> " + tail

        first_input = item.inputs[0] if item.inputs else item
        self.emit(first_input, indent + INDENT, [line(header, "outcome")], start=first_input.line, end=first_input.line)
        for row, cells in zip(item.rows, rows, strict=True):
            self.emit(row, indent + INDENT, [line(cells, format_outcomes(row.outcomes))])

    # ---- comments

    def render(self, f: ast.RulesFile) -> str:
        source_lines = f.src.lines
        before: dict[int, list[str]] = {}
        after: dict[int, str] = {}
        tail: list[str] = []
        for comment in f.comments:
            text = comment.text
            code = source_lines[comment.line - 1][: comment.column - 1] if comment.line - 1 < len(source_lines) else ""
            if code.strip():
                unit = self._innermost(comment.line)
                if unit is not None and unit.last not in after:
                    after[unit.last] = text
                    continue
                if unit is not None:
                    before.setdefault(unit.first, []).append(unit.indent + text)
                    continue
            unit = self._next(comment.line)
            if unit is None:
                tail.append(text)
            else:
                before.setdefault(unit.first, []).append(unit.indent + text)
        out: list[str] = []
        for index, line in enumerate(self.lines):
            out.extend(before.get(index, []))
            out.append(f"{line}  {after[index]}" if index in after else line)
        if tail:
            if out and out[-1] != "":
                out.append("")
            out.extend(tail)
        while out and out[-1] == "":
            out.pop()
        return "\n".join(out) + "\n"

    def _innermost(self, line: int) -> _Unit | None:
        containing = [u for u in self.units if u.start <= line <= u.end]
        if not containing:
            return None
        return min(containing, key=lambda u: (u.end - u.start, -u.start, -u.first))

    def _next(self, line: int) -> _Unit | None:
        following = [u for u in self.units if u.start > line]
        if not following:
            return None
        return min(following, key=lambda u: (u.start, u.first))


def _group_of(item: ast.Statement) -> str:
    if isinstance(item, ast.HeaderItem):
        return "header"
    if isinstance(item, ast.Section):
        return "section"
    return type(item).__name__


def _route_run(items: list[ast.Statement], item: ast.RouteWhen) -> int:
    """Width to pad conditions to, so arrows line up within a run of when/otherwise lines."""
    index = items.index(item)
    start = index
    while start > 0 and isinstance(items[start - 1], ast.RouteWhen):
        start -= 1
    end = index
    while end + 1 < len(items) and isinstance(items[end + 1], ast.RouteWhen):
        end += 1
    lefts = []
    for other in items[start : end + 1]:
        assert isinstance(other, ast.RouteWhen)
        if other.kind == "otherwise":
            lefts.append(len("otherwise"))
        else:
            lefts.append(len(("also when " if other.kind == "also" else "when ") + format_expr(other.cond)))
    widest = max(lefts)
    return widest if widest <= 60 else 0


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\t", "\\t")
