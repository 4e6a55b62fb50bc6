"""Checked ruleset → Python source → code object, compiled once per content.

Each ruleset (a `Program`) compiles to one unit: up to three Python
functions, `enrich`, `validate` and `route`, of straight-line code with one
`try` per rule (a rule that fails at run time becomes an `engine-error:`
finding instead of stopping the others). Rules scoped to the same repeating
group share one loop. Units are cached by the program's content hash, which
covers its files, data files and everything it extends; a standard ruleset
such as en16931 is therefore compiled once per process and shared by every
customer ruleset built on it. Overrides and disables are applied around the
shared unit (an enabled flag per rule, a severity map), never compiled in. A
conditional disable (`disable A when CONDITION`) compiles its condition into the
unit that declares it (`disables`, run once per invoice, before enrichment); the
flags with those rules off are made once per combination of conditions that hold.

Explain mode uses a second, instrumented variant of the same unit, compiled
on first use.
"""

from __future__ import annotations

import marshal
import re
import sys
from pathlib import Path
from types import CodeType
from typing import Any

from aiguillage import cache as disk_cache
from aiguillage.dsl import ast
from aiguillage.dsl.formatter import format_expr
from aiguillage.dsl.program import Program
from aiguillage.dsl.types import Frame, PathRef
from aiguillage.engine import families
from aiguillage.engine.codegen import Code, Constants, Gen
from aiguillage.engine.compiled import (
    LOCK,
    RULESETS,
    STATS,
    UNITS,
    CompiledRuleset,
    CompiledUnit,
    ConditionalDisable,
    Functions,
    RuleMeta,
    WriteTarget,
    base_namespace,
    explain_entry,
    kept_functions,
    recall,
    unit_entry,
)


def compile_unit(program: Program) -> CompiledUnit:
    """The compiled form of one ruleset, from the cache when its content was seen before."""

    def build() -> CompiledUnit:
        metas, functions = _fast_functions(program)
        STATS.unit_compilations += 1
        return CompiledUnit(program.name, program.version, program.hash, metas, program, functions)

    return recall(UNITS, program.hash, build)


def compile_ruleset(program: Program) -> CompiledRuleset:
    """A ruleset with everything it extends, overrides and disables applied, and its profile variants."""
    lineage = program.lineage()
    chosen = _profiles(lineage)

    def build() -> CompiledRuleset:
        compiled = _build(program, lineage, program.hash)
        for spec, (base, variant) in chosen.items():
            compiled.profiles[spec] = _build(program, _with_profile(lineage, base, variant), f"{program.hash}+{variant.hash}", profile=spec)
        STATS.ruleset_builds += 1
        return compiled

    return recall(RULESETS, _memory_key(program, chosen), build)


def memory_key(program: Program) -> str:
    """The key `compile_ruleset` remembers the program's compiled ruleset by (in `compiled.RULESETS`)."""
    return _memory_key(program, _profiles(program.lineage()))


def _memory_key(program: Program, chosen: dict[str, tuple[Program, Program]]) -> str:
    return program.hash + "".join(f"|{spec}={variant.hash}" for spec, (_, variant) in sorted(chosen.items()))


def _profiles(lineage: list[Program]) -> dict[str, tuple[Program, Program]]:
    """BT-24 value → (the ruleset declaring the profile, the profile's ruleset), for the profiles
    this lineage declares and does not already contain (a ruleset extending fr-ctc-extended is one).
    A lineage holding one of a ruleset's profiles chooses none of them (factur-x-basic, compiled
    on its own, judges every invoice as BASIC, whatever its BT-24 says)."""
    hashes = {p.hash for p in lineage}
    out: dict[str, tuple[Program, Program]] = {}
    for base in lineage:
        chosen: dict[str, tuple[Program, Program]] = {}
        for spec, name in base.profiles.items():
            if base.resolve is None:
                raise LookupError(f'ruleset "{base.name}": cannot find profile ruleset "{name}" (no ruleset folder is known here)')
            variant = base.resolve(name)
            if variant.hash in hashes:
                chosen = {}
                break
            if all(p.hash != base.hash for p in variant.lineage()):
                raise LookupError(f'ruleset "{base.name}": profile ruleset "{name}" must extend "{base.name}"')
            chosen[spec] = (base, variant)
        out.update(chosen)
    return out


def _with_profile(lineage: list[Program], base: Program, variant: Program) -> list[Program]:
    """The lineage with the profile's ruleset (and what it adds) right after the ruleset naming it."""
    hashes = {p.hash for p in lineage}
    added = [p for p in variant.lineage() if p.hash not in hashes]
    at = next(i for i, p in enumerate(lineage) if p.hash == base.hash) + 1
    return [*lineage[:at], *added, *lineage[at:]]


def _build(program: Program, lineage: list[Program], key: str, profile: str | None = None) -> CompiledRuleset:
    with LOCK:
        units = [compile_unit(p) for p in lineage]
        disabled: set[str] = set()
        severities: dict[str, str] = {}
        when: list[tuple[int, int, ast.Disable]] = []  # (unit, position in its `disables`, statement)
        for pos, p in enumerate(lineage):
            for item in p.statements(ast.Override):
                severities[item.rule] = item.severity
            disables = p.statements(ast.Disable)
            disabled.update(rid for item in disables if item.when is None for rid in item.rules)
            when += [(pos, n, item) for n, item in enumerate(d for d in disables if d.when is not None)]
        flags = [tuple(m.id not in disabled for m in u.metas) for u in units]
        route_unit = next((u for u, p in zip(reversed(units), reversed(lineage), strict=True) if p.has_route), None)
        params = {param.name: param.value.value for p in lineage for param in p.params if isinstance(param.value, ast.Literal)}
        conditional = tuple(
            ConditionalDisable(pos, position, tuple(
                (n, m.index) for n, u in enumerate(units) for m in u.metas if m.id in item.rules and flags[n][m.index]
            ))
            for pos, position, item in when
        )
        route_unit = next((u for u, p in zip(reversed(units), reversed(lineage), strict=True) if p.has_route), None)
        params = {param.name: param.value.value for p in lineage for param in p.params if isinstance(param.value, ast.Literal)}
        return CompiledRuleset(program.name, program.version, key, units, flags, severities, route_unit, program.customers,
                               profile=profile, params=params, conditional=conditional)


def _fast_functions(program: Program) -> tuple[list[RuleMeta], Functions]:
    """A unit's rule metadata and functions, kept on disk by content: a warm run neither walks the
    rules for their metadata nor generates their code, it unpickles the constants and runs the code.
    A ruleset reading a tenant's reference tables (the service) is not kept: their rows stay off disk."""
    if not program.references:
        kept = kept_functions(program.hash)
        if kept is not None:
            return kept
    metas = _metas(program)
    compiler = _UnitCompiler(program, metas)
    functions = compiler.build(explain=False)
    if not program.references:
        disk_cache.store("units", unit_entry(program.hash), (metas, compiler.constants, functions.source, marshal.dumps(compiler.code)))
    return metas, functions


def explain_functions(program: Program, metas: list[RuleMeta]) -> Functions:
    """The instrumented variant of a unit, for explain mode (compiled on first use), kept on disk
    as the unit is (not with reference tables), without the rule metadata the unit has already."""
    compiler = _UnitCompiler(program, metas)
    functions = compiler.build(explain=True)
    if not program.references:
        constants = {k: v for k, v in compiler.constants.items() if not _META_NAME.fullmatch(k)}
        disk_cache.store("units", explain_entry(program.hash), (constants, functions.source, marshal.dumps(compiler.code)))
    return functions


#: The constants that are a unit's own rule metadata (`_M<index>`), set again when loaded.
_META_NAME = re.compile(r"_M\d+")


def _code_object(source: str, filename: str) -> CodeType:
    """Python's compile of the generated source (a third of a standard ruleset's compile time), kept on disk by content."""
    entry = disk_cache.key(source, filename, sys.version)
    saved = disk_cache.load("code", entry)
    if isinstance(saved, bytes):
        try:
            code = marshal.loads(saved)
        except (EOFError, ValueError, TypeError):
            code = None
        if isinstance(code, CodeType):
            return code
    code = compile(source, filename, "exec")
    disk_cache.store("code", entry, marshal.dumps(code))
    return code


# --------------------------------------------------------------------------- rule metadata


def _metas(program: Program) -> list[RuleMeta]:
    out: list[RuleMeta] = []
    rules: list[ast.ValidateRule | ast.EnrichRule] = [*program.enrich_rules, *program.validate_rules]
    for index, rule in enumerate(rules):
        nodes = tuple(f.node for s in rule.scopes for f in s.frames if f.index)
        where = f"{Path(rule.src.path).name}:{rule.line}" if rule.src else f"line {rule.line}"
        if isinstance(rule, ast.ValidateRule):
            paths, bts = _fields(rule.assertion) if rule.assertion is not None else ((), ())
            out.append(RuleMeta(index, rule.id, "validate", rule.severity, {}, paths, bts, nodes, program.name, program.version, where))
        else:
            targets = [a.target.ref.node for a in rule.actions if a.target.ref is not None]
            paths = tuple(dict.fromkeys(n.path for n in targets))
            bts = tuple(dict.fromkeys(n.bt for n in targets if n.bt))
            out.append(RuleMeta(index, rule.name, "enrich", "info", {}, paths, bts, nodes, program.name, program.version, where))
    return out


def _reads_scope(e: ast.Expr) -> bool:
    """Whether an expression names a `for each` variable (or anything but the invoice and lets)."""
    found = False

    def visit(node: Any) -> None:
        nonlocal found
        if isinstance(node, ast.Path) and isinstance(node.ref, PathRef):
            if node.ref.let is None and node.ref.base is not None and node.ref.base.kind != "root":
                found = True
            return
        if isinstance(node, ast.Node):
            for value in vars(node).values():
                if isinstance(value, ast.Node):
                    visit(value)
                elif isinstance(value, list):
                    for item in value:
                        if isinstance(item, ast.Node):
                            visit(item)

    visit(e)
    return found


def _fields(e: ast.Expr) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The catalogue paths and BT ids an expression reads, in order of appearance."""
    paths: dict[str, None] = {}
    bts: dict[str, None] = {}

    def visit(node: Any) -> None:
        if isinstance(node, ast.Path) and isinstance(node.ref, PathRef) and node.ref.let is None and node.ref.node is not None:
            n = node.ref.node
            if n.path and not n.is_group:
                paths[n.path] = None
                if n.bt:
                    bts[n.bt] = None
            return
        if isinstance(node, ast.Node):
            for value in vars(node).values():
                if isinstance(value, ast.Node):
                    visit(value)
                elif isinstance(value, list):
                    for item in value:
                        if isinstance(item, ast.Node):
                            visit(item)

    visit(e)
    return tuple(paths), tuple(bts)


# --------------------------------------------------------------------------- code generation


class _UnitCompiler:
    def __init__(self, program: Program, metas: list[RuleMeta]) -> None:
        self.program = program
        self.metas = metas
        self.namespace = base_namespace()
        self._base = set(self.namespace)
        #: After `build`: the constants the generated code reads (rule metadata included) and its code object.
        self.constants: dict[str, Any] = {}
        self.code: CodeType | None = None
        self.consts = Constants(self.namespace)
        self.codelists = program.decls.codelists
        rules = [*program.enrich_rules, *program.validate_rules]
        self._meta_by_rule = {id(rule): meta for rule, meta in zip(rules, metas, strict=True)}

    def build(self, *, explain: bool) -> Functions:
        code = Code()
        for meta in self.metas:
            self.namespace[f"_M{meta.index}"] = meta
        if self.program.enrich_rules:
            self.enrich(code, explain)
        if self.program.validate_rules:
            self.validate(code, explain)
        if self.program.has_route:
            self.route(code, explain)
        if any(d.when is not None for d in self.program.statements(ast.Disable)):
            self.disables(code)
        source = "\n".join(code.lines) + "\n"
        filename = f"<ruleset {self.program.name} {self.program.version}{' explain' if explain else ''}>"
        self.constants = {k: v for k, v in self.namespace.items() if k not in self._base}
        self.code = _code_object(source, filename)
        exec(self.code, self.namespace)  # noqa: S102 - our own generated code
        return Functions(self.namespace.get("enrich"), self.namespace.get("validate"), self.namespace.get("route"), source, self.namespace.get("disables"))

    def gen(self, *, hoist: bool) -> Gen:
        return Gen(self.consts, self.codelists, hoist=hoist)

    # ---- helpers

    def meta_of(self, rule: ast.Statement) -> RuleMeta:
        return self._meta_by_rule[id(rule)]

    def scope_loops(self, code: Code, gen: Gen, scopes: list[ast.Scope]) -> list[str]:
        """Open the loops of `for each` clauses; returns the `where` conditions to check inside."""
        wheres: list[str] = []
        for scope in scopes:
            ref: PathRef = scope.source.ref
            frames: list[Frame] = scope.frames
            cur, nullable, steps = gen.base(ref)
            pending: list[str] = []
            loops = iter([f for f in frames if f.loops])
            for step in steps:
                if step.repeats:
                    frame = next(loops)
                    iterable = gen.iterable(cur, nullable, [*pending, step.name])
                    code.line(f"for {frame.index}, {frame.pyvar} in enumerate({iterable}, 1):")
                    code.level += 1
                    cur, nullable, pending = frame.pyvar, False, []
                else:
                    pending.append(step.name)
            last = frames[-1]
            if not last.loops:
                if last.item and ref.node is not None and ref.node.wrapper:
                    pending.append(ref.node.wrapper)
                code.line(f"{last.pyvar} = {gen.chain(cur, nullable, pending)}")
                code.line(f"if {last.pyvar} is None:")
                code.line("    continue")
            if scope.where is not None:
                wheres.append(gen.expr(scope.where))
        return wheres

    @staticmethod
    def occurrence(scopes: list[ast.Scope]) -> str:
        pairs = [f"({f.index}, {f.pyvar})" for s in scopes for f in s.frames if f.index]
        return f"({', '.join(pairs)},)" if pairs else "None"

    def message_args(self, gen: Gen, rule: ast.ValidateRule, meta: RuleMeta) -> str:
        args: list[str] = []
        keys: dict[str, int] = {}
        for msg in rule.messages:
            meta.messages[msg.lang] = gen.template(msg.template, args, keys)
        return f"({', '.join(args)},)" if args else "()"

    def function(self, code: Code, header: str, prelude: list[str], gen: Gen, body: Code) -> None:
        code.line(header)
        head = Code(level=1)
        for line in prelude:
            head.line(line)
        gen.preamble(head, body)
        code.extend(head)
        code.extend(body)
        code.line("")

    # ---- validate

    def validate(self, code: Code, explain: bool) -> None:
        gen = self.gen(hoist=True)
        body = Code(level=1)
        rules = self.program.validate_rules
        groups: dict[str, list[ast.ValidateRule]] = {}
        seen_families: set[int] = set()
        for rule in rules:
            if rule.family is not None:
                if id(rule.family) not in seen_families:
                    seen_families.add(id(rule.family))
                    if explain:
                        self.family_explained(body, gen, rule.family)
                    else:
                        self.family(body, gen, rule.family)
                continue
            if rule.scopes and not explain and rule.scopes[0].source.ref.base.kind == "root":
                groups.setdefault(format_expr(rule.scopes[0].source), []).append(rule)
            else:
                self.validate_rule(body, gen, rule, explain, shared=False)
        for group in groups.values():
            self.merged(body, gen, group)
        prelude = ["_fail = R.fail", "_err = R.error", "_today = R.today"]
        if explain:
            prelude.append("_explain = R.explain_rule")
        self.function(code, "def validate(inv, R, _on):", prelude, gen, body)

    def merged(self, body: Code, gen: Gen, group: list[ast.ValidateRule]) -> None:
        """Rules over the same repeating group share one loop (each keeps its own try)."""
        leader = group[0].scopes[0]
        for rule in group[1:]:
            for mine, theirs in zip(rule.scopes[0].frames, leader.frames, strict=True):
                mine.pyvar, mine.index = theirs.pyvar, theirs.index
        for rule in group:
            meta = self.meta_of(rule)
            body.line(f"_on{meta.index} = _on[{meta.index}]")
        body.line(f"if {' or '.join(f'_on{self.meta_of(r).index}' for r in group)}:")
        level = body.level
        body.level += 1
        wheres = self.scope_loops(body, gen, [leader])
        inner = Code(level=body.level)
        loop_vars = [f.pyvar for f in leader.frames]
        for var in loop_vars:
            gen.loop_hoists[var] = {}
        for rule in group:
            own_where = [gen.expr(rule.scopes[0].where)] if rule.scopes[0].where is not None and rule is not group[0] else []
            self.validate_rule(inner, gen, rule, False, shared=True, extra=(wheres if rule is group[0] else own_where))
        text = "\n".join(inner.lines)
        for var in loop_vars:
            for attr, hoisted in gen.loop_hoists.pop(var).items():
                if hoisted in gen.loop_values and len(re.findall(rf"\b{hoisted}\b", text)) < 2:
                    # read by one place only: reading it there costs no more, and only when reached
                    inner.lines = [re.sub(rf"\b{hoisted}\b", f"{var}.{attr}", line) for line in inner.lines]
                    continue
                body.line(f"{hoisted} = {var}.{attr}")
        body.extend(inner)
        body.level = level

    def family_tables(self, family: ast.Family) -> tuple[str, str]:
        """The family's key tables as constants: (exact, suffix) names."""
        members = [(m.keys, self.meta_of(m).index, self.meta_of(m)) for m in family.members]
        exact, suffixes = families.tables(members)
        return (
            self.consts.add("_FX", ("family-exact", id(family)), exact),
            self.consts.add("_FS", ("family-suffix", id(family)), suffixes),
        )

    def family_args(self, gen: Gen, family: ast.Family) -> str:
        """The message arguments every member shares (members share their messages)."""
        first = self.meta_of(family.members[0])
        args = self.message_args(gen, family.members[0], first)
        for member in family.members[1:]:
            self.meta_of(member).messages.update(first.messages)
        return args

    def family(self, body: Code, gen: Gen, family: ast.Family) -> None:
        """All members of a family at once: per occurrence, one look-up of the key.

        Each hit still goes through its own member's switch (`_on`) and meta, so a
        disabled or overridden member behaves as an ordinary rule would.
        """
        first = self.meta_of(family.members[0])
        args = self.family_args(gen, family)
        exact, suffixes = self.family_tables(family)
        level = body.level
        body.line("try:")
        body.level += 1
        # A `when` about the invoice (not the occurrence) is tested once, before the loop:
        # on a valid invoice a family then costs one test.
        once = family.when is not None and not _reads_scope(family.when)
        if once:
            body.line(f"if {gen.expr(family.when)}:")
            body.level += 1
        conditions = self.scope_loops(body, gen, family.scopes)
        if family.when is not None and not once:
            conditions.append(gen.expr(family.when))
        assert family.key is not None
        hits = f"_rt_family_hits({exact}, {suffixes}, {gen.expr(family.key)})"
        occurrence = self.occurrence(family.scopes)
        if conditions:
            body.line(f"if {' and '.join(conditions)}:")
            body.level += 1
        body.line(f"for _i, _m in {hits}:")
        body.line("    if _on[_i]:")
        body.line(f"        _fail(_m, {occurrence}, {args})")
        body.level = level
        body.line("except Exception as _e:")
        body.line(f"    _err(_M{first.index}, _e)")

    def family_explained(self, body: Code, gen: Gen, family: ast.Family) -> None:
        """Explain mode: the members, which share their scopes, condition and key, share one loop.

        Per occurrence the condition and the key are evaluated and recorded once, and each
        member that is on gets the occurrence with the same values and its own verdict: what
        each member's own loop gave (en16931's 600 UBL-CR members each walked every syntax fact,
        recording it again: ≈ 40 ms of every `aiguillage test` case).
        """
        args = self.family_args(gen, family)
        own = self.consts.add("_FE", ("family-explained", id(family)), tuple(self.meta_of(m) for m in family.members))
        exact, suffixes = self.family_tables(family)
        level = body.level
        body.line(f"_xs = [(_m, _explain(_m)) for _m in {own} if _on[_m.index]]")
        body.line("if _xs:")
        body.level += 1
        body.line("try:")
        body.level += 1
        self.scope_loops(body, gen, family.scopes)
        occurrence = self.occurrence(family.scopes)
        assert family.key is not None
        body.line("_v = {}")
        gen.record = "_v"
        applicable = " and ".join(self._recorded_conditions(gen, family.scopes, family.when)) or "True"
        body.line(f"_a = {applicable}")
        body.line(f"_h = {{_i for _i, _ in _rt_family_hits({exact}, {suffixes}, {gen.expr(family.key)})}} if _a else ()")
        gen.record = None
        body.line("for _m, _x in _xs:")
        body.line("    _p = _m.index not in _h if _a else None")
        body.line(f"    _x.append(({occurrence}, _a, _p, _v))")
        body.line("    if _a and not _p:")
        body.line(f"        _fail(_m, {occurrence}, {args})")
        body.level = level + 1
        body.line("except Exception as _e:")
        body.line("    for _m, _ in _xs:")
        body.line("        _err(_m, _e)")
        body.level = level

    def assertion(self, gen: Gen, rule: ast.ValidateRule) -> str:
        """The assert as Python; a family member's is "the key is none of mine"."""
        if rule.family is None:
            assert rule.assertion is not None
            return gen.expr(rule.assertion)
        assert rule.family.key is not None
        exact, suffixes = families.tables([(rule.keys, 0, None)])
        own = self.consts.add("_FK", ("family-member", id(rule)), (exact, suffixes))
        return f"not _rt_family_hits({own}[0], {own}[1], {gen.expr(rule.family.key)})"

    def validate_rule(self, body: Code, gen: Gen, rule: ast.ValidateRule, explain: bool, *, shared: bool, extra: list[str] | None = None) -> None:
        meta = self.meta_of(rule)
        m = f"_M{meta.index}"
        level = body.level
        body.line(f"if _on{meta.index}:" if shared else f"if _on[{meta.index}]:")
        body.level += 1
        if explain:
            body.line(f"_x = _explain({m})")
        body.line("try:")
        body.level += 1
        conditions = list(extra or [])
        conditions += self.scope_loops(body, gen, rule.scopes[1:] if shared else rule.scopes)
        occurrence = self.occurrence(rule.scopes)
        args = self.message_args(gen, rule, meta)
        if explain:
            body.line("_v = {}")
            gen.record = "_v"
            conditions = self._recorded_conditions(gen, rule.scopes, rule.when)
            applicable = " and ".join(conditions) or "True"
            body.line(f"_a = {applicable}")
            body.line(f"_p = bool({self.assertion(gen, rule)}) if _a else None")
            gen.record = None
            body.line(f"_x.append(({occurrence}, _a, _p, _v))")
            body.line("if _a and not _p:")
            body.line(f"    _fail({m}, {occurrence}, {args})")
        else:
            if rule.when is not None:
                conditions.append(gen.expr(rule.when))
            test = " and ".join([*conditions, f"not {self.assertion(gen, rule)}"])
            body.line(f"if {test}:")
            body.line(f"    _fail({m}, {occurrence}, {args})")
        body.level = level + 1
        body.line("except Exception as _e:")
        body.line(f"    _err({m}, _e)")
        body.level = level

    def _recorded_conditions(self, gen: Gen, scopes: list[ast.Scope], when: ast.Expr | None) -> list[str]:
        conditions = [gen.expr(s.where) for s in scopes if s.where is not None]
        if when is not None:
            conditions.append(gen.expr(when))
        return conditions

    # ---- conditional disables

    def disables(self, code: Code) -> None:
        """`disables(inv, R)`: whether each `disable ... when` holds for the invoice, in order.
        A condition that cannot be evaluated gives `engine-error:disable@FILE:LINE` and does
        not hold (the rules it names run)."""
        gen = self.gen(hoist=False)
        body = Code(level=1)
        held: list[str] = []
        for n, item in enumerate(d for d in self.program.statements(ast.Disable) if d.when is not None):
            where = self.source(item, item.src)
            meta = RuleMeta(-1, f"disable@{where}", "validate", "error", {}, (), (), (), self.program.name, self.program.version, where)
            name = self.consts.add("_MD", ("disable", n), meta)
            assert item.when is not None
            body.line("try:")
            body.line(f"    _d{n} = bool({gen.expr(item.when)})")
            body.line("except Exception as _e:")
            body.line(f"    _err({name}, _e)")
            body.line(f"    _d{n} = False")
            held.append(f"_d{n}")
        body.line(f"return ({', '.join(held)},)")
        self.function(code, "def disables(inv, R):", ["_err = R.error", "_today = R.today"], gen, body)

    # ---- enrich

    def enrich(self, code: Code, explain: bool) -> None:
        gen = self.gen(hoist=False)
        body = Code(level=1)
        for rule in self.program.enrich_rules:
            meta = self.meta_of(rule)
            m = f"_M{meta.index}"
            level = body.level
            body.line(f"if _on[{meta.index}]:")
            body.level += 1
            if explain:
                body.line(f"_x = _explain({m})")
            body.line("try:")
            body.level += 1
            body.line("inv = R.inv")
            # `for each ... where` filters are folded into the condition, so explain sees every occurrence
            self.scope_loops(body, gen, rule.scopes)
            if explain:
                body.line("_v = {}")
                gen.record = "_v"
            conditions = self._recorded_conditions(gen, rule.scopes, rule.when)
            gen.record = None
            indices = self.occurrence_indices(rule.scopes)
            if explain:
                body.line(f"_a = {' and '.join(conditions) or 'True'}")
                body.line("_w = False")
                body.line("if _a:")
            else:
                body.line(f"if {' and '.join(conditions) or 'True'}:")
            body.level += 1
            for n, action in enumerate(rule.actions):
                target = self.write_target(action.target.ref, rule.scopes)
                name = self.consts.add("_W", ("write", meta.index, n), target)
                value = gen.expr(action.expr)
                wrote = f"_write({m}, {name}, {indices}, {value}, {action.mode!r})"
                body.line(f"_w = {wrote} or _w" if explain else wrote)
            body.level -= 1
            if explain:
                body.line(f"_x.append(({self.occurrence(rule.scopes)}, _a, _w if _a else None, _v))")
            body.level = level + 1
            body.line("except Exception as _e:")
            body.line(f"    _err({m}, _e)")
            body.level = level
        prelude = ["inv = R.inv", "_err = R.error", "_write = R.write", "_today = R.today"]
        if explain:
            prelude.append("_explain = R.explain_rule")
        self.function(code, "def enrich(R, _on):", prelude, gen, body)

    @staticmethod
    def occurrence_indices(scopes: list[ast.Scope]) -> str:
        names = [f.index for s in scopes for f in s.frames if f.index]
        return f"({', '.join(names)},)" if names else "()"

    @staticmethod
    def write_target(ref: PathRef, scopes: list[ast.Scope]) -> WriteTarget:
        base = ref.base
        assert base is not None and ref.node is not None
        chain = (base.node.chain() if base.kind != "root" else []) + list(ref.steps)
        steps: list[tuple[str, str, Any, str | None]] = []
        for node in chain:
            if node.repeats:
                kind = "list"
            elif node is chain[-1]:
                kind = "wrapper" if node.wrapper else "value"
            else:
                kind = "object"
            steps.append((node.name, kind, node.cls, node.wrapper))
        return WriteTarget(tuple(steps))

    # ---- route

    def route(self, code: Code, explain: bool) -> None:
        gen = self.gen(hoist=True)
        body = Code(level=1)
        items = self.program.route_items
        chain = [i for i in items if isinstance(i, ast.RouteWhen) and i.kind != "also"]
        if chain:
            body.line("_m = False")
        for item in items:
            if isinstance(item, ast.RouteWhen):
                self.route_when(body, gen, item, explain)
            elif isinstance(item, ast.Decision):
                self.decision(body, gen, item, explain)
        prelude = ["_route = R.route", "_hold = R.hold", "_today = R.today", "_lang = R.lang"]
        self.function(code, "def route(inv, R):", prelude, gen, body)

    def source(self, node: ast.Statement | ast.Node, src: ast.SourceFile | None) -> str:
        return f"{Path(src.path).name}:{node.line}" if src else f"line {node.line}"

    def route_when(self, body: Code, gen: Gen, item: ast.RouteWhen, explain: bool) -> None:
        where = self.source(item, item.src)
        if explain:
            gen.record = "_v"
            body.line("_v = {}")
        cond = gen.expr(item.cond) if item.cond is not None else "True"
        gen.record = None
        test = cond if item.kind == "also" else f"not _m and {cond}"
        body.line(f"_c = {test}")
        if explain:
            label = "otherwise" if item.cond is None else format_expr(item.cond)
            body.line(f"R.explain_route({where!r}, {label!r}, _c, _v)")
        body.line("if _c:")
        body.level += 1
        if item.kind != "also":
            body.line("_m = True")
        self.outcomes(body, gen, item.outcomes, where)
        body.level -= 1

    def decision(self, body: Code, gen: Gen, table: ast.Decision, explain: bool) -> None:
        inputs = []
        for e in table.inputs:
            var = gen.tmp("_d")
            body.line(f"{var} = {gen.expr(e)}")
            inputs.append(var)
        name = f'decision "{table.name}"' if table.name else "decision"
        if table.policy == "first":
            body.line("_dm = False")
        for n, row in enumerate(table.rows, 1):
            tests = [self.cell(gen, var, cell) for var, cell in zip(inputs, row.cells, strict=False)]
            test = " and ".join(t for t in tests if t) or "True"
            if table.policy == "first":
                test = f"not _dm and {test}"
            body.line(f"_c = {test}")
            where = f"{name} row {n} ({self.source(row, table.src)})"
            if explain:
                values = "{" + ", ".join(f"{format_expr(e)!r}: {v}" for e, v in zip(table.inputs, inputs, strict=True)) + "}"
                body.line(f"R.explain_route({where!r}, {' | '.join(format_cell_text(c) for c in row.cells)!r}, _c, {values})")
            body.line("if _c:")
            body.level += 1
            if table.policy == "first":
                body.line("_dm = True")
            self.outcomes(body, gen, row.outcomes, where)
            body.level -= 1

    def cell(self, gen: Gen, var: str, cell: ast.Cell) -> str:
        kind = cell.kind
        if kind == "any":
            return ""
        if kind == "exists":
            return f"{var} is not None"
        if kind == "missing":
            return f"{var} is None"
        if kind in ("in_codelist", "not_in_codelist"):
            name = self.consts.add("_L", ("codelist", cell.codelist), self.codelists[cell.codelist or ""].values)
            return f"{var} in {name}" if kind == "in_codelist" else f"({var} is not None and {var} not in {name})"
        if kind in ("in_list", "not_in_list"):
            members = "(" + ", ".join(gen.expr(i) for i in cell.items) + ",)"
            return f"{var} in {members}" if kind == "in_list" else f"({var} is not None and {var} not in {members})"
        assert cell.expr is not None
        value = gen.expr(cell.expr)
        op = {"=": "==", "!=": "!=", "<": "<", "<=": "<=", ">": ">", ">=": ">="}[cell.op or "="]
        if isinstance(cell.expr, ast.Literal):
            return f"({var} is not None and {var} {op} {value})"
        t = gen.tmp()
        return f"({var} is not None and ({t} := {value}) is not None and {var} {op} {t})"

    def outcomes(self, body: Code, gen: Gen, outcomes: list[ast.Outcome], where: str) -> None:
        for o in outcomes:
            if isinstance(o, ast.ApprovalOutcome):
                if o.params:  # the approval's workflow settings travel with the hold
                    params = "{" + ", ".join(f"{name!r}: {self.value(gen, v)}" for name, v in o.params) + "}"
                    body.line(f"_hold('approval', {o.role!r}, None, {where!r}, {params})")
                else:
                    body.line(f"_hold('approval', {o.role!r}, None, {where!r})")
            elif isinstance(o, ast.HoldOutcome):
                body.line(f"_hold('hold', None, {self.text(gen, o.reason)}, {where!r})")
            else:
                assert isinstance(o, ast.ChannelOutcome)
                to = "None" if o.to is None else self.text(gen, o.to)
                params = "{" + ", ".join(f"{name!r}: {self.value(gen, v)}" for name, v in o.params) + "}"
                body.line(f"_route({o.channel!r}, {o.format!r}, {to}, {params}, {where!r})")

    def text(self, gen: Gen, value: ast.Template | ast.Expr) -> str:
        if isinstance(value, ast.Template):
            args: list[str] = []
            parts = gen.template(value, args, {})
            if not args:
                return repr("".join(p for p in parts if isinstance(p, str)))
            name = self.consts.add("_P", ("parts", parts), parts)
            return f"_rt_render({name}, ({', '.join(args)},), _lang)"
        return f"_rt_to_text({gen.expr(value)})"

    def value(self, gen: Gen, value: ast.Template | ast.Expr) -> str:
        return self.text(gen, value) if isinstance(value, ast.Template) else gen.expr(value)


def format_cell_text(cell: ast.Cell) -> str:
    from aiguillage.dsl.formatter import format_cell

    return format_cell(cell)


#: Builtins generated code may use: nothing that reaches files, imports or the interpreter.
