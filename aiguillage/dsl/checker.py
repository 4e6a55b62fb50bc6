"""The checker: every name, type and reference in a ruleset, before it runs.

It resolves each field name against the catalogue (with did-you-mean), gives
every expression a type and rejects mixing them (a date compared with an
amount), checks code lists, tables, functions, severities, channels and
formats, finds duplicate rule ids and routes that can never match, and
annotates the tree for the compiler: how each name is reached, in which
context (`for each`, `where`, `every`), under which Python variable.

Semantics it enforces, close to Schematron so official verdicts carry over:
a value that repeats (one per line) is never silently compared as if it were
one value; it must go through `count`, `sum`, `min`, `max`, `exists`,
`every`/`any`/`no` or a `for each` scope.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from aiguillage.dsl import ast, schema
from aiguillage.dsl.allocation_params import check_allocation_params
from aiguillage.dsl.approval_params import check_approval_params
from aiguillage.dsl.diagnostics import Diagnostic, at_node
from aiguillage.dsl.formatter import format_cell, format_expr
from aiguillage.dsl.functions import AGGREGATES, FUNCTIONS
from aiguillage.dsl.refdata import COLUMN_TYPES, Codelist, Table
from aiguillage.dsl.types import (
    BOOL,
    DATE,
    NUMBER,
    ROW,
    Frame,
    LookupRef,
    PathRef,
    Type,
)

SEVERITIES = ("fatal", "error", "warning", "info")
CHANNELS = ("peppol", "edi", "email", "print", "fax", "portal", "pa")
FORMATS = ("ubl", "cii", "factur-x", "pdf", "edifact", "json", "xrechnung")
LANG = re.compile(r"^[a-z]{2}$")

try:  # the regex parser moved in 3.11; both give the same tree
    from re import _parser as _sre_parse  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover
    import sre_parse as _sre_parse  # type: ignore[no-redef]


@dataclass(eq=False)
class Scope:
    """Names visible at one point: frames (innermost last), lets, tables, code lists."""

    frames: list[Frame]
    section: str
    lets: dict[str, ast.LetDecl]

    def with_frames(self, frames: list[Frame]) -> Scope:
        return Scope(self.frames + frames, self.section, self.lets)


@dataclass(eq=False)
class Declarations:
    """What a ruleset can use: its own declarations plus everything it extends."""

    codelists: dict[str, Codelist] = field(default_factory=dict)
    tables: dict[str, ast.TableDecl] = field(default_factory=dict)
    lets: dict[str, ast.LetDecl] = field(default_factory=dict)
    #: Params declared (`param`), own and inherited: name → the declaring statement.
    params: dict[str, ast.ParamDecl] = field(default_factory=dict)
    #: Every rule id visible (own and inherited) → the statement.
    rules: dict[str, ast.Statement] = field(default_factory=dict)
    #: Rule id → name of the ruleset that defines it (inherited rules only).
    inherited: dict[str, str] = field(default_factory=dict)


class Checker:
    """Checks the statements of one ruleset (its files spliced) and annotates them."""

    def __init__(self, decls: Declarations, load_codelist: Callable[[ast.CodelistDecl], Codelist | str], load_table: Callable[[ast.TableDecl], Table | str]) -> None:
        self.decls = decls
        self.load_codelist = load_codelist
        self.load_table = load_table
        self.diagnostics: list[Diagnostic] = []
        self.src: ast.SourceFile | None = None
        self._counter = 0
        self.root_frame = Frame("root", schema.root(), "inv")

    # ---- reporting

    def error(self, node: ast.Node, message: str) -> None:
        assert self.src is not None
        self.diagnostics.append(at_node(self.src, node, message))

    def warning(self, node: ast.Node, message: str) -> None:
        assert self.src is not None
        self.diagnostics.append(at_node(self.src, node, message, severity="warning"))

    def _var(self, prefix: str) -> str:
        self._counter += 1
        return f"{prefix}{self._counter}"

    # ---- statements

    def check(self, items: list[ast.Statement]) -> None:
        own_rules: dict[str, ast.Statement] = {}
        for item in items:
            self.src = item.src
            if isinstance(item, ast.CodelistDecl):
                self.codelist(item)
            elif isinstance(item, ast.TableDecl):
                self.table(item)
            elif isinstance(item, ast.LetDecl):
                self.let(item)
            elif isinstance(item, ast.ParamDecl):
                self.param(item)
            elif isinstance(item, ast.HeaderItem) and item.key == "allocation":
                for node, message in check_allocation_params(item):
                    self.error(node, message)
            elif isinstance(item, ast.Section):
                for child in item.items:
                    self.src = child.src
                    if isinstance(child, ast.ValidateRule | ast.EnrichRule):
                        self.rule_id(child, own_rules)
                    elif isinstance(child, ast.Family):
                        for member in child.members:
                            self.rule_id(member, own_rules)
        self.decls.rules.update(own_rules)
        for item in items:
            if isinstance(item, ast.Section):
                self.section(item)

    def rule_id(self, rule: ast.ValidateRule | ast.EnrichRule, own: dict[str, ast.Statement]) -> None:
        rid = rule.id if isinstance(rule, ast.ValidateRule) else rule.name
        if rid in own:
            first = own[rid]
            where = f"{first.src.path}:{first.line}" if first.src else f"line {first.line}"
            self.error(rule, f"duplicate rule id {rid} (first defined at {where})")
        elif rid in self.decls.inherited:
            self.error(rule, f"rule {rid} is already defined in ruleset {self.decls.inherited[rid]}; use 'override' or 'disable' to change it")
        else:
            own[rid] = rule

    def codelist(self, decl: ast.CodelistDecl) -> None:
        loaded = self.load_codelist(decl)
        if isinstance(loaded, str):
            self.error(decl, loaded)
            return
        self.decls.codelists[decl.name] = loaded

    def table(self, decl: ast.TableDecl) -> None:
        if decl.name in self.decls.tables and self.decls.tables[decl.name] is not decl:
            self.error(decl, f"table {decl.name} is declared twice")
            return
        if decl.columns is not None:
            seen: set[str] = set()
            ok = True
            for col in decl.columns:
                if col.type_name not in COLUMN_TYPES:
                    near = schema.suggest(col.type_name, COLUMN_TYPES)
                    hint = f"; did you mean {near[0]}?" if near else f"; use one of {', '.join(COLUMN_TYPES)}"
                    self.error(col, f"unknown column type '{col.type_name}'{hint}")
                    ok = False
                if col.name in seen:
                    self.error(col, f"column {col.name} is declared twice")
                    ok = False
                seen.add(col.name)
            if decl.key not in seen:
                self.error(decl, f"the key column '{decl.key}' is not in the shape")
                ok = False
            if not ok:
                return
        loaded = self.load_table(decl)
        if isinstance(loaded, str):
            self.error(decl, loaded)
            return
        decl.data = loaded
        self.decls.tables[decl.name] = decl

    def let(self, decl: ast.LetDecl) -> None:
        if decl.name in self.decls.lets:
            self.error(decl, f"'{decl.name}' is already defined by an earlier let")
            return
        if decl.name in schema.root().children or decl.name == "invoice":
            self.error(decl, f"'{decl.name}' is a field of the invoice; give the let another name")
            return
        scope = Scope([self.root_frame], "let", dict(self.decls.lets))
        t = self.expr(decl.expr, scope)
        if t is not None and (t.many or t.kind in ("group", "row")):
            self.error(decl.expr, f"a let must be one value, but this is {t.describe()}")
        self.decls.lets[decl.name] = decl

    def param(self, decl: ast.ParamDecl) -> None:
        """Declare a param (a let whose value is read at evaluation), or set an inherited one again."""
        value = decl.value
        if not isinstance(value, ast.Literal) or value.kind == "date":
            self.error(value, "a param's value is a number, a text, true or false, written as such")
            return
        declared = self.decls.params.get(decl.name)
        if declared is not None:
            first = declared.value
            assert isinstance(first, ast.Literal)
            if first.kind != value.kind:
                self.error(value, f"param {decl.name} is {Type(first.kind).describe()}, not {Type(value.kind).describe()}")
            return
        if decl.name in self.decls.lets:
            self.error(decl, f"'{decl.name}' is already defined by an earlier let")
            return
        if decl.name in schema.root().children or decl.name == "invoice":
            self.error(decl, f"'{decl.name}' is a field of the invoice; give the param another name")
            return
        ref = ast.ParamRef(name=decl.name, kind=value.kind)
        ref.at(decl)
        ref.type = Type(value.kind)
        decl.let = ast.LetDecl(name=decl.name, expr=ref, src=decl.src)
        decl.let.at(decl)
        self.decls.lets[decl.name] = decl.let
        self.decls.params[decl.name] = decl

    def section(self, section: ast.Section) -> None:
        for item in section.items:
            self.src = item.src
            if isinstance(item, ast.ValidateRule):
                self.validate_rule(item)
            elif isinstance(item, ast.Family):
                self.family(item)
            elif isinstance(item, ast.EnrichRule):
                self.enrich_rule(item)
            elif isinstance(item, ast.Override):
                self.override(item)
            elif isinstance(item, ast.Disable):
                self.disable(item)
            elif isinstance(item, ast.RouteWhen):
                scope = Scope([self.root_frame], "route", self.decls.lets)
                if item.cond is not None:
                    self.condition(item.cond, scope, "a route condition")
                self.outcomes(item.outcomes, scope)
            elif isinstance(item, ast.Decision):
                self.decision(item)
        if section.kind == "route":
            self.reachability(section)

    def _inherited_rule(self, node: ast.Node, rid: str, what: str) -> ast.Statement | None:
        rule = self.decls.rules.get(rid)
        if rule is None:
            near = schema.suggest(rid, self.decls.rules)
            hint = f"; did you mean {near[0]}?" if near else ""
            self.error(node, f"cannot {what} unknown rule {rid}{hint}")
            return None
        if rid not in self.decls.inherited:
            self.warning(node, f"rule {rid} is defined in this ruleset; change it there instead of using '{what}'")
        return rule

    def override(self, item: ast.Override) -> None:
        rule = self._inherited_rule(item, item.rule, "override")
        if rule is not None and not isinstance(rule, ast.ValidateRule):
            self.error(item, f"rule {item.rule} is an enrich rule; only validate rules have a severity")
        self.severity(item.severity, item.severity_node or item)

    def disable(self, item: ast.Disable) -> None:
        for rid, node in zip(item.rules, item.rule_nodes, strict=True):
            self._inherited_rule(node, rid, "disable")
        if item.when is not None:  # about the invoice as a whole: no `for each` here
            self.condition(item.when, Scope([self.root_frame], "validate", self.decls.lets), "the 'when' of 'disable'")

    def severity(self, value: str, node: ast.Node) -> None:
        if value not in SEVERITIES:
            near = schema.suggest(value, SEVERITIES, n=1)
            hint = f"; did you mean {near[0]}?" if near else ""
            self.error(node, f"unknown severity '{value}'{hint} (use {', '.join(SEVERITIES)})")

    # ---- rules

    def scopes(self, scopes: list[ast.Scope], scope: Scope) -> Scope:
        for s in scopes:
            frames = self.iteration(s.var, s.source, scope, "scope")
            if frames is None:
                return scope
            s.frames = frames
            scope = scope.with_frames(frames)
            if s.where is not None:
                self.condition(s.where, scope, "the 'where' of 'for each'")
        return scope

    def validate_rule(self, rule: ast.ValidateRule) -> None:
        self.severity(rule.severity, rule.severity_node or rule)
        for dup in rule.duplicates:
            self.error(dup, f"rule {rule.id} has this clause twice")
        scope = self.scopes(rule.scopes, Scope([self.root_frame], "validate", self.decls.lets))
        if rule.when is not None:
            self.condition(rule.when, scope, "'when'")
        if rule.assertion is None:
            self.error(rule, f"rule {rule.id} has no 'assert': say what must be true")
        else:
            self.condition(rule.assertion, scope, "'assert'")
        if not rule.messages:
            self.error(rule, f"rule {rule.id} has no message: write one after the severity, or a 'message' clause")
        langs: set[str] = set()
        for msg in rule.messages:
            if not LANG.match(msg.lang):
                self.error(msg, f"'{msg.lang}' is not a language code (two letters, e.g. en, fr)")
            elif msg.lang in langs:
                self.error(msg, f"rule {rule.id} has two messages in '{msg.lang}'")
            langs.add(msg.lang)
            self.template(msg.template, scope)

    def family(self, family: ast.Family) -> None:
        """A family is checked once: its members share every clause but their keys."""
        self.severity(family.severity, family.severity_node or family)
        for dup in family.duplicates:
            self.error(dup, f"family {family.name} has this clause twice")
        scope = self.scopes(family.scopes, Scope([self.root_frame], "validate", self.decls.lets))
        if family.when is not None:
            self.condition(family.when, scope, "'when'")
        if family.key is not None:
            t = self.expr(family.key, scope)
            if t is not None and (t.many or t.kind != "text"):
                self.error(family.key, f"'lookup' must be one text, but this is {t.describe()}")
        if not family.messages:
            self.error(family, f"family {family.name} has no message: write one after the severity, or a 'message' clause")
        langs: set[str] = set()
        for msg in family.messages:
            if not LANG.match(msg.lang):
                self.error(msg, f"'{msg.lang}' is not a language code (two letters, e.g. en, fr)")
            elif msg.lang in langs:
                self.error(msg, f"family {family.name} has two messages in '{msg.lang}'")
            langs.add(msg.lang)
            self.template(msg.template, scope)
        owners: dict[str, str] = {}
        for entry in family.entries:
            if not entry.id.startswith(family.name + "-"):
                self.error(entry, f"rule {entry.id} of family {family.name} must be named {family.name}-…")
            for key in entry.keys:
                if key in owners and owners[key] == entry.id:
                    self.error(entry, f"rule {entry.id} lists the key {key!r} twice")
                owners.setdefault(key, entry.id)

    def enrich_rule(self, rule: ast.EnrichRule) -> None:
        scope = self.scopes(rule.scopes, Scope([self.root_frame], "enrich", self.decls.lets))
        if rule.when is not None:
            self.condition(rule.when, scope, "'when'")
        for action in rule.actions:
            self.action(action, scope)

    def action(self, action: ast.Action, scope: Scope) -> None:
        target = action.target
        value_type = self.expr(action.expr, scope)
        ref = self.resolve(target, scope)
        if ref is None:
            return
        node = ref.node
        if ref.let is not None or node is None or (ref.base is not None and ref.base.item):
            self.error(target, f"'{target.text}' is not a field of the invoice; only invoice fields can be set")
            return
        if ref.base is not None and ref.base.kind not in ("root", "scope", "step"):
            self.error(target, "only fields of the invoice or of the 'for each' occurrence can be set")
            return
        if node.path.startswith(("syntax_facts", "provenance")):
            self.error(target, f"{node.bare_path} describes how the invoice was read and cannot be set")
            return
        if node.is_group:
            self.error(target, f"{node.bare_path} is a group of fields; set its fields one by one")
            return
        if ref.many:
            self.error(target, f"{node.bare_path} repeats (one per {ref.steps[0].label() if ref.steps else 'occurrence'}); set it inside 'for each'")
            return
        target.ref = ref
        if value_type is None:
            return
        if value_type.many:
            self.error(action.expr, f"the new value must be one value, but this is {value_type.describe()}")
        elif value_type.kind != node.kind:
            self.error(action.expr, f"{node.bare_path} is {Type(node.kind).describe()}, but the new value is {value_type.describe()}")

    def template(self, template: ast.Template, scope: Scope) -> None:
        for part in template.parts:
            if isinstance(part, ast.Expr):
                t = self.expr(part, scope)
                if t is not None and (t.many or t.kind in ("group", "row")):
                    self.error(part, f"a placeholder shows one value, but this is {t.describe()}")

    # ---- routes

    def outcomes(self, outcomes: list[ast.Outcome], scope: Scope) -> None:
        for o in outcomes:
            if isinstance(o, ast.ChannelOutcome):
                if o.channel not in CHANNELS:
                    near = schema.suggest(o.channel, CHANNELS, n=1)
                    hint = f"; did you mean {near[0]}?" if near else f" (use {', '.join(CHANNELS)})"
                    self.error(o, f"unknown channel '{o.channel}'{hint}")
                if o.format is not None and o.format not in FORMATS:
                    near = schema.suggest(o.format, FORMATS, n=1)
                    hint = f"; did you mean {near[0]}?" if near else f" (use {', '.join(FORMATS)})"
                    self.error(o.format_node or o, f"unknown format '{o.format}'{hint}")
                values = ([o.to] if o.to is not None else []) + [v for _, v in o.params]
                names: set[str] = set()
                for name, _ in o.params:
                    if name in names:
                        self.error(o, f"parameter '{name}' is given twice")
                    names.add(name)
                for value in values:
                    if isinstance(value, ast.Template):
                        self.template(value, scope)
                    else:
                        t = self.expr(value, scope)
                        if t is not None and (t.many or t.kind in ("group", "row")):
                            self.error(value, f"a route option takes one value, but this is {t.describe()}")
            elif isinstance(o, ast.HoldOutcome):
                self.template(o.reason, scope)
            elif isinstance(o, ast.ApprovalOutcome):
                if not o.role.strip():
                    self.error(o, "approval needs a role, e.g. approval by \"finance\"")
                for node, message in check_approval_params(o):
                    self.error(node, message)

    def decision(self, table: ast.Decision) -> None:
        scope = Scope([self.root_frame], "route", self.decls.lets)
        kinds: list[Type | None] = []
        for e in table.inputs:
            t = self.expr(e, scope)
            if t is not None and (t.many or t.kind in ("group", "row")):
                self.error(e, f"a decision column takes one value, but this is {t.describe()}")
                t = None
            kinds.append(t)
        seen: dict[str, ast.Row] = {}
        catch_all: ast.Row | None = None
        for row in table.rows:
            if len(row.cells) != len(table.inputs):
                cells, columns = len(row.cells), len(table.inputs)
                self.error(row, f"this row has {cells} cell{'s' if cells != 1 else ''} but the table has {columns} column{'s' if columns != 1 else ''}")
            for cell, t in zip(row.cells, kinds, strict=False):
                self.cell(cell, t, scope)
            self.outcomes(row.outcomes, scope)
            key = " | ".join(format_cell(c) for c in row.cells)
            if table.policy == "first" and catch_all is not None:
                self.error(row, f"this row can never match: the row on line {catch_all.line} matches everything before it")
            elif key in seen:
                self.error(row, f"this row can never match: it repeats the row on line {seen[key].line}")
            seen.setdefault(key, row)
            if catch_all is None and all(c.kind == "any" for c in row.cells):
                catch_all = row

    def cell(self, cell: ast.Cell, t: Type | None, scope: Scope) -> None:
        if cell.kind in ("any", "exists", "missing"):
            return
        if cell.kind in ("in_codelist", "not_in_codelist"):
            self.codelist_name(cell.codelist or "", cell)
            if t is not None and t.kind != "text":
                self.error(cell, f"a code list holds texts, but this column is {t.describe()}")
            return
        exprs = cell.items if cell.kind in ("in_list", "not_in_list") else [cell.expr]
        for e in exprs:
            et = self.expr(e, scope)
            if et is None or t is None:
                continue
            if et.many or et.kind != t.kind:
                self.error(e, f"this column is {t.describe()}, but the cell holds {et.describe()}")
            elif cell.kind == "compare" and cell.op not in ("=", "!=") and t.kind not in ("number", "date", "text"):
                self.error(cell, f"'{cell.op}' cannot compare {t.describe()}")

    def reachability(self, section: ast.Section) -> None:
        """Routes that can never match: after `otherwise`, after an always-true one, repeats, always-false."""
        otherwise: ast.RouteWhen | None = None
        always: ast.RouteWhen | None = None
        seen: dict[str, ast.RouteWhen] = {}
        for item in section.items:
            if not isinstance(item, ast.RouteWhen) or item.kind == "also":
                continue
            self.src = item.src
            if item.kind == "otherwise":
                if otherwise is not None:
                    self.error(item, f"this 'otherwise' can never be used: there is already one on line {otherwise.line}")
                otherwise = otherwise or item
                continue
            assert item.cond is not None
            key = format_expr(item.cond)
            if otherwise is not None:
                self.error(item, f"this route can never match: it comes after 'otherwise' (line {otherwise.line})")
            elif always is not None:
                self.error(item, f"this route can never match: the route on line {always.line} always matches")
            elif key in seen:
                self.error(item, f"this route can never match: the same condition is on line {seen[key].line}")
            elif _constant(item.cond) is False:
                self.error(item, "this route can never match: its condition is always false")
            seen.setdefault(key, item)
            if always is None and _constant(item.cond) is True:
                always = item

    # ---- expressions

    def condition(self, e: ast.Expr, scope: Scope, what: str) -> None:
        t = self.expr(e, scope)
        if t is None:
            return
        if t.many:
            self.error(e, f"{what} must be a condition (true or false), but this is {t.describe()}; use any/every, count(...) or exists")
        elif t.kind != "bool":
            hint = " (add a comparison, e.g. '> 0', or 'exists')" if t.kind in ("number", "text", "date", "group", "row") else ""
            self.error(e, f"{what} must be a condition (true or false), but this is {t.describe()}{hint}")

    def expr(self, e: ast.Expr, scope: Scope) -> Type | None:
        """The type of `e` (None after an error already reported), annotating the tree."""
        t = self._expr(e, scope)
        e.type = t
        return t

    def _expr(self, e: ast.Expr, scope: Scope) -> Type | None:
        if isinstance(e, ast.Literal):
            return Type(e.kind)
        if isinstance(e, ast.ParamRef):
            return Type(e.kind)
        if isinstance(e, ast.Money):
            return NUMBER
        if isinstance(e, ast.Today):
            return DATE
        if isinstance(e, ast.Path):
            ref = self.resolve(e, scope)
            if ref is None:
                return None
            e.ref = ref
            return _path_type(ref)
        if isinstance(e, ast.Lookup):
            return self.lookup(e, scope)
        if isinstance(e, ast.Call):
            return self.call(e, scope)
        if isinstance(e, ast.Unary):
            if e.op == "not":
                self.condition(e.operand, scope, "what follows 'not'")
                return BOOL
            return self._single(e.operand, self.expr(e.operand, scope), "number", "'-'")
        if isinstance(e, ast.Binary):
            return self.binary(e, scope)
        if isinstance(e, ast.Compare):
            return self.compare(e, scope)
        if isinstance(e, ast.Test):
            return self.test(e, scope)
        if isinstance(e, ast.Quantifier):
            frames = self.iteration(e.var, e.source, scope, "quant")
            if frames is not None:
                e.frames = frames
                self.condition(e.body, scope.with_frames(frames), f"what follows '{e.kind} ... satisfies'")
            return BOOL
        if isinstance(e, ast.IfExpr):
            self.condition(e.cond, scope, "'if'")
            a = self.expr(e.then, scope)
            b = self.expr(e.otherwise, scope)
            if a is None or b is None:
                return a or b
            if a.many or b.many or a.kind != b.kind:
                self.error(e, f"both branches of 'if' must be the same kind of value, but 'then' gives {a.describe()} and 'else' gives {b.describe()}")
                return None
            return a
        if isinstance(e, ast.Has):
            if scope.section != "route":
                self.error(e, f"'{format_expr(e)}' can only be used in the route section, once validation is done")
            elif e.rule is not None and e.rule not in self.decls.rules:
                near = schema.suggest(e.rule, self.decls.rules, n=1)
                hint = f"; did you mean {near[0]}?" if near else ""
                self.error(e, f"unknown rule {e.rule}{hint}")
            return BOOL
        raise TypeError(type(e).__name__)  # pragma: no cover

    def _single(self, e: ast.Expr, t: Type | None, kind: str, what: str) -> Type | None:
        if t is None:
            return Type(kind) if kind != "any" else None
        if t.many:
            self.error(e, f"{what} needs one value, but this is {t.describe()}{_many_hint(e)}")
            return Type(kind) if kind != "any" else None
        if kind != "any" and t.kind != kind:
            self.error(e, f"{what} needs {Type(kind).describe()}, but this is {t.describe()}")
        return Type(kind) if kind != "any" else t

    def binary(self, e: ast.Binary, scope: Scope) -> Type | None:
        if e.op in ("and", "or"):
            self.condition(e.left, scope, f"each side of '{e.op}'")
            self.condition(e.right, scope, f"each side of '{e.op}'")
            return BOOL
        a = self.expr(e.left, scope)
        b = self.expr(e.right, scope)
        if a is None or b is None:
            return NUMBER
        for side, t in ((e.left, a), (e.right, b)):
            if t.many:
                self.error(side, f"'{e.op}' needs one value on each side, but this is {t.describe()}{_many_hint(side)}")
                return NUMBER
        if a.kind == "number" and b.kind == "number":
            return NUMBER
        if "date" in (a.kind, b.kind):
            self.error(e, f"cannot use '{e.op}' with dates; use days_between(a, b) or add_days(date, n)")
        elif "text" in (a.kind, b.kind) and e.op == "+":
            self.error(e, "cannot add texts; use concat(a, b)")
        else:
            self.error(e, f"'{e.op}' needs numbers, but got {a.describe()} and {b.describe()}")
        return None

    def compare(self, e: ast.Compare, scope: Scope) -> Type:
        a = self.expr(e.left, scope)
        b = self.expr(e.right, scope)
        if a is None or b is None:
            return BOOL
        for side, t in ((e.left, a), (e.right, b)):
            if t.many:
                self.error(side, f"cannot compare {t.describe()} with '{e.op}'{_many_hint(side)}")
                return BOOL
            if t.kind in ("group", "row"):
                self.error(side, f"cannot compare {t.describe()}; compare one of its fields, or test it with 'exists'")
                return BOOL
        if a.kind != b.kind:
            self.error(e, f"cannot compare {a.describe()} with {b.describe()}{_kind_hint(e, a, b)}")
        elif a.kind == "bool" and e.op not in ("=", "!="):
            self.error(e, f"conditions can only be compared with = or !=, not '{e.op}'")
        return BOOL

    def test(self, e: ast.Test, scope: Scope) -> Type:
        t = self.expr(e.operand, scope)
        if e.op in ("exists", "missing", "empty", "not_empty"):
            if t is not None and e.op in ("empty", "not_empty") and not t.many and t.kind not in ("text", "group", "row"):
                self.error(e.operand, f"'is empty' applies to texts and groups, not to {t.describe()}; use 'is missing'")
            return BOOL
        if e.op in ("in_codelist", "not_in_codelist"):
            self.codelist_name(e.arg, e.arg_node or e)
            self._single(e.operand, t, "text", "a code list test")
            return BOOL
        if e.op in ("in_list", "not_in_list"):
            if t is not None and not t.many and t.kind in ("group", "row", "bool"):
                self.error(e.operand, f"'in (...)' needs a number, text or date, not {t.describe()}")
                t = None
            self._single(e.operand, t, "any", "'in (...)'")
            for item in e.arg:
                it = self.expr(item, scope)
                if it is not None and t is not None and not t.many and (it.many or it.kind != t.kind):
                    self.error(item, f"the list holds {it.describe()}, but the value tested is {t.describe()}")
            return BOOL
        if e.op == "matches":
            self._single(e.operand, t, "text", "'matches'")
            problem = regex_problem(e.arg, e.flags)
            if problem:
                self.error(e.arg_node or e, problem)
            return BOOL
        # starts_with, ends_with, contains
        self._single(e.operand, t, "text", f"'{e.op.replace('_', ' ')}'")
        other = self.expr(e.arg, scope)
        self._single(e.arg, other, "text", f"'{e.op.replace('_', ' ')}'")
        return BOOL

    def codelist_name(self, name: str, node: ast.Node) -> None:
        if name not in self.decls.codelists:
            near = schema.suggest(name, self.decls.codelists, n=1)
            hint = f"; did you mean {near[0]}?" if near else f"; declare it with: codelist {name}"
            self.error(node, f"unknown code list {name}{hint}")

    def lookup(self, e: ast.Lookup, scope: Scope) -> Type | None:
        decl = self.decls.tables.get(e.table)
        key_type = self.expr(e.key, scope)
        if decl is None:
            near = schema.suggest(e.table, self.decls.tables, n=1)
            hint = f"; did you mean {near[0]}?" if near else ""
            self.error(e.table_node or e, f"unknown table {e.table}{hint}")
            return None
        table: Table = decl.data
        key_kind = table.columns[table.key]
        if key_type is not None and (key_type.many or key_type.kind != key_kind):
            self.error(e.key, f"table {e.table} is keyed by {Type(key_kind).describe()}, but this is {key_type.describe()}")
        if e.column_name is None:
            e.ref = LookupRef(table, "row")
            return ROW
        kind = table.columns.get(e.column_name)
        if kind is None:
            near = schema.suggest(e.column_name, table.columns, n=1)
            hint = f"; did you mean {near[0]}?" if near else f" (columns: {', '.join(table.columns)})"
            self.error(e, f"table {e.table} has no column '{e.column_name}'{hint}")
            return None
        e.ref = LookupRef(table, kind)
        return Type(kind)

    def call(self, e: ast.Call, scope: Scope) -> Type | None:
        fn = FUNCTIONS.get(e.name)
        if fn is None:
            near = schema.suggest(e.name, FUNCTIONS, n=1)
            hint = f"; did you mean {near[0]}?" if near else ""
            self.error(e, f"unknown function {e.name}(){hint}")
            for a in e.args:
                self.expr(a.expr, scope)
            return None
        e.sig = fn
        least = len(fn.params) - fn.optional
        if len(e.args) < least or (len(e.args) > len(fn.params) and not fn.variadic):
            expected = f"{least}" if not fn.optional else f"{least} to {len(fn.params)}"
            if fn.variadic:
                expected = f"at least {least}"
            self.error(e, f"{e.name}() takes {expected} argument{'s' if expected != '1' else ''}, not {len(e.args)}")
            return None
        if e.name in AGGREGATES and not (e.name in ("min", "max") and len(e.args) > 1):
            return self.aggregate(e, scope)
        for a in e.args:
            if a.where is not None:
                self.error(a.where, "'where' can only filter the values given to count, sum, min, max, distinct or first")
        kinds = [fn.params[min(i, len(fn.params) - 1)] for i in range(len(e.args))]
        types = [self.expr(a.expr, scope) for a in e.args]
        if e.name in ("min", "max"):
            kinds = ["any"] * len(e.args)
        for a, kind, t in zip(e.args, kinds, types, strict=True):
            if t is not None and kind == "any" and t.kind in ("group", "row"):
                self.error(a.expr, f"{e.name}() needs a value, not {t.describe()}")
            else:
                self._single(a.expr, t, kind, f"{e.name}()")
        if e.name in ("min", "max"):
            known = [t for t in types if t is not None and not t.many]
            if known and any(t.kind != known[0].kind for t in known) or any(t.kind not in ("number", "date") for t in known):
                self.error(e, f"{e.name}() compares numbers or dates of one kind")
                return None
            return known[0] if known else None
        if fn.result == "first":
            return types[0]
        return Type(fn.result, fn.many)

    def aggregate(self, e: ast.Call, scope: Scope) -> Type | None:
        arg = e.args[0]
        t = self.expr(arg.expr, scope)
        if t is None:
            return NUMBER if e.name in ("count", "sum") else None
        if arg.where is not None:
            frames = self.filter_frames(arg, scope)
            if frames is None:
                return NUMBER if e.name in ("count", "sum") else None
            arg.frames = frames
            self.condition(arg.where, scope.with_frames(frames), "'where'")
        if e.name == "count":
            return NUMBER
        if t.kind in ("group", "row"):
            self.error(arg.expr, f"{e.name}() needs values, but this is {t.describe()}; name a field of it (e.g. {format_expr(arg.expr)}.amount)")
            return None
        if e.name == "sum" and t.kind != "number":
            self.error(arg.expr, f"sum() adds numbers, but this is {t.describe()}")
            return NUMBER
        if e.name in ("min", "max") and t.kind not in ("number", "date"):
            self.error(arg.expr, f"{e.name}() needs numbers or dates, but this is {t.describe()}")
            return None
        if e.name == "distinct":
            return Type(t.kind, many=True)
        return t.single()

    def filter_frames(self, arg: ast.Arg, scope: Scope) -> list[Frame] | None:
        """Frames for `values where cond`: one per repeating step; cond sees the innermost."""
        if not isinstance(arg.expr, ast.Path) or arg.expr.ref is None:
            self.error(arg, "'where' filters a field path through a repeating group (e.g. lines.net_amount where ...)")
            return None
        ref: PathRef = arg.expr.ref
        repeating = [s for s in ref.steps if s.repeats]
        if not repeating:
            self.error(arg.expr, f"'where' needs something that repeats, but {format_expr(arg.expr)} occurs at most once")
            return None
        frames = [Frame("step", s, self._var("f")) for s in repeating]
        frames[-1].kind = "filter"
        return frames

    def iteration(self, var: str, source: ast.Path, scope: Scope, kind: str) -> list[Frame] | None:
        """Frames for `for each VAR in PATH` / `every VAR in PATH`: one per repeating step, VAR last."""
        if any(f.var == var for f in scope.frames) or var in self.decls.lets or var == "invoice":
            self.error(source, f"the name '{var}' is already in use here; choose another")
            return None
        t = self.expr(source, scope)
        if t is None:
            return None
        ref: PathRef = source.ref
        if ref.let is not None or not ref.many:
            what = "a let" if ref.let is not None else f"{format_expr(source)} occurs at most once"
            self.error(source, f"'{var} in {format_expr(source)}' needs something that repeats, but {what}")
            return None
        frames: list[Frame] = []
        last_repeat = max(i for i, s in enumerate(ref.steps) if s.repeats)
        for _i, step in enumerate(ref.steps):
            if step.repeats:
                frame = Frame("step", step, self._var("o" if kind == "scope" else "f"))
                if kind == "scope":
                    frame.index = self._var("i")
                frames.append(frame)
        final = ref.steps[-1]
        if last_repeat == len(ref.steps) - 1:
            frames[-1].kind, frames[-1].var = kind, var
            frames[-1].item = not final.is_group and final.wrapper is None
        else:
            frames.append(Frame(kind, final, self._var("v"), var, item=not final.is_group and final.wrapper is None, loops=False))
        return frames

    # ---- names

    def resolve(self, p: ast.Path, scope: Scope) -> PathRef | None:
        if p.bt is not None:
            return self.resolve_bt(p, scope)
        first, rest = p.segments[0], p.segments[1:]
        for frame in reversed(scope.frames):
            if frame.var == first:
                if frame.item and rest:
                    self.error(p, f"{first} is a single value; it has no field '{rest[0]}'")
                    return None
                return self.walk(p, frame, rest)
        if first == "invoice":
            return self.walk(p, scope.frames[0], rest)
        if first in scope.lets:
            if rest:
                self.error(p, f"{first} is a let value; it has no field '{rest[0]}'")
                return None
            return PathRef(None, let=scope.lets[first])
        for frame in reversed(scope.frames):
            if frame.item:
                continue
            steps = _walk(frame.node, p.segments)
            if steps is not None:
                return PathRef(frame, steps)
        self.unknown(p, scope)
        return None

    def walk(self, p: ast.Path, frame: Frame, rest: list[str]) -> PathRef | None:
        steps = _walk(frame.node, rest)
        if steps is None:
            node = frame.node
            done: list[str] = []
            for seg in rest:
                if seg not in node.children:
                    break
                node = node.children[seg]
                done.append(seg)
            prefix = ".".join(p.segments[: len(p.segments) - len(rest) + len(done)])
            missing = rest[len(done)]
            near = schema.suggest(missing, node.children)
            hint = f"; did you mean {prefix}.{near[0]}?" if near else _fields_hint(node)
            self.error(p, f"{prefix} has no field '{missing}'{hint}")
            return None
        return PathRef(frame, steps)

    def resolve_bt(self, p: ast.Path, scope: Scope) -> PathRef | None:
        node = schema.by_bt(p.bt or "")
        if node is None:
            self.error(p, f"unknown business term {p.bt}")
            return None
        chain = node.chain()
        for frame in reversed(scope.frames):
            if frame.item or frame.kind == "root":
                continue
            base = frame.node.chain()
            if chain[: len(base)] == base:
                return PathRef(frame, chain[len(base) :])
        return PathRef(scope.frames[0], chain)

    def unknown(self, p: ast.Path, scope: Scope) -> None:
        """Did-you-mean for a name found in no context: the innermost context's fields, then anywhere."""
        candidates: list[str] = []
        for frame in reversed(scope.frames):
            if frame.item:
                continue
            node = frame.node
            depth = 0
            for seg in p.segments:
                if seg not in node.children:
                    break
                node = node.children[seg]
                depth += 1
            if depth:
                prefix = ".".join(p.segments[:depth])
                missing = p.segments[depth]
                near = schema.suggest(missing, node.children)
                hint = f"; did you mean {prefix}.{near[0]}?" if near else _fields_hint(node)
                self.error(p, f"{prefix} has no field '{missing}'{hint}")
                return
            for near in schema.suggest(p.segments[0], node.children, n=2):
                full = [near, *p.segments[1:]]
                candidates.append(".".join(full) if _walk(node, full) is not None else near)
        text = p.text
        if candidates:
            self.error(p, f"unknown field '{text}'; did you mean {candidates[0]}?")
            return
        names = [f.var for f in scope.frames if f.var] + list(scope.lets) + ["invoice"]
        near_names = schema.suggest(p.segments[0], names, n=1)
        anywhere = schema.suggest_path(p.segments[-1], schema.root()) if not near_names else []
        if near_names:
            self.error(p, f"unknown name '{text}'; did you mean {near_names[0]}?")
        elif anywhere:
            self.error(p, f"unknown field '{text}'; did you mean {anywhere[0]}?")
        else:
            self.error(p, f"unknown field '{text}'")


# --------------------------------------------------------------------------- helpers


def _walk(node: schema.FieldNode, segments: list[str]) -> list[schema.FieldNode] | None:
    steps: list[schema.FieldNode] = []
    for seg in segments:
        child = node.children.get(seg)
        if child is None:
            return None
        steps.append(child)
        node = child
    return steps


def _path_type(ref: PathRef) -> Type | None:
    if ref.let is not None:
        return ref.let.expr.type
    node = ref.node
    assert node is not None
    if ref.base is not None and not ref.steps and ref.base.item:
        return Type(node.kind)
    return Type(node.kind, ref.many)


def _fields_hint(node: schema.FieldNode) -> str:
    names = sorted(node.children)
    if not names:
        return ""
    shown = ", ".join(names[:8]) + (", …" if len(names) > 8 else "")
    return f" (its fields: {shown})"


def _many_hint(e: ast.Expr) -> str:
    if isinstance(e, ast.Path) and e.ref is not None and e.ref.steps:
        first = next((s for s in e.ref.steps if s.repeats), None)
        if first is not None:
            return f" (one per {first.label()}); use sum(...), count(...), any/every or 'for each'"
    return "; use sum(...), count(...), any/every or 'for each'"


def _kind_hint(e: ast.Compare, a: Type, b: Type) -> str:
    kinds = {a.kind, b.kind}
    if kinds == {"text", "number"}:
        return "; codes are texts: write them in quotes, e.g. \"380\""
    if "date" in kinds and "text" in kinds:
        return "; write dates without quotes, e.g. 2024-01-31"
    return ""


def _constant(e: ast.Expr) -> bool | None:
    """The value of a condition that does not depend on the invoice, else None."""
    if isinstance(e, ast.Literal) and e.kind == "bool":
        return bool(e.value)
    if isinstance(e, ast.Unary) and e.op == "not":
        inner = _constant(e.operand)
        return None if inner is None else not inner
    if isinstance(e, ast.Binary) and e.op in ("and", "or"):
        a, b = _constant(e.left), _constant(e.right)
        if e.op == "and":
            return False if False in (a, b) else (True if a is True and b is True else None)
        return True if True in (a, b) else (False if a is False and b is False else None)
    if isinstance(e, ast.Compare) and isinstance(e.left, ast.Literal) and isinstance(e.right, ast.Literal):
        x, y = e.left.value, e.right.value
        try:
            return {"=": x == y, "!=": x != y, "<": x < y, "<=": x <= y, ">": x > y, ">=": x >= y}[e.op]  # type: ignore[operator]
        except TypeError:
            return None
    return None


def regex_problem(pattern: str, flags: str) -> str | None:
    """Why a regex cannot be used (does not compile, or may take exponential time), else None."""
    try:
        re.compile(pattern, re.IGNORECASE if "i" in flags else 0)
    except re.error as exc:
        return f"invalid regular expression: {exc.msg}"
    try:
        tree = _sre_parse.parse(pattern)
    except re.error:  # pragma: no cover - compiled above
        return None
    if _nested_repeat(tree, inside=False):
        return "this regular expression repeats a repetition (like (a+)+) and can take exponential time; simplify it"
    return None


def _nested_repeat(tree, inside: bool) -> bool:  # noqa: ANN001
    for op, arg in tree:
        if op in (_sre_parse.MAX_REPEAT, _sre_parse.MIN_REPEAT):
            low, high, sub = arg
            unbounded = high == _sre_parse.MAXREPEAT or high > 50
            if unbounded and inside:
                return True
            if _nested_repeat(sub, inside or unbounded):
                return True
        elif op == _sre_parse.SUBPATTERN:
            if _nested_repeat(arg[-1], inside):
                return True
        elif op == _sre_parse.BRANCH:
            if any(_nested_repeat(branch, inside) for branch in arg[1]):
                return True
        elif op in (_sre_parse.ASSERT, _sre_parse.ASSERT_NOT) and _nested_repeat(arg[1], inside):
            return True
    return False
