"""Text of a `.rules` file → syntax tree (`aiguillage.dsl.ast`).

Lark parses with the LALR grammar in `grammar.lark`; a Transformer turns
Lark's tree into the dataclasses of `ast.py`, keeping every position. Parse
errors become `RulesError`s that say, in words, what was expected where.
Comments are collected on the side so the formatter can put them back.

The parser tables are kept in the on-disk cache (`aiguillage.cache`), keyed
by the grammar and the Lark version; parsed files are cached by `parsed.py`
(`parse_file`, re-exported here), so that a warm run never imports Lark.
"""

from __future__ import annotations

import io
import sys
import threading
from datetime import date
from decimal import Decimal
from functools import cache
from pathlib import Path as FilePath

import lark
from lark import Lark, Token, Transformer, v_args
from lark.exceptions import (
    UnexpectedCharacters,
    UnexpectedEOF,
    UnexpectedInput,
    UnexpectedToken,
    VisitError,
)

from aiguillage import cache as disk_cache
from aiguillage.dsl import ast
from aiguillage.dsl.diagnostics import Diagnostic, RulesError, at_position
from aiguillage.dsl.parsed import parse_file

__all__ = ["parse_expression", "parse_file", "parse_text"]

_GRAMMAR = FilePath(__file__).with_name("grammar.lark")
_local = threading.local()


def _collect_comment(token: Token) -> None:
    sink = getattr(_local, "comments", None)
    if sink is not None:
        sink.append(token)


_OPTIONS = {
    "parser": "lalr",
    "lexer": "contextual",
    "propagate_positions": True,
    "maybe_placeholders": False,
    "start": ["start", "expr"],
}


@cache
def _lark() -> Lark:
    """Once per process: from the disk cache (~0.04 s), else built (LALR tables, ~0.15 s) and cached."""
    grammar = _GRAMMAR.read_text(encoding="utf-8")
    entry = disk_cache.key(grammar, repr(sorted(_OPTIONS.items())), "COMMENT", lark.__version__, sys.version)
    saved = disk_cache.load("lark", entry)
    if isinstance(saved, bytes):
        try:
            # The callback is saved by reference (this module's function), so it comes back too.
            return Lark.load(io.BytesIO(saved))
        except Exception:  # noqa: S110 - written by another lark version: rebuild below
            pass
    parser = Lark(grammar, **_OPTIONS, lexer_callbacks={"COMMENT": _collect_comment})
    out = io.BytesIO()
    parser.save(out)
    disk_cache.store("lark", entry, out.getvalue())
    return parser


# --------------------------------------------------------------------------- public API


def parse_text(text: str, path: str = "<rules>") -> ast.RulesFile:
    """Parse ruleset text. Raises `RulesError` with a `FILE:LINE:COL` diagnostic."""
    src = ast.SourceFile(path, text)
    comments: list[Token] = []
    _local.comments = comments
    try:
        tree = _lark().parse(text, start="start")
    except UnexpectedInput as exc:
        raise RulesError([_parse_error(src, exc)]) from None
    finally:
        _local.comments = None
    builder = _Builder(src)
    try:
        rules_file: ast.RulesFile = builder.transform(tree)
    except VisitError as exc:
        if isinstance(exc.orig_exc, RulesError):
            raise exc.orig_exc from None
        raise
    if builder.problems:
        raise RulesError(builder.problems)
    rules_file.comments = [
        ast.Comment(text=str(t).rstrip(), line=t.line, column=t.column, end_line=t.end_line, end_column=t.end_column)
        for t in comments
    ]
    return rules_file


def parse_expression(text: str, src: ast.SourceFile, line: int, column: int) -> ast.Expr:
    """Parse one expression (a message placeholder) found at (line, column) of `src`."""
    _local.comments = None
    try:
        tree = _lark().parse(text, start="expr")
    except UnexpectedInput as exc:
        diag = _parse_error(ast.SourceFile(src.path, text), exc)
        message = diag.message.replace("end of file", "end of the placeholder")
        raise RulesError([at_position(src, line, column + diag.column - 1, message)]) from None
    builder = _Builder(src, line_offset=line - 1, column_offset=column - 1)
    expr = builder.transform(tree)
    if builder.problems:
        raise RulesError(builder.problems)
    return expr


# --------------------------------------------------------------------------- parse errors

_TERMINAL_WORDS = {
    "NAME": "a name",
    "STRING": 'a quoted text ("...")',
    "RULE_ID": "a rule id (e.g. BR-01)",
    "NUMBER": "a number",
    "DATE": "a date (YYYY-MM-DD)",
    "BT_ID": "a business term id (e.g. BT-31)",
    "LIST_NAME": "a code list name",
    "CURRENCY": "a currency code",
    "FORMAT": "a document format (e.g. ubl, factur-x)",
    "VERSION": "a version",
    "REGEX": "a /regular expression/",
    "$END": "the end of the file",
}


def _describe_terminal(name: str) -> str:
    if name in _TERMINAL_WORDS:
        return _TERMINAL_WORDS[name]
    for terminal in _lark().terminals:
        if terminal.name == name and terminal.pattern.type == "str":
            return f"'{terminal.pattern.value}'"
    return name.lower()


def _describe_expected(expected: set[str]) -> str:
    words = sorted({_describe_terminal(e) for e in expected}, key=lambda w: (not w.startswith("'"), w))
    if len(words) > 10:
        words = words[:10] + ["…"]
    if len(words) == 1:
        return words[0]
    return "one of " + ", ".join(words)


def _parse_error(src: ast.SourceFile, exc: UnexpectedInput) -> Diagnostic:
    if isinstance(exc, UnexpectedToken):
        token = exc.token
        if token.type == "$END":
            line, column = _end_position(src)
            return at_position(src, line, column, f"unexpected end of file; expected {_describe_expected(exc.expected)}")
        shown = str(token).replace("\n", " ")
        return at_position(
            src,
            token.line,
            token.column,
            f"unexpected '{shown}'; expected {_describe_expected(exc.expected)}",
            width=max(1, len(shown)),
        )
    if isinstance(exc, UnexpectedCharacters):
        char = src.text[exc.pos_in_stream] if exc.pos_in_stream < len(src.text) else "?"
        hint = ""
        if char == "'":
            hint = ' (texts are written in double quotes: "...")'
        elif char == '"':
            hint = " (a quoted text must end on the same line)"
        return at_position(src, exc.line, exc.column, f"unexpected character {char!r}{hint}")
    if isinstance(exc, UnexpectedEOF):
        line, column = _end_position(src)
        return at_position(src, line, column, f"unexpected end of file; expected {_describe_expected(set(exc.expected))}")
    return at_position(src, getattr(exc, "line", 1) or 1, getattr(exc, "column", 1) or 1, str(exc))


def _end_position(src: ast.SourceFile) -> tuple[int, int]:
    lines = src.text.splitlines() or [""]
    return len(lines), len(lines[-1]) + 1


# --------------------------------------------------------------------------- tree → AST


def unquote(raw: str) -> str:
    """The text of a "quoted" literal, with \\" \\\\ \\n \\t escapes resolved."""
    body = raw[1:-1]
    if "\\" not in body:
        return body
    out: list[str] = []
    i = 0
    while i < len(body):
        ch = body[i]
        if ch == "\\" and i + 1 < len(body):
            nxt = body[i + 1]
            out.append({"n": "\n", "t": "\t"}.get(nxt, nxt))
            i += 2
        else:
            out.append(ch)
            i += 1
    return "".join(out)


def _pos(node: ast.Node, meta_or_token) -> ast.Node:  # noqa: ANN001
    node.line = getattr(meta_or_token, "line", 0) or 0
    node.column = getattr(meta_or_token, "column", 0) or 0
    node.end_line = getattr(meta_or_token, "end_line", 0) or 0
    node.end_column = getattr(meta_or_token, "end_column", 0) or 0
    return node


@v_args(meta=True)
class _Builder(Transformer):
    """Builds `ast` nodes; offsets place placeholder expressions inside their string."""

    def __init__(self, src: ast.SourceFile, *, line_offset: int = 0, column_offset: int = 0) -> None:
        super().__init__()
        self.src = src
        self.line_offset = line_offset
        self.column_offset = column_offset
        self.problems: list[Diagnostic] = []

    # ---- helpers

    def _p(self, node, meta):  # noqa: ANN001, ANN202
        _pos(node, meta)
        if self.line_offset or self.column_offset:
            if node.line == 1:
                node.column += self.column_offset
            if node.end_line == 1:
                node.end_column += self.column_offset
            node.line += self.line_offset
            node.end_line += self.line_offset
        if isinstance(node, ast.Statement):
            node.src = self.src
        return node

    def _tok(self, token: Token) -> ast.Node:
        return self._p(ast.Node(), token)

    def _template(self, token: Token) -> ast.Template:
        return self._p(parse_template(token, self.src, self.line_offset, self.column_offset), token)

    def _date(self, token: Token) -> date:
        try:
            return date.fromisoformat(str(token))
        except ValueError:
            node = self._tok(token)
            self.problems.append(
                at_position(self.src, node.line, node.column, f"{token} is not a real date", width=len(token))
            )
            return date(1, 1, 1)

    # ---- file and header

    def start(self, meta, children):  # noqa: ANN001, ANN201
        node = ast.RulesFile(src=self.src, items=list(children))
        return _pos(node, meta)

    def h_ruleset(self, meta, c):  # noqa: ANN001, ANN201
        return self._p(ast.HeaderItem(key="ruleset", values=[unquote(c[0])], raws=[str(c[0])]), meta)

    def h_version(self, meta, c):  # noqa: ANN001, ANN201
        tok = c[0]
        value = unquote(tok) if tok.type == "STRING" else str(tok)
        return self._p(ast.HeaderItem(key="version", values=[value], raws=[str(tok)]), meta)

    def h_customer(self, meta, c):  # noqa: ANN001, ANN201
        return self._p(ast.HeaderItem(key="customer", values=[unquote(t) for t in c], raws=[str(t) for t in c]), meta)

    def h_effective(self, meta, c):  # noqa: ANN001, ANN201
        return self._p(ast.HeaderItem(key="effective", values=[self._date(c[0])], raws=[str(c[0])]), meta)

    def h_extends(self, meta, c):  # noqa: ANN001, ANN201
        item = ast.HeaderItem(key="extends", values=[unquote(t) for t in c], raws=[str(t) for t in c])
        return self._p(item, meta)

    def h_profile(self, meta, c):  # noqa: ANN001, ANN201
        return self._p(ast.HeaderItem(key="profile", values=[unquote(t) for t in c], raws=[str(t) for t in c]), meta)

    def h_description(self, meta, c):  # noqa: ANN001, ANN201
        return self._p(ast.HeaderItem(key="description", values=[unquote(c[0])], raws=[str(c[0])]), meta)

    def h_allocation(self, meta, c):  # noqa: ANN001, ANN201
        params = [p for _, value, _ in c for p in value]
        return self._p(ast.HeaderItem(key="allocation", values=[], params=params), meta)

    # ---- declarations

    def d_codelist(self, meta, c):  # noqa: ANN001, ANN201
        return self._p(ast.CodelistDecl(name=str(c[0]), source=unquote(c[1]) if len(c) > 1 else None), meta)

    def d_table(self, meta, c):  # noqa: ANN001, ANN201
        decl = ast.TableDecl(name=str(c[0]), source=unquote(c[1]), key=str(c[2]))
        return self._p(self._shaped(decl, c[3:]), meta)

    def d_reference_table(self, meta, c):  # noqa: ANN001, ANN201
        decl = ast.TableDecl(name=str(c[0]), source=None, key=str(c[1]))
        return self._p(self._shaped(decl, c[2:]), meta)

    @staticmethod
    def _shaped(decl: ast.TableDecl, rest: list) -> ast.TableDecl:
        """Attach the optional `shape` block or `schema "file"` shared by both table forms."""
        if rest:
            kind, value = rest[0]
            if kind == "schema":
                decl.schema = value
            else:
                decl.columns = value
        return decl

    def shape_schema(self, meta, c):  # noqa: ANN001, ANN201
        return ("schema", unquote(c[0]))

    def shape_block(self, meta, c):  # noqa: ANN001, ANN201
        return ("block", list(c))

    def column(self, meta, c):  # noqa: ANN001, ANN201
        return self._p(ast.Column(name=str(c[0]), type_name=str(c[1])), meta)

    def required_column(self, meta, c):  # noqa: ANN001, ANN201
        return self._p(ast.Column(name=str(c[0]), type_name=str(c[1]), required=True), meta)

    def d_let(self, meta, c):  # noqa: ANN001, ANN201
        return self._p(ast.LetDecl(name=str(c[0]), expr=c[1]), meta)

    def d_param(self, meta, c):  # noqa: ANN001, ANN201
        return self._p(ast.ParamDecl(name=str(c[0]), value=c[1]), meta)

    def d_include(self, meta, c):  # noqa: ANN001, ANN201
        return self._p(ast.Include(source=unquote(c[0])), meta)

    # ---- sections

    def _section(self, kind, meta, c):  # noqa: ANN001, ANN202
        return self._p(ast.Section(kind=kind, items=list(c)), meta)

    def s_enrich(self, meta, c):  # noqa: ANN001, ANN201
        return self._section("enrich", meta, c)

    def s_validate(self, meta, c):  # noqa: ANN001, ANN201
        return self._section("validate", meta, c)

    def s_route(self, meta, c):  # noqa: ANN001, ANN201
        return self._section("route", meta, c)

    def c_override(self, meta, c):  # noqa: ANN001, ANN201
        return self._p(ast.Override(rule=str(c[0]), severity=str(c[1]), severity_node=self._tok(c[1])), meta)

    def c_disable(self, meta, c):  # noqa: ANN001, ANN201
        return self._p(ast.Disable(rules=[str(t) for t in c], rule_nodes=[self._tok(t) for t in c]), meta)

    def c_disable_when(self, meta, c):  # noqa: ANN001, ANN201
        ids = c[:-1]
        return self._p(ast.Disable(rules=[str(t) for t in ids], rule_nodes=[self._tok(t) for t in ids], when=c[-1]), meta)

    # ---- rules

    def enrich_rule(self, meta, c):  # noqa: ANN001, ANN201
        name_tok = c[0]
        quoted = name_tok.type == "STRING"
        rule = ast.EnrichRule(name=unquote(name_tok) if quoted else str(name_tok), quoted=quoted)
        for child in c[1:]:
            if isinstance(child, ast.Scope):
                rule.scopes.append(child)
            elif isinstance(child, ast.Action):
                rule.actions.append(child)
            elif isinstance(child, tuple) and child[0] == "when":
                rule.when = child[1]
        return self._p(rule, meta)

    def set_action(self, meta, c):  # noqa: ANN001, ANN201
        return self._p(ast.Action(mode="set", target=c[0], expr=c[1]), meta)

    def fill_action(self, meta, c):  # noqa: ANN001, ANN201
        return self._p(ast.Action(mode="fill", target=c[0], expr=c[1]), meta)

    def validate_rule(self, meta, c):  # noqa: ANN001, ANN201
        rule = ast.ValidateRule(id=str(c[0]), severity=str(c[1]), severity_node=self._tok(c[1]))
        rest = list(c[2:])
        if rest and isinstance(rest[0], Token):
            tok = rest.pop(0)
            rule.messages.append(self._p(ast.Message(lang="en", template=self._template(tok)), tok))
            rule.inline_message = True
        for child in rest:
            if isinstance(child, ast.Scope):
                rule.scopes.append(child)
            elif isinstance(child, list):
                rule.messages.extend(child)
            elif child[0] == "when":
                if rule.when is not None:
                    rule.duplicates.append(child[2])
                rule.when = child[1]
            elif child[0] == "assert":
                if rule.assertion is not None:
                    rule.duplicates.append(child[2])
                rule.assertion = child[1]
        return self._p(rule, meta)

    def family_rule(self, meta, c):  # noqa: ANN001, ANN201
        family = ast.Family(name=str(c[0]), severity=str(c[1]), severity_node=self._tok(c[1]))
        rest = list(c[2:])
        if rest and isinstance(rest[0], Token):
            tok = rest.pop(0)
            family.messages.append(self._p(ast.Message(lang="en", template=self._template(tok)), tok))
            family.inline_message = True
        for child in rest:
            if isinstance(child, ast.Scope):
                family.scopes.append(child)
            elif isinstance(child, ast.FamilyEntry):
                family.entries.append(child)
            elif isinstance(child, list):
                family.messages.extend(child)
            elif isinstance(child, tuple) and child[0] == "when":
                if family.when is not None:
                    family.duplicates.append(child[2])
                family.when = child[1]
            else:
                family.key = child
        self._p(family, meta)
        for entry in family.entries:
            member = ast.ValidateRule(
                id=entry.id,
                severity=family.severity,
                severity_node=family.severity_node,
                messages=family.messages,
                scopes=family.scopes,
                when=family.when,
                family=family,
                keys=tuple(entry.keys),
            )
            for name in ("line", "column", "end_line", "end_column", "src"):
                setattr(member, name, getattr(entry, name, None) if name != "src" else family.src)
            family.members.append(member)
        return family

    def family_entry(self, meta, c):  # noqa: ANN001, ANN201
        return self._p(ast.FamilyEntry(id=str(c[0]), keys=[unquote(t) for t in c[1:]]), meta)

    def message(self, meta, c):  # noqa: ANN001, ANN201
        return list(c)

    def lang_text(self, meta, c):  # noqa: ANN001, ANN201
        return self._p(ast.Message(lang=str(c[0]), template=self._template(c[1])), meta)

    def assert_clause(self, meta, c):  # noqa: ANN001, ANN201
        return ("assert", c[0], self._p(ast.Node(), meta))

    def when_clause(self, meta, c):  # noqa: ANN001, ANN201
        return ("when", c[0], self._p(ast.Node(), meta))

    def scope(self, meta, c):  # noqa: ANN001, ANN201
        return self._p(ast.Scope(var=str(c[0]), source=c[1], where=c[2] if len(c) > 2 else None), meta)

    # ---- routes

    def route_when(self, meta, c):  # noqa: ANN001, ANN201
        return self._p(ast.RouteWhen(kind="when", cond=c[0], outcomes=c[1]), meta)

    def route_also(self, meta, c):  # noqa: ANN001, ANN201
        return self._p(ast.RouteWhen(kind="also", cond=c[0], outcomes=c[1]), meta)

    def route_otherwise(self, meta, c):  # noqa: ANN001, ANN201
        return self._p(ast.RouteWhen(kind="otherwise", cond=None, outcomes=c[0]), meta)

    def decision(self, meta, c):  # noqa: ANN001, ANN201
        rest = list(c)
        name = unquote(rest.pop(0)) if isinstance(rest[0], Token) else None
        policy = rest.pop(0)
        inputs = rest.pop(0)
        return self._p(ast.Decision(name=name, policy=policy, inputs=inputs, rows=rest), meta)

    def first_match(self, meta, c):  # noqa: ANN001, ANN201
        return "first"

    def all_matches(self, meta, c):  # noqa: ANN001, ANN201
        return "all"

    def decision_header(self, meta, c):  # noqa: ANN001, ANN201
        return list(c)

    def decision_row(self, meta, c):  # noqa: ANN001, ANN201
        return self._p(ast.Row(cells=list(c[:-1]), outcomes=c[-1]), meta)

    def cell_any(self, meta, c):  # noqa: ANN001, ANN201
        return self._p(ast.Cell(kind="any"), meta)

    def cell_compare(self, meta, c):  # noqa: ANN001, ANN201
        return self._p(ast.Cell(kind="compare", op=_op(c[0]), expr=c[1]), meta)

    def cell_in_codelist(self, meta, c):  # noqa: ANN001, ANN201
        return self._p(ast.Cell(kind="in_codelist", codelist=str(c[0])), meta)

    def cell_not_in_codelist(self, meta, c):  # noqa: ANN001, ANN201
        return self._p(ast.Cell(kind="not_in_codelist", codelist=str(c[0])), meta)

    def cell_in_list(self, meta, c):  # noqa: ANN001, ANN201
        return self._p(ast.Cell(kind="in_list", items=list(c)), meta)

    def cell_not_in_list(self, meta, c):  # noqa: ANN001, ANN201
        return self._p(ast.Cell(kind="not_in_list", items=list(c)), meta)

    def cell_exists(self, meta, c):  # noqa: ANN001, ANN201
        return self._p(ast.Cell(kind="exists"), meta)

    def cell_missing(self, meta, c):  # noqa: ANN001, ANN201
        return self._p(ast.Cell(kind="missing"), meta)

    def cell_equals(self, meta, c):  # noqa: ANN001, ANN201
        return self._p(ast.Cell(kind="equals", op="=", expr=c[0]), meta)

    def outcomes(self, meta, c):  # noqa: ANN001, ANN201
        return list(c)

    def o_approval(self, meta, c):  # noqa: ANN001, ANN201
        params = [p for _, value, _ in c[1:] for p in value]  # the optional `with (...)`
        return self._p(ast.ApprovalOutcome(role=unquote(c[0]), raw=str(c[0]), params=params), meta)

    def o_hold(self, meta, c):  # noqa: ANN001, ANN201
        return self._p(ast.HoldOutcome(reason=self._template(c[0])), meta)

    def o_channel(self, meta, c):  # noqa: ANN001, ANN201
        outcome = ast.ChannelOutcome(channel=str(c[0]))
        for kind, value, node in c[1:]:
            if kind == "format":
                outcome.format, outcome.format_node = value, node
            elif kind == "to":
                outcome.to = value
            else:
                outcome.params.extend(value)
        return self._p(outcome, meta)

    def opt_format(self, meta, c):  # noqa: ANN001, ANN201
        return ("format", str(c[0]), self._tok(c[0]))

    def opt_to(self, meta, c):  # noqa: ANN001, ANN201
        return ("to", self._text_or_expr(c[0]), None)

    def opt_params(self, meta, c):  # noqa: ANN001, ANN201
        return ("params", list(c), None)

    def param(self, meta, c):  # noqa: ANN001, ANN201
        return (str(c[0]), self._text_or_expr(c[1]))

    def _text_or_expr(self, expr: ast.Expr) -> ast.Expr | ast.Template:
        """A quoted text in a route option may hold placeholders, like a message."""
        if isinstance(expr, ast.Literal) and expr.kind == "text":
            token = Token("STRING", expr.raw, line=expr.line, column=expr.column)
            token.end_line, token.end_column = expr.end_line, expr.end_column
            template = parse_template(token, self.src, 0, 0)
            return _pos(template, expr)
        return expr

    # ---- expressions

    def if_expr(self, meta, c):  # noqa: ANN001, ANN201
        return self._p(ast.IfExpr(cond=c[0], then=c[1], otherwise=c[2]), meta)

    def quant_kind(self, meta, c):  # noqa: ANN001, ANN201
        return str(c[0])

    def quantifier(self, meta, c):  # noqa: ANN001, ANN201
        return self._p(ast.Quantifier(kind=c[0], var=str(c[1]), source=c[2], body=c[3]), meta)

    def or_(self, meta, c):  # noqa: ANN001, ANN201
        return self._p(ast.Binary(op="or", left=c[0], right=c[1]), meta)

    def and_(self, meta, c):  # noqa: ANN001, ANN201
        return self._p(ast.Binary(op="and", left=c[0], right=c[1]), meta)

    def not_(self, meta, c):  # noqa: ANN001, ANN201
        return self._p(ast.Unary(op="not", operand=c[0]), meta)

    def compare(self, meta, c):  # noqa: ANN001, ANN201
        return self._p(ast.Compare(op=_op(c[1]), left=c[0], right=c[2]), meta)

    def comp_op(self, meta, c):  # noqa: ANN001, ANN201
        return str(c[0])

    def _test(self, op, meta, c, arg=None, flags=""):  # noqa: ANN001, ANN202
        return self._p(ast.Test(op=op, operand=c[0], arg=arg, flags=flags), meta)

    def exists(self, meta, c):  # noqa: ANN001, ANN201
        return self._test("exists", meta, c)

    def missing(self, meta, c):  # noqa: ANN001, ANN201
        return self._test("missing", meta, c)

    def empty(self, meta, c):  # noqa: ANN001, ANN201
        return self._test("empty", meta, c)

    def not_empty(self, meta, c):  # noqa: ANN001, ANN201
        return self._test("not_empty", meta, c)

    def in_codelist(self, meta, c):  # noqa: ANN001, ANN201
        node = self._test("in_codelist", meta, c, arg=str(c[1]))
        node.arg_node = self._tok(c[1])
        return node

    def not_in_codelist(self, meta, c):  # noqa: ANN001, ANN201
        node = self._test("not_in_codelist", meta, c, arg=str(c[1]))
        node.arg_node = self._tok(c[1])
        return node

    def in_list(self, meta, c):  # noqa: ANN001, ANN201
        return self._test("in_list", meta, c, arg=list(c[1:]))

    def not_in_list(self, meta, c):  # noqa: ANN001, ANN201
        return self._test("not_in_list", meta, c, arg=list(c[1:]))

    def matches(self, meta, c):  # noqa: ANN001, ANN201
        raw = str(c[1])
        body, _, flags = raw[1:].rpartition("/")
        node = self._test("matches", meta, c, arg=body.replace("\\/", "/"), flags=flags)
        node.arg_node = self._tok(c[1])
        node.raw = raw
        return node

    def starts_with(self, meta, c):  # noqa: ANN001, ANN201
        return self._test("starts_with", meta, c, arg=c[1])

    def ends_with(self, meta, c):  # noqa: ANN001, ANN201
        return self._test("ends_with", meta, c, arg=c[1])

    def contains(self, meta, c):  # noqa: ANN001, ANN201
        return self._test("contains", meta, c, arg=c[1])

    def has(self, meta, c):  # noqa: ANN001, ANN201
        return self._p(ast.Has(what=c[0]), meta)

    def has_what(self, meta, c):  # noqa: ANN001, ANN201
        return str(c[0])

    def has_finding(self, meta, c):  # noqa: ANN001, ANN201
        return self._p(ast.Has(what="finding", rule=str(c[0])), meta)

    def _binary(self, op, meta, c):  # noqa: ANN001, ANN202
        return self._p(ast.Binary(op=op, left=c[0], right=c[1]), meta)

    def add(self, meta, c):  # noqa: ANN001, ANN201
        return self._binary("+", meta, c)

    def sub(self, meta, c):  # noqa: ANN001, ANN201
        return self._binary("-", meta, c)

    def mul(self, meta, c):  # noqa: ANN001, ANN201
        return self._binary("*", meta, c)

    def div(self, meta, c):  # noqa: ANN001, ANN201
        return self._binary("/", meta, c)

    def neg(self, meta, c):  # noqa: ANN001, ANN201
        return self._p(ast.Unary(op="neg", operand=c[0]), meta)

    def number(self, meta, c):  # noqa: ANN001, ANN201
        return self._p(ast.Literal(value=Decimal(str(c[0])), kind="number", raw=str(c[0])), meta)

    def money(self, meta, c):  # noqa: ANN001, ANN201
        return self._p(ast.Money(amount=Decimal(str(c[0])), currency=str(c[1]), raw=f"{c[0]} {c[1]}"), meta)

    def string(self, meta, c):  # noqa: ANN001, ANN201
        return self._p(ast.Literal(value=unquote(c[0]), kind="text", raw=str(c[0])), meta)

    def date(self, meta, c):  # noqa: ANN001, ANN201
        return self._p(ast.Literal(value=self._date(c[0]), kind="date", raw=str(c[0])), meta)

    def true(self, meta, c):  # noqa: ANN001, ANN201
        return self._p(ast.Literal(value=True, kind="bool", raw="true"), meta)

    def false(self, meta, c):  # noqa: ANN001, ANN201
        return self._p(ast.Literal(value=False, kind="bool", raw="false"), meta)

    def today(self, meta, c):  # noqa: ANN001, ANN201
        return self._p(ast.Today(), meta)

    def call(self, meta, c):  # noqa: ANN001, ANN201
        return self._p(ast.Call(name=str(c[0]), args=[a for a in c[1:] if a is not None]), meta)

    def arg(self, meta, c):  # noqa: ANN001, ANN201
        return self._p(ast.Arg(expr=c[0], where=c[1] if len(c) > 1 else None), meta)

    def lookup(self, meta, c):  # noqa: ANN001, ANN201
        node = ast.Lookup(table=str(c[0]), key=c[1], column_name=str(c[2]) if len(c) > 2 else None)
        node.table_node = self._tok(c[0])
        return self._p(node, meta)

    def path(self, meta, c):  # noqa: ANN001, ANN201
        return self._p(ast.Path(segments=[str(t) for t in c]), meta)

    def bt_path(self, meta, c):  # noqa: ANN001, ANN201
        return self._p(ast.Path(segments=[], bt=str(c[0])), meta)


def _op(op: str) -> str:
    return "=" if op == "==" else op


# --------------------------------------------------------------------------- templates


def parse_template(token: Token, src: ast.SourceFile, line_offset: int, column_offset: int) -> ast.Template:
    """Split a quoted text into literal parts and `{expression}` placeholders."""
    raw = str(token)
    body = raw[1:-1]
    line = token.line + line_offset
    base_column = token.column + (column_offset if token.line == 1 else 0) + 1
    parts: list[str | ast.Expr] = []
    text: list[str] = []
    i = 0
    while i < len(body):
        ch = body[i]
        if ch == "\\" and i + 1 < len(body):
            nxt = body[i + 1]
            text.append({"n": "\n", "t": "\t"}.get(nxt, nxt))
            i += 2
            continue
        if ch in "{}" and body[i + 1 : i + 2] == ch:
            text.append(ch)
            i += 2
            continue
        if ch == "}":
            raise RulesError([at_position(src, line, base_column + i, "unmatched '}' in text; write '}}' for a brace")])
        if ch == "{":
            end = body.find("}", i + 1)
            if end < 0:
                raise RulesError([at_position(src, line, base_column + i, "unclosed '{' in text; write '{{' for a brace")])
            inner = body[i + 1 : end]
            if not inner.strip():
                raise RulesError([at_position(src, line, base_column + i, "empty placeholder '{}' in text")])
            if text:
                parts.append("".join(text))
                text = []
            lead = len(inner) - len(inner.lstrip())
            parts.append(parse_expression(unquote('"' + inner.strip() + '"'), src, line, base_column + i + 1 + lead))
            i = end + 1
            continue
        text.append(ch)
        i += 1
    if text:
        parts.append("".join(text))
    return ast.Template(raw=raw, parts=parts)
