"""Evaluate a compiled ruleset on one invoice: enrich, validate, route → Decision.

`evaluate` never raises because of the invoice: a rule that fails at run
time (division by zero, a text too long for a regex) becomes a finding
`engine-error:<rule id>` with severity `error`, and the other rules still
run. The caller's invoice is never changed: the first enrichment works on a
deep copy, which the later phases then read.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import date
from decimal import Decimal
from time import perf_counter
from typing import Any

from aiguillage.engine.compiled import CompiledRuleset, CompiledUnit, RuleMeta, WriteTarget
from aiguillage.engine.decision import (
    BLOCKING,
    Decision,
    Enrichment,
    ExplainEntry,
    ExplainOccurrence,
    Finding,
    Hold,
    Route,
    RulesetUsed,
    Timings,
)
from aiguillage.engine.runtime import render, show
from aiguillage.model.invoice import Invoice

_UNLABELLED: Any = object()

_ENGINE_ERROR = {
    "en": "the rule could not be evaluated on this invoice ({error}); the invoice was not checked by it",
    "fr": "la règle n'a pas pu être évaluée sur cette facture ({error}) ; la facture n'a pas été contrôlée par elle",
}


class Run:
    """The state of one evaluation; generated code calls its methods (`R.fail`, `R.write`, ...)."""

    def __init__(self, invoice: Invoice, compiled: CompiledRuleset, lang: str, today: date, explain: bool) -> None:
        self.inv = invoice
        #: ids of the objects this evaluation copied or created (and so may change)
        self._owned: set[int] = set()
        self.lang = lang
        self.today = today
        self.severities = compiled.severities
        #: The ruleset's params (`param`), which the generated code reads by name.
        self.params = compiled.params
        self.unit_pos = 0
        #: (unit position, rule index, occurrence key, meta, occurrence, args, severity, rule id override)
        self.raw: list[tuple[Any, ...]] = []
        self.fired: set[str] = set()
        self._errored: set[tuple[int, str]] = set()
        self.enrichments: list[Enrichment] = []
        self.routes: list[Route] = []
        self.holds: list[Hold] = []
        self.explain_on = explain
        self.route_ruleset = compiled.route_unit.name if compiled.route_unit is not None else ""
        self.trace: list[tuple[int, RuleMeta, list[Any]]] = []
        self.route_trace: list[ExplainEntry] = []

    # ---- called by generated code

    def fail(self, meta: RuleMeta, occurrence: tuple[Any, ...] | None, args: tuple[Any, ...]) -> None:
        severity = self.severities.get(meta.id, meta.severity)
        self.raw.append((self.unit_pos, meta.index, _occurrence_key(occurrence), meta, occurrence, args, severity, None))
        self.fired.add(meta.id)

    def error(self, meta: RuleMeta, exc: BaseException) -> None:
        if (self.unit_pos, meta.id) in self._errored:
            return
        self._errored.add((self.unit_pos, meta.id))
        rule = f"engine-error:{meta.id}"
        self.raw.append((self.unit_pos, meta.index, (), meta, None, (_describe(exc),), "error", rule))
        self.fired.add(rule)

    def write(self, meta: RuleMeta, target: WriteTarget, indices: tuple[int, ...], value: Any, mode: str) -> bool:
        """Write one field. The caller's invoice is never changed: the objects on the way to the
        field are copied (once per evaluation) and the rest of the invoice is shared."""
        if mode == "fill" and value is None:
            return False
        if type(value) is int:
            value = Decimal(value)
        obj: Any = self._own_root()
        where = iter(indices)
        parts: list[str] = []
        for name, kind, cls, _ in target.steps[:-1]:
            if kind == "list":
                index = next(where)
                items = self._own_attr(obj, name, list)
                item = items[index - 1]
                if id(item) not in self._owned:
                    item = items[index - 1] = self._adopt(item.model_copy())
                obj = item
                parts.append(f"{name}[{index}]")
                continue
            obj = self._own_attr(obj, name, cls)
            parts.append(name)
        name, kind, cls, wrapper = target.steps[-1]
        parts.append(name)
        if kind == "wrapper":
            holder = getattr(obj, name)
            old = getattr(holder, wrapper) if holder is not None else None
            if mode == "fill" and old is not None:
                return False
            setattr(self._own_attr(obj, name, cls), wrapper, value)
        else:
            old = getattr(obj, name)
            if mode == "fill" and old is not None:
                return False
            setattr(obj, name, value)
        self.enrichments.append(Enrichment.build(rule=meta.id, field=".".join(parts), old=old, new=value, ruleset=meta.ruleset))
        return True

    def _adopt(self, obj: Any) -> Any:
        self._owned.add(id(obj))
        return obj

    def _own_root(self) -> Invoice:
        if id(self.inv) not in self._owned:
            self.inv = self._adopt(self.inv.model_copy())
        return self.inv

    def _own_attr(self, obj: Any, name: str, cls: Any) -> Any:
        """obj.name as an object (or list) of this evaluation's own, created or copied as needed."""
        child = getattr(obj, name)
        if child is None:
            child = self._adopt(cls())
        elif id(child) not in self._owned:
            child = self._adopt(list(child) if isinstance(child, list) else child.model_copy())
        else:
            return child
        setattr(obj, name, child)
        return child

    def has(self, what: str) -> bool:
        if what == "errors":
            return any(r[6] in BLOCKING for r in self.raw)
        if what == "warnings":
            return any(r[6] == "warning" for r in self.raw)
        return bool(self.raw)

    def has_finding(self, rule: str) -> bool:
        return rule in self.fired

    def route(self, channel: str, fmt: str | None, to: str | None, params: dict[str, Any], source: str) -> None:
        self.routes.append(Route.build(channel=channel, format=fmt, to=to, params=params, source=source))

    def hold(self, kind: str, role: str | None, reason: str | None, source: str,
             params: dict[str, Any] | None = None) -> None:
        self.holds.append(Hold.build(kind=kind, role=role, reason=reason, source=source, params=params or {}))

    def explain_rule(self, meta: RuleMeta) -> list[Any]:
        occurrences: list[Any] = []
        self.trace.append((self.unit_pos, meta, occurrences))
        return occurrences

    def explain_route(self, where: str, label: str, matched: bool, values: dict[str, Any]) -> None:
        occurrence = ExplainOccurrence.build(occurrence=label, applicable=True, passed=bool(matched), values=values)
        self.route_trace.append(ExplainEntry.build(rule=where, kind="route", ruleset=self.route_ruleset, fired=bool(matched), occurrences=[occurrence]))

    # ---- results

    def findings(self, units: list[CompiledUnit]) -> list[Finding]:
        out: list[Finding] = []
        for _, _, _, meta, occurrence, args, severity, rule in sorted(self.raw, key=lambda r: r[:3]):
            paths = [_instantiate(p, meta.scope_nodes, occurrence) for p in meta.paths]
            if rule is None:
                template = meta.messages.get(self.lang) or meta.messages.get("en") or next(iter(meta.messages.values()), ("",))
                message = render(template, args, self.lang)
            else:
                message = (_ENGINE_ERROR.get(self.lang) or _ENGINE_ERROR["en"]).format(error=args[0])
            out.append(
                Finding.build(
                    rule=rule or meta.id,
                    severity=severity,
                    message=message,
                    path=paths[0] if paths else None,
                    paths=paths,
                    bt_ids=list(meta.bt_ids),
                    occurrence=_label(meta.scope_nodes, occurrence, self.lang),
                    ruleset=meta.ruleset,
                    ruleset_version=meta.version,
                )
            )
        return out

    def explain(self) -> list[ExplainEntry]:
        """The trace as entries. A family's members record each occurrence with one shared values
        dict (en16931's 600 UBL-CR members, each over every syntax fact): its label is made once,
        and members that judged it alike share one occurrence object (never changed once built)."""
        entries: list[ExplainEntry] = []
        labels: dict[tuple[Any, ...], str | None] = {}
        shared: dict[tuple[Any, ...], ExplainOccurrence] = {}
        for _, meta, occurrences in sorted(self.trace, key=lambda t: (t[0], t[1].index)):
            items = []
            for occ, applicable, passed, values in occurrences:
                # the same objects at the same places: a label reads them (a VAT breakdown's category)
                where = (meta.scope_nodes, tuple((index, id(obj)) for index, obj in occ) if occ else ())
                label = labels.get(where, _UNLABELLED)
                if label is _UNLABELLED:
                    label = labels[where] = _label(meta.scope_nodes, occ, self.lang)
                key = (label, bool(applicable), passed, id(values))
                item = shared.get(key)
                if item is None or item.values is not values:
                    item = shared[key] = ExplainOccurrence.build(occurrence=label, applicable=bool(applicable), passed=passed, values=values)
                items.append(item)
            if meta.kind == "validate":
                fired = any(o.applicable and o.passed is False for o in items)
            else:
                fired = any(o.passed for o in items)
            entries.append(ExplainEntry.build(rule=meta.id, kind=meta.kind, ruleset=meta.ruleset, fired=fired, occurrences=items))
        return entries + self.route_trace


def evaluate(invoice: Invoice, compiled: CompiledRuleset, *, lang: str = "en", explain: bool = False, today: date | None = None,
             explain_only: Collection[str] | None = None) -> Decision:
    """Enrich, validate and route one invoice. Never raises because of the invoice's content.

    An invoice whose BT-24 names a profile of the ruleset (`profile "SPEC" uses "NAME"`) is judged
    by the ruleset compiled with that profile's ruleset in place (Decision.rulesets names it).
    With `explain`, `explain_only` limits the explain entries to the rules of the rulesets it
    names (the others run uninstrumented, with the same findings): what `aiguillage test` needs
    for a ruleset's own coverage, without explaining en16931 for every case."""
    day = today or date.today()
    control = invoice.process_control
    compiled = compiled.for_invoice(control.specification_identifier if control is not None else None)
    run = Run(invoice, compiled, lang, day, explain)
    units = compiled.units
    # Plain loops, no per-phase lists or closures: with the rules compiled, this is per-invoice overhead.
    functions = [
        u.explain_functions() if explain and (explain_only is None or u.name in explain_only) else u.fast for u in units
    ]
    start = perf_counter()
    flags = _flags(run, compiled) if compiled.conditional else compiled.flags
    if len(flags) != len(units):
        raise ValueError("a compiled ruleset needs one flag tuple per unit")
    for pos, fns in enumerate(functions):
        if fns.enrich is not None:
            run.unit_pos = pos
            _run_phase(run, units[pos], fns.enrich, run, flags[pos])
    enriched = perf_counter()
    inv = run.inv
    for pos, fns in enumerate(functions):
        if fns.validate is not None:
            run.unit_pos = pos
            _run_phase(run, units[pos], fns.validate, inv, run, flags[pos])
    validated = perf_counter()
    if compiled.route_unit is not None:
        pos = units.index(compiled.route_unit)
        run.unit_pos = len(units)
        _run_phase(run, compiled.route_unit, functions[pos].route, inv, run)
    routed = perf_counter()
    timings = Timings.build(
        enrich_us=round((enriched - start) * 1e6, 1),
        validate_us=round((validated - enriched) * 1e6, 1),
        route_us=round((routed - validated) * 1e6, 1),
        total_us=round((routed - start) * 1e6, 1),
    )
    return Decision.build(
        file=None,
        findings=run.findings(compiled.units),
        enrichments=run.enrichments,
        routes=run.routes,
        holds=run.holds,
        rulesets=[RulesetUsed.build(name=n, version=v) for n, v in compiled.rulesets],
        today=day,
        timings=timings,
        explain=run.explain() if explain else None,
    )


def _flags(run: Run, compiled: CompiledRuleset) -> list[tuple[bool, ...]]:
    """The flags for this invoice: which `disable ... when` hold, judged on the invoice as
    received (before enrichment), each unit's conditions at once."""
    held: dict[int, tuple[bool, ...]] = {}
    for cond in compiled.conditional:
        if cond.unit not in held:
            unit = compiled.units[cond.unit]
            run.unit_pos = cond.unit
            try:
                held[cond.unit] = unit.fast.disables(run.inv, run)
            except Exception as exc:  # noqa: BLE001 - a decision must still be produced
                run.error(_unit_meta(unit), exc)
                held[cond.unit] = (False,) * sum(1 for c in compiled.conditional if c.unit == cond.unit)
    return compiled.flags_with(tuple(held[c.unit][c.position] for c in compiled.conditional))


def _run_phase(run: Run, unit: CompiledUnit, phase: Any, *args: Any) -> None:
    """Rules catch their own errors; this catches what escapes a whole phase (never expected)."""
    try:
        phase(*args)
    except Exception as exc:  # noqa: BLE001 - a decision must still be produced
        run.error(_unit_meta(unit), exc)


def _unit_meta(unit: CompiledUnit) -> RuleMeta:
    """What an error escaping a whole unit's code (not one rule's) is reported as."""
    return RuleMeta(-1, unit.name, "validate", "error", {}, (), (), (), unit.name, unit.version, "")


def _describe(exc: BaseException) -> str:
    text = str(exc)
    name = type(exc).__name__
    if name in ("DivisionByZero", "ZeroDivisionError") or "DivisionByZero" in text or "division by zero" in text.lower():
        return "division by zero"
    return f"{name}: {text}" if text else name


def _occurrence_key(occurrence: tuple[Any, ...] | None) -> tuple[int, ...]:
    return tuple(index for index, _ in occurrence) if occurrence else ()


def _instantiate(path: str, nodes: tuple[Any, ...], occurrence: tuple[Any, ...] | None) -> str:
    """`lines[].net_amount` → `lines[3].net_amount` for the occurrence being reported."""
    if not occurrence:
        return path
    for node, (index, _) in sorted(zip(nodes, occurrence, strict=False), key=lambda p: -len(p[0].path)):
        prefix = node.path
        if path.startswith(prefix) and prefix.endswith("[]"):
            path = f"{prefix[:-2]}[{index}]{path[len(prefix):]}"
    return path


def _label(nodes: tuple[Any, ...], occurrence: tuple[Any, ...] | None, lang: str) -> str | None:
    """"line 3", "VAT breakdown S/20", "line 2, allowance 1", "syntax fact 4 (source line 17)"."""
    if not occurrence:
        return None
    parts: list[str] = []
    for node, (index, obj) in zip(nodes, occurrence, strict=False):
        label = node.label(lang)
        if node.path == "vat_breakdown[]" and obj is not None and obj.category_code is not None:
            rate = "" if obj.rate is None else "/" + _plain(obj.rate)
            parts.append(f"{label} {obj.category_code}{rate}")
        elif node.path == "syntax_facts[]" and obj is not None and obj.line is not None:
            source_line = "ligne source" if lang == "fr" else "source line"
            parts.append(f"{label} {index} ({source_line} {obj.line})")
        else:
            parts.append(f"{label} {index}")
    return ", ".join(parts)


def _plain(value: Decimal) -> str:
    text = format(value.normalize(), "f") if value == value.to_integral_value() else show(value, "en")
    return text
