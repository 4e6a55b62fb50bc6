"""Checked expressions → Python source text.

Generated code reads the pydantic invoice by direct attribute access, with
None tests inlined (walrus temporaries keep each value computed once), so a
rule costs a few attribute loads and comparisons. Groups reached from the
invoice root (`seller`, `seller.postal_address`, `totals`) are read once per
function into locals ("hoisted") in the validate and route phases, where
the invoice no longer changes.

Safety: identifiers in the output come only from the field catalogue, the
checker's frame variables and this module; every literal, text, regex, code
list and table from a ruleset enters the output as a named constant or via
`repr()`, never as source text.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from contextlib import contextmanager
from datetime import date
from decimal import Decimal
from typing import Any

from aiguillage.dsl import ast
from aiguillage.dsl.formatter import format_expr
from aiguillage.dsl.functions import FUNCTIONS
from aiguillage.dsl.schema import FieldNode
from aiguillage.dsl.types import Frame, PathRef
from aiguillage.engine import runtime

_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
#: Functions whose result is never missing.
_NONNULL = frozenset({"count", "sum", "length", "concat", "distinct", "split"}) | frozenset(
    name for name, fn in FUNCTIONS.items() if fn.result == "bool"
)
_OPS = {"=": "==", "!=": "!=", "<": "<", "<=": "<=", ">": ">", ">=": ">="}
#: Text functions that map a value to a normal form and leave a normal form as it is (f(f(x)) = f(x)).
#: A value already in a set of normal forms is its own normal form, so membership can be tested on
#: the value as written first, and the function called only when that test fails.
_NORMALIZERS = {"trim": runtime.trim, "upper": runtime.upper, "lower": runtime.lower}


def _words(names: Iterable[str]) -> re.Pattern[str]:
    """A pattern matching any of the names as a whole word."""
    return re.compile(r"\b(?:" + "|".join(map(re.escape, names)) + r")\b")


class Constants:
    """The namespace a compiled ruleset runs in: constants by name, deduplicated."""

    def __init__(self, namespace: dict[str, Any]) -> None:
        self.namespace = namespace
        self._by_key: dict[tuple[Any, ...], str] = {}

    def add(self, prefix: str, key: tuple[Any, ...], value: Any) -> str:
        name = self._by_key.get(key)
        if name is None:
            name = f"{prefix}{len(self._by_key)}"
            self._by_key[key] = name
            self.namespace[name] = value
        return name

    def literal(self, value: Decimal | date) -> str:
        return self.add("_C", (type(value).__name__, str(value)), value)


class Code:
    """Python lines with indentation."""

    def __init__(self, level: int = 0) -> None:
        self.lines: list[str] = []
        self.level = level

    def line(self, text: str) -> None:
        self.lines.append("    " * self.level + text)

    @contextmanager
    def block(self, header: str):  # noqa: ANN201
        self.line(header)
        self.level += 1
        try:
            yield
        finally:
            self.level -= 1

    def extend(self, other: Code) -> None:
        self.lines.extend(other.lines)


class Gen:
    """Generates expressions for one Python function (its temporaries, hoisted groups and lets)."""

    def __init__(self, consts: Constants, codelists: dict[str, Any], *, hoist: bool) -> None:
        self.consts = consts
        self.codelists = codelists
        self.hoist = hoist
        self._tmp = 0
        #: bare path of a hoisted group → (variable, parent variable, attribute)
        self.hoisted: dict[str, tuple[str, str, str]] = {}
        #: let name (or a tally's key) → (variable, expression text); variables are numbered, never user-named
        self.lets_used: dict[Any, tuple[str, str]] = {}
        #: Keys of `lets_used` computed on first use rather than in the preamble.
        self.lazy: set[Any] = set()
        #: When set, the name of the dict that records the values deciding a rule (explain mode).
        self.record: str | None = None
        self._depth = 0
        #: Loop variables whose groups may be read once per iteration (validate's shared loops):
        #: variable → {attribute: hoisted variable}.
        self.loop_hoists: dict[str, dict[str, str]] = {}
        #: The hoisted variables of `loop_hoists` that hold a value (not a group).
        self.loop_values: set[str] = set()
        #: Values and lists read straight off the invoice, read once per function when hoisting:
        #: attribute → variable.
        self.root_values: dict[str, str] = {}
        #: The same for values of hoisted groups (`_g_totals.vat_amount`): (group variable,
        #: attribute) → variable.
        self.group_values: dict[tuple[str, str], str] = {}

    def tmp(self, prefix: str = "_t") -> str:
        self._tmp += 1
        return f"{prefix}{self._tmp}"

    # ---- preamble

    def preamble(self, code: Code, body: Code | None = None) -> None:
        """Hoisted groups and lets, in dependency order, at the top of the function.

        A value of the invoice read in one place only is read there again (`body` and the lets
        are rewritten): hoisting it would read it even when that place is not reached.
        """
        for path in sorted(self.hoisted, key=lambda p: p.count(".")):
            var, parent, attr = self.hoisted[path]
            if parent == "inv":
                code.line(f"{var} = inv.{attr}")
            else:
                code.line(f"{var} = {parent}.{attr} if {parent} is not None else None")
        lines = body.lines if body is not None else []
        text = "\n".join([*lines, *(t for _, t in self.lets_used.values())])
        values = [(var, f"inv.{attr}", f"inv.{attr}") for attr, var in self.root_values.items()]
        values += [
            (var, f"{group}.{attr} if {group} is not None else None", f"(None if {group} is None else {group}.{attr})")
            for (group, attr), var in self.group_values.items()
        ]
        # One pass over the text counts every variable, one more rewrites those read once: a
        # pass per variable was quadratic (an explain function of en16931, generated by every
        # `aiguillage test`, spent 1.5 s here).
        uses = Counter(_words(var for var, _, _ in values).findall(text)) if values else Counter()
        inline_of: dict[str, str] = {}
        for var, read, inline in values:
            if uses[var] >= 2:
                code.line(f"{var} = {read}")
            else:
                inline_of[var] = inline
        if inline_of:
            once = _words(inline_of)

            def swap(match: re.Match[str]) -> str:
                return inline_of[match.group(0)]

            lines[:] = [once.sub(swap, line) for line in lines]
            for key, (let_var, let_text) in list(self.lets_used.items()):
                self.lets_used[key] = (let_var, once.sub(swap, let_text))
        for key, (var, text) in self.lets_used.items():
            code.line(f"{var} = None" if key in self.lazy else f"{var} = {text}")

    def lazy_value(self, key: tuple[Any, ...], var: str, text: str) -> str:
        """A value computed on first use (tallies, indexes): `None` in the preamble, built where first read.

        So a rule that is off, or whose earlier conditions are false, costs nothing, and a failure
        while building belongs to the rule that asked (inside its `try`), as it would inline.
        """
        if key not in self.lets_used:
            self.lets_used[key] = (var, text)
            self.lazy.add(key)
        var, text = self.lets_used[key]
        return f"({var} if {var} is not None else ({var} := {text}))"

    def use_let(self, decl: ast.LetDecl) -> str:
        if decl.name not in self.lets_used:
            record, depth = self.record, self._depth
            self.record, self._depth = None, 0
            text = self.expr(decl.expr)  # may register earlier lets first: dict order follows
            self.record, self._depth = record, depth
            self.lets_used[decl.name] = (f"_let{len(self.lets_used)}", text)
        return self.lets_used[decl.name][0]

    # ---- paths

    def root_value(self, cur: str, nullable: bool, names: list[str]) -> str | None:
        """The variable holding `inv.<name>` when `cur.names` is one attribute of the invoice
        and the function hoists (validate, route: the invoice no longer changes)."""
        if not self.hoist or cur != "inv" or nullable or len(names) != 1:
            return None
        return self.root_values.setdefault(names[0], f"_r_{names[0]}")

    def group_value(self, cur: str, nullable: bool, names: list[str]) -> str | None:
        """The variable holding `<group>.<name>` (None without the group) for a hoisted group."""
        if not self.hoist or not nullable or len(names) != 1 or not cur.startswith("_g_"):
            return None
        return self.group_values.setdefault((cur, names[0]), f"_v{cur[2:]}__{names[0]}")

    def _hoist_var(self, steps: list[FieldNode]) -> str:
        path = ".".join(s.name for s in steps)
        if path not in self.hoisted:
            parent = self._hoist_var(steps[:-1]) if len(steps) > 1 else "inv"
            self.hoisted[path] = ("_g_" + "_".join(s.name for s in steps), parent, steps[-1].name)
        return self.hoisted[path][0]

    def base(self, ref: PathRef) -> tuple[str, bool, list[FieldNode]]:
        """Where navigation starts: (expression, may be None, remaining steps)."""
        frame = ref.base
        assert frame is not None
        if frame.kind != "root":
            steps = list(ref.steps)
            hoists = self.loop_hoists.get(frame.pyvar)
            if hoists is not None and len(steps) > 1 and steps[0].is_group and not steps[0].repeats:
                name = hoists.setdefault(steps[0].name, f"_h_{frame.pyvar}_{steps[0].name}")
                return name, True, steps[1:]
            return frame.pyvar, False, steps
        steps = list(ref.steps)
        if self.hoist:
            k = 0
            while k < len(steps) - 1 and steps[k].is_group and not steps[k].repeats:
                k += 1
            if k:
                return self._hoist_var(steps[:k]), True, steps[k:]
        return "inv", False, steps

    def chain(self, cur: str, nullable: bool, names: list[str], *, plain: bool = False) -> str:
        """cur.n1.n2… where any object on the way may be None (then the result is None).

        `plain` avoids walrus temporaries (re-reading attributes instead), for the places
        Python forbids them: the iterable of a comprehension.
        """
        conds: list[str] = []
        for name in names:
            if nullable:
                if not _NAME.match(cur) and not plain:
                    t = self.tmp()
                    conds.append(f"({t} := {cur}) is None")
                    cur = t
                else:
                    conds.append(f"{cur} is None")
            cur = f"{cur}.{name}"
            nullable = True
        return f"(None if {' or '.join(conds)} else {cur})" if conds else cur

    @staticmethod
    def iterable(cur: str, nullable: bool, names: list[str]) -> str:
        """cur.n1….nk, a list; `()` when an object on the way is missing. No walrus: it may sit in a comprehension's `in`."""
        conds = [f"{cur} is not None"] if nullable else []
        expr = cur
        for name in names[:-1]:
            expr = f"{expr}.{name}"
            conds.append(f"{expr} is not None")
        expr = f"{expr}.{names[-1]}"
        return f"({expr} if {' and '.join(conds)} else ())" if conds else expr

    def single(self, ref: PathRef) -> str:
        """A single value (or object) reached by a path; None when anything on the way is missing."""
        if ref.let is not None:
            return self.use_let(ref.let)
        frame = ref.base
        assert frame is not None
        if frame.item:
            return frame.pyvar
        cur, nullable, steps = self.base(ref)
        names = [s.name for s in steps]
        node = ref.node
        if node is not None and node.wrapper:
            names.append(node.wrapper)
        if not names:
            return cur
        root = self.root_value(cur, nullable, names) or self.group_value(cur, nullable, names)
        if root is not None:
            return root
        hoists = self.loop_hoists.get(cur) if len(names) == 1 and not nullable else None
        if hoists is not None:
            # A value of a shared loop's element, read once per element (see `_UnitCompiler.merged`).
            name = hoists.setdefault(names[0], f"_h_{cur}_{names[0]}")
            self.loop_values.add(name)
            return name
        return self.chain(cur, nullable, names)

    def clauses(self, ref: PathRef, frames: list[Frame] | None = None, where: ast.Expr | None = None, *, values: bool = True, plain: bool = False) -> tuple[list[str], str]:
        """A many-valued path as comprehension clauses and the element expression."""
        cur, nullable, steps = self.base(ref)
        out: list[str] = []
        pending: list[str] = []
        loop_frames = iter([f for f in frames or [] if f.loops])
        for step in steps:
            if step.repeats:
                frame = next(loop_frames, None)
                var = frame.pyvar if frame is not None else self.tmp("_e")
                names = [*pending, step.name]
                out.append(f"for {var} in {self.root_value(cur, nullable, names) or self.iterable(cur, nullable, names)}")
                cur, nullable, pending = var, False, []
            else:
                pending.append(step.name)
        node = ref.node
        if values and node is not None and node.wrapper:
            pending.append(node.wrapper)
        element = self.chain(cur, nullable, pending, plain=plain) if pending else cur
        if where is not None:
            out.append(f"if {self.expr(where)}")
        return out, element

    def values_list(self, arg: ast.Arg) -> str:
        """The values of an aggregate's argument, as a Python list."""
        e = arg.expr
        if isinstance(e, ast.Path) and e.ref is not None and e.ref.let is None and (e.ref.many or arg.where is not None):
            self._depth += 1
            clauses, element = self.clauses(e.ref, arg.frames, arg.where)
            self._depth -= 1
            return f"[{element} {' '.join(clauses)}]"
        if e.type is not None and e.type.many:
            return self.expr(e)
        return f"[{self.expr(e)}]"

    # ---- expressions

    def expr(self, e: ast.Expr) -> str:
        text = self._expr(e)
        if self.record is not None and self._depth == 0 and isinstance(e, ast.Path | ast.Lookup | ast.Call | ast.Today | ast.Money):
            return f"_rt_rec({self.record}, {format_expr(e)!r}, {text})"
        return text

    def _expr(self, e: ast.Expr) -> str:
        method = getattr(self, "e_" + type(e).__name__)
        return method(e)

    def e_Literal(self, e: ast.Literal) -> str:
        if e.kind in ("number", "date"):
            return self.consts.literal(e.value)  # type: ignore[arg-type]
        return repr(e.value)

    def e_ParamRef(self, e: ast.ParamRef) -> str:
        # Read at evaluation: a ruleset extending the declaring one may set it again.
        return f"R.params[{e.name!r}]"

    def e_Money(self, e: ast.Money) -> str:
        return f"({self.consts.literal(e.amount)} if inv.currency_code == {e.currency!r} else None)"

    def e_Today(self, e: ast.Today) -> str:
        return "_today"

    def e_Path(self, e: ast.Path) -> str:
        ref: PathRef = e.ref
        if ref.let is None and ref.many:
            self._depth += 1
            clauses, element = self.clauses(ref)
            self._depth -= 1
            return f"[{element} {' '.join(clauses)}]"
        return self.single(ref)

    def e_Lookup(self, e: ast.Lookup) -> str:
        table = self.consts.add("_T", ("table", id(e.ref.table)), e.ref.table.rows)
        key = self.expr(e.key)
        if e.column_name is None:
            return f"{table}.get({key})"
        t = self.tmp()
        return f"(None if ({t} := {table}.get({key})) is None else {t}[{e.column_name!r}])"

    def e_Call(self, e: ast.Call) -> str:
        fn = e.sig
        if e.name == "count" and len(e.args) == 1:
            arg = e.args[0]
            ref = arg.expr.ref if isinstance(arg.expr, ast.Path) else None
            if ref is not None and ref.let is None and arg.where is None and ref.node is not None and ref.node.repeats and ref.node.is_group and sum(s.repeats for s in ref.steps) == 1:
                cur, nullable, steps = self.base(ref)
                names = [s.name for s in steps]
                return f"len({self.root_value(cur, nullable, names) or self.iterable(cur, nullable, names)})"
            tallied = self.tally_count(arg)
            if tallied is not None:
                return tallied
            if ref is not None and ref.let is None and self.record is None and ref.node is not None and ref.node.is_group and not ref.node.wrapper and ref.steps and ref.steps[-1].repeats:
                # Elements of a repeating group are never missing: count them without a call or a list of objects.
                self._depth += 1
                clauses, _ = self.clauses(ref, arg.frames, arg.where)
                self._depth -= 1
                return f"len([0 {' '.join(clauses)}])"
            return f"_rt_count({self.values_list(arg)})"
        if e.name in ("sum", "distinct", "first") or (e.name in ("min", "max") and len(e.args) == 1):
            return f"_rt_{fn.runtime}({self.values_list(e.args[0])})"
        if e.name in ("min", "max"):
            return f"_rt_{fn.runtime}([{', '.join(self.expr(a.expr) for a in e.args)}])"
        args = [self.expr(a.expr) for a in e.args]
        if e.name == "vat_scheme":
            # The model keeps exactly "VAT" as missing, so nearly every call is that case: test it
            # inline, as the condition this function replaced did, and call only for a written scheme.
            value = args[0] if _NAME.match(args[0]) else self.tmp()
            bind = value if value == args[0] else f"({value} := {args[0]})"
            return f"({bind} is None or _rt_vat_scheme({value}, {args[1]}))"
        if e.name == "round" and len(args) == 1:
            args.append("2")
        return f"_rt_{fn.runtime}({', '.join(args)})"

    def tally_count(self, arg: ast.Arg) -> str | None:
        """`count(lines where trim(vat.category_code) = "S")` as a look-up in a tally made once per run.

        Rulesets count one group by many values of one key (a count per VAT category): each such
        count would walk the group again. In the validate and route phases (the invoice no longer
        changes) the compiler instead tallies the key over the group once, on first use (see
        `lazy_value`), and every count with that group and key reads its number from the tally. Only
        for keys that cannot fail (a field of the element, possibly trimmed or upper/lower-cased)
        compared with a literal, so sharing the work between rules changes no outcome.
        """
        if not isinstance(arg.expr, ast.Path) or arg.where is None:
            return None
        if isinstance(arg.where, ast.Compare):
            return self.tally_lookup(arg.expr, arg.frames, arg.where)
        return None

    def tally_lookup(self, source: ast.Path, frame_list: list[Frame] | None, where: ast.Compare) -> str | None:
        """`T.get(L, 0)`: how many elements of `source` have key = L, from a tally (see `tally_count`)."""
        if not self.hoist or self.record is not None or where.op != "=":
            return None
        ref = source.ref
        if ref is None or ref.let is not None or ref.base is None or ref.base.kind != "root" or ref.node is None or not ref.node.is_group or ref.node.wrapper:
            return None
        if not ref.steps or not ref.steps[-1].repeats or sum(s.repeats for s in ref.steps) != 1:
            return None
        frames = [f for f in frame_list or [] if f.loops]
        if len(frames) != 1 or frames[0].item:
            return None
        frame = frames[0]
        for key, literal in ((where.left, where.right), (where.right, where.left)):
            if not isinstance(literal, ast.Literal) or literal.kind not in ("text", "number"):
                continue
            found = self.normalized(key)
            raw, names = found if found is not None else (key, [])
            if not isinstance(raw, ast.Path) or raw.ref is None or raw.ref.let is not None or raw.ref.base is not frame or raw.ref.many:
                continue
            if raw.ref.node is None:
                continue
            label = ("tally", raw.ref.node.path, raw.ref.node.wrapper, tuple(names))
            raw_label = (*label[:3], ())
            if raw_label not in self.lets_used:
                self._depth += 1
                clauses, _ = self.clauses(ref, frame_list)
                value = self.expr(raw)
                self._depth -= 1
                self.lazy_value(raw_label, f"_tally{len(self.lets_used)}", f"_rt_tally([{value} {' '.join(clauses)}])")
            tally = self.lazy_value(raw_label, "", "")
            if names:
                # normalized from the tally of the values as written: one call per distinct value
                normalize = "(" + "".join(f"_rt_{name}, " for name in reversed(names)) + ")"
                tally = self.lazy_value(label, f"_tally{len(self.lets_used)}", f"_rt_retally({tally}, {normalize})")
            return f"{tally}.get({self.expr(literal)}, 0)"
        return None

    def e_Unary(self, e: ast.Unary) -> str:
        inner = self.expr(e.operand)
        if e.op == "not":
            return f"(not {inner})"
        t = self.tmp()
        return f"(None if ({t} := {inner}) is None else -{t})"

    @staticmethod
    def nonnull(e: ast.Expr) -> bool:
        """True for expressions that are never missing (literals, counts, sums, conditions)."""
        if isinstance(e, ast.Literal | ast.Today | ast.Has):
            return True
        if isinstance(e, ast.Call) and e.name in _NONNULL:
            return True
        return e.type is not None and e.type.kind == "bool"

    def _operand(self, e: ast.Expr, *, test: bool = True) -> tuple[str, str | None]:
        """(expression, None-test); no test for values that are never missing, or when not asked."""
        text = self.expr(e)
        if not test or self.nonnull(e):
            return text, None
        if _NAME.match(text):
            return text, f"{text} is not None"
        t = self.tmp()
        return t, f"({t} := {text}) is not None"

    def e_Binary(self, e: ast.Binary) -> str:
        if e.op in ("and", "or"):
            return f"({self.expr(e.left)} {e.op} {self.expr(e.right)})"
        left, lt = self._operand(e.left)
        right, rt = self._operand(e.right)
        tests = [t for t in (lt, rt) if t]
        value = f"_rt_div({left}, {right})" if e.op == "/" else f"{left} {e.op} {right}"
        return f"({value} if {' and '.join(tests)} else None)" if tests else f"({value})"

    @staticmethod
    def normalized(e: ast.Expr) -> tuple[ast.Expr, list[str]] | None:
        """`upper(trim(x))` → (x, ["upper", "trim"]): the value and the normalizing functions applied to it."""
        names: list[str] = []
        while isinstance(e, ast.Call) and e.name in _NORMALIZERS and len(e.args) == 1 and e.args[0].where is None:
            names.append(e.name)
            e = e.args[0].expr
        return (e, names) if names else None

    @staticmethod
    def normal_form(names: list[str], value: str) -> str:
        for name in reversed(names):
            value = _NORMALIZERS[name](value)  # type: ignore[assignment]
        return value

    def _trim_equals(self, e: ast.Compare) -> str | None:
        """`trim(x) = "S"` without calling trim for most values.

        For a literal without white space, trim(x) = L only when x contains L: test x = L first
        (equal as written means equal once trimmed), then `L in x`, and trim only what passes both.
        Most tests of a code against the codes it is not cost two string comparisons, no call.
        """
        if self.record is not None or e.op not in ("=", "!="):
            return None
        for side, other in ((e.left, e.right), (e.right, e.left)):
            found = self.normalized(side)
            if found is None or found[1] != ["trim"] or not isinstance(other, ast.Literal) or other.kind != "text":
                continue
            literal = other.value
            if not isinstance(literal, str) or literal.split() != [literal]:
                continue
            text = self.expr(found[0])
            value = text if _NAME.match(text) else self.tmp()
            bind = value if value == text else f"({value} := {text})"
            lit = repr(literal)
            if e.op == "=":
                return f"({bind} == {lit} or ({value} is not None and {lit} in {value} and _rt_trim({value}) == {lit}))"
            return f"({bind} is not None and {value} != {lit} and ({lit} not in {value} or _rt_trim({value}) != {lit}))"
        return None

    def _member(self, operand: ast.Expr, members: str, values: frozenset[Any], negate: bool) -> str | None:
        """`trim(x) in codelist L`: test x as written first, normalize only when it is not a member.

        Valid when every member is its own normal form (then x in L implies f(x) = x in L).
        """
        if self.record is not None:
            return None
        found = self.normalized(operand)
        if found is None or not all(isinstance(v, str) and self.normal_form(found[1], v) == v for v in values):
            return None
        text = self.expr(found[0])
        value = text if _NAME.match(text) else self.tmp()
        bind = value if value == text else f"({value} := {text})"
        normal = value
        for name in reversed(found[1]):
            normal = f"_rt_{name}({normal})"
        if negate:
            return f"({bind} is not None and {value} not in {members} and {normal} not in {members})"
        return f"({bind} in {members} or {normal} in {members})"

    def e_Compare(self, e: ast.Compare) -> str:
        fast = self._trim_equals(e)
        if fast is not None:
            return fast
        # `a = b` is false when either is missing: None == x is already false, unless both are None,
        # so one test suffices (none next to a value that is never missing). `!=` and ordering need both.
        if e.op == "=":
            need_left = not self.nonnull(e.right)
            left, lt = self._operand(e.left, test=need_left)
            right, rt = self._operand(e.right, test=False)
        else:
            left, lt = self._operand(e.left)
            right, rt = self._operand(e.right)
        tests = [t for t in (lt, rt) if t]
        return "(" + " and ".join([*tests, f"{left} {_OPS[e.op]} {right}"]) + ")"

    def e_Test(self, e: ast.Test) -> str:
        op = e.op
        operand_type = e.operand.type
        many = operand_type is not None and operand_type.many
        if op in ("exists", "missing"):
            if many:
                text = f"_rt_any_present({self.expr(e.operand)})"
            else:
                inner = self.present(e.operand)
                return inner if op == "exists" else f"(not {inner})"
            return f"({text})" if op == "exists" else f"(not {text})"
        if op in ("empty", "not_empty"):
            inner = self.expr(e.operand)
            if many:
                text = f"(not _rt_any_present({inner}))"
            elif self.record is None:
                # runtime.is_blank inlined (one of the most frequent tests): no call for a missing or plain value
                value = inner if _NAME.match(inner) else self.tmp()
                bind = value if value == inner else f"({value} := {inner})"
                text = f"({bind} is None or (isinstance({value}, _rt_str) and not {value}.strip()))"
            else:
                text = f"_rt_is_blank({inner})"
            return text if op == "empty" else f"(not {text})"
        if op in ("in_codelist", "not_in_codelist"):
            codelist = self.consts.add("_L", ("codelist", e.arg), self.codelists[e.arg].values)
            fast = self._member(e.operand, codelist, self.codelists[e.arg].values, op == "not_in_codelist")
            if fast is not None:
                return fast
            if op == "in_codelist":
                return f"({self.expr(e.operand)} in {codelist})"
            value, test = self._operand(e.operand)
            return f"({test} and {value} not in {codelist})"
        if op in ("in_list", "not_in_list"):
            items = e.arg
            if all(isinstance(i, ast.Literal) for i in items):
                values = frozenset(i.value for i in items)
                members = self.consts.add("_S", ("set", tuple(str(i.value) for i in items), tuple(i.kind for i in items)), values)
                fast = self._member(e.operand, members, values, op == "not_in_list")
                if fast is not None:
                    return fast
            else:
                members = "(" + ", ".join(self.expr(i) for i in items) + ",)"
            if op == "in_list":
                return f"({self.expr(e.operand)} in {members})"
            value, test = self._operand(e.operand)
            return f"({test} and {value} not in {members})"
        if op == "matches":
            pattern = self.consts.add("_RE", ("regex", e.arg, e.flags), runtime.regex(e.arg, e.flags))
            value, test = self._operand(e.operand)
            return f"({test} and _rt_matches({pattern}, {value}))"
        method = {"starts_with": "startswith", "ends_with": "endswith"}.get(op)
        value, test = self._operand(e.operand)
        other, other_test = self._operand(e.arg)
        tests = " and ".join(t for t in (test, other_test) if t)
        check = f"{value}.{method}({other})" if method else f"{other} in {value}"
        return f"({tests} and {check})"

    def e_Quantifier(self, e: ast.Quantifier) -> str:
        if e.kind in ("any", "no") and isinstance(e.body, ast.Compare) and isinstance(e.source, ast.Path):
            # `any b in vat_breakdown satisfies b.category_code = "B"`: a look-up in the group's tally.
            found = self.tally_lookup(e.source, e.frames, e.body)
            if found is not None:
                return f"({found} {'>' if e.kind == 'any' else '=='} 0)"
        self._depth += 1
        frames: list[Frame] = e.frames
        last = frames[-1]
        clauses, element = self.clauses(e.source.ref, frames, values=last.item, plain=not last.loops)
        if not last.loops:
            clauses += [f"for {last.pyvar} in ({element},)", f"if {last.pyvar} is not None"]
        body = self.expr(e.body)
        self._depth -= 1
        gen = f"{body} {' '.join(clauses)}"
        if e.kind == "every":
            return f"all({gen})"
        if e.kind == "any":
            return f"any({gen})"
        return f"(not any({gen}))"

    def e_IfExpr(self, e: ast.IfExpr) -> str:
        return f"({self.expr(e.then)} if {self.expr(e.cond)} else {self.expr(e.otherwise)})"

    def e_Has(self, e: ast.Has) -> str:
        if e.what == "finding":
            return f"R.has_finding({e.rule!r})"
        return f"R.has({e.what!r})"

    def present(self, e: ast.Expr) -> str:
        """`e exists` for one value: `(a := x.vat) is not None and a.rate is not None` rather than a nested conditional."""
        if self.record is None and isinstance(e, ast.Path) and e.ref is not None and e.ref.let is None and not (e.ref.base and e.ref.base.item):
            cur, nullable, steps = self.base(e.ref)
            names = [s.name for s in steps]
            node = e.ref.node
            if node is not None and node.wrapper:
                names.append(node.wrapper)
            if len(names) == 1 and (
                (not nullable and (cur in self.loop_hoists or self.root_value(cur, nullable, names)))
                or self.group_value(cur, nullable, names)
            ):
                return f"({self.single(e.ref)} is not None)"
            if names:
                tests: list[str] = []
                if nullable:
                    tests.append(f"{cur} is not None")
                for name in names[:-1]:
                    t = self.tmp()
                    tests.append(f"({t} := {cur}.{name}) is not None")
                    cur = t
                tests.append(f"{cur}.{names[-1]} is not None")
                return "(" + " and ".join(tests) + ")"
        return f"({self.expr(e)} is not None)"

    # ---- templates

    def template(self, template: ast.Template, args: list[str], keys: dict[str, int]) -> tuple[Any, ...]:
        """Parts of a template: texts, and positions in `args` (shared by equal placeholders)."""
        parts: list[Any] = []
        for part in template.parts:
            if isinstance(part, str):
                parts.append(part)
                continue
            key = format_expr(part)
            if key not in keys:
                keys[key] = len(args)
                args.append(self.expr(part))
            parts.append(keys[key])
        return tuple(parts)

