"""What a compiled ruleset is made of, and the compiled units kept on disk and in memory.

Apart from the compiler so that running a ruleset already compiled (a warm
`aiguillage evaluate`, `engine.kept_rulesets`) needs neither the compiler nor
the language's parser and checker: importing those, and loading and
checking a standard ruleset's files again, was most of a warm `evaluate`'s
start-up. A unit built here from the disk loads its checked program only if
something asks for it (explain mode, coverage).
"""

from __future__ import annotations

import builtins
import marshal
import sys
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cache
from pathlib import Path
from types import CodeType
from typing import TYPE_CHECKING, Any

from aiguillage import cache as disk_cache
from aiguillage.engine import families, runtime

if TYPE_CHECKING:
    from aiguillage.dsl.program import Program
    from aiguillage.dsl.schema import FieldNode


@dataclass(frozen=True, eq=False)
class RuleMeta:
    """What a finding needs to know about its rule, fixed at compile time."""

    index: int
    id: str
    kind: str  # "validate" or "enrich"
    severity: str
    #: language → template parts (texts and placeholder positions)
    messages: dict[str, tuple[Any, ...]]
    #: Catalogue paths of the fields the rule's assert reads (`lines[].net_amount`).
    paths: tuple[str, ...]
    bt_ids: tuple[str, ...]
    #: The repeating groups the rule runs over, outermost first (for "line 3, allowance 1").
    scope_nodes: tuple[FieldNode, ...]
    ruleset: str
    version: str
    where: str


@dataclass(frozen=True, eq=False)
class WriteTarget:
    """Where an enrich action writes: steps from the invoice, for the runtime to follow on its copy."""

    #: (attribute, kind, class to create, wrapper attribute) with kind "list", "object", "wrapper" or "value".
    steps: tuple[tuple[str, str, Any, str | None], ...]


@dataclass(eq=False)
class Functions:
    enrich: Any = None
    validate: Any = None
    route: Any = None
    source: str = ""
    #: `disables(inv, R)`: for each conditional disable of the ruleset, in order, whether it holds.
    disables: Any = None


@dataclass(frozen=True, eq=False)
class ConditionalDisable:
    """A `disable ... when` of the lineage: the unit whose `disables` judges it, its position
    there, and the (unit, rule index) switches it turns off when it holds."""

    unit: int
    position: int
    targets: tuple[tuple[int, int], ...]


@dataclass(eq=False)
class CompiledUnit:
    """One ruleset's compiled code, shared by every ruleset that extends it."""

    name: str
    version: str
    hash: str
    metas: list[RuleMeta]
    #: The checked program, or how to load it (a unit built from the disk loads it on first use).
    origin: Program | Callable[[], Program]
    fast: Functions
    _explain: Functions | None = field(default=None, repr=False)

    @property
    def program(self) -> Program:
        if callable(self.origin):
            with LOCK:
                if callable(self.origin):
                    program = self.origin()
                    if program.hash != self.hash:
                        raise RuntimeError(
                            f'ruleset "{self.name}" changed on disk since it was loaded: run again'
                        )
                    self.origin = program
        return self.origin  # type: ignore[return-value]

    @property
    def rule_ids(self) -> list[str]:
        return [m.id for m in self.metas]

    @property
    def source(self) -> str:
        """The generated Python, for the curious and for debugging."""
        return self.fast.source

    def explain_functions(self) -> Functions:
        """The instrumented variant: from the disk when kept there (no program loaded, no code
        generated), else compiled from the program and kept."""
        if self._explain is None:
            with LOCK:
                if self._explain is None:
                    kept = kept_explain(self.hash, self.metas)
                    if kept is None:
                        from aiguillage.engine.compiler import explain_functions

                        kept = explain_functions(self.program, self.metas)
                    self._explain = kept
                    STATS.explain_compilations += 1
        return self._explain


@dataclass(eq=False)
class CompiledRuleset:
    """A ruleset ready to evaluate: its units in order, and what it changes about inherited rules."""

    name: str
    version: str
    hash: str
    units: list[CompiledUnit]
    #: Per unit, one enabled flag per rule (False where a `disable` applies).
    flags: list[tuple[bool, ...]]
    #: Rule id → severity, where an `override` applies.
    severities: dict[str, str]
    route_unit: CompiledUnit | None
    customers: list[str] = field(default_factory=list)
    #: BT-24 value → this ruleset compiled with the profile's ruleset in place (`profile ... uses ...`).
    profiles: dict[str, CompiledRuleset] = field(default_factory=dict)
    #: On a profile variant: the BT-24 value it was chosen for.
    profile: str | None = None
    #: Param name → its value: the one the lineage sets last (`param`), read by the units at evaluation.
    params: dict[str, Any] = field(default_factory=dict)
    #: The lineage's `disable ... when`, in order; `flags` is what applies when none holds.
    conditional: tuple[ConditionalDisable, ...] = ()
    #: Which conditional disables hold → the flags with their rules off, made on first need.
    _flag_variants: dict[tuple[bool, ...], list[tuple[bool, ...]]] = field(default_factory=dict, repr=False)

    @property
    def rulesets(self) -> list[tuple[str, str]]:
        return [(u.name, u.version) for u in self.units]

    def for_invoice(self, specification_identifier: str | None) -> CompiledRuleset:
        """The variant that judges an invoice declaring this BT-24, or this ruleset itself."""
        if not self.profiles or specification_identifier is None:
            return self
        return self.profiles.get(specification_identifier.strip(), self)

    def rule_count(self) -> int:
        return sum(sum(f) for f in self.flags)

    def flags_with(self, held: tuple[bool, ...]) -> list[tuple[bool, ...]]:
        """The flags when the conditional disables marked True in `held` (one per `conditional`) hold."""
        if not any(held):
            return self.flags
        flags = self._flag_variants.get(held)
        if flags is None:
            rows = [list(f) for f in self.flags]
            for cond, on in zip(self.conditional, held, strict=True):
                if on:
                    for unit, index in cond.targets:
                        rows[unit][index] = False
            flags = self._flag_variants[held] = [tuple(r) for r in rows]
        return flags


@dataclass
class Stats:
    """Counts compilations, so tests and operators can see that caching works."""

    unit_compilations: int = 0
    explain_compilations: int = 0
    ruleset_builds: int = 0


STATS = Stats()
LOCK = threading.RLock()
#: Compiled units and rulesets by content hash, least recently used dropped beyond this many.
CACHE_SIZE = 512
UNITS: OrderedDict[str, CompiledUnit] = OrderedDict()
RULESETS: OrderedDict[str, CompiledRuleset] = OrderedDict()


def recall(cache: OrderedDict[str, Any], key: str, build: Callable[[], Any]) -> Any:
    """What `cache` keeps under `key` (now its most recently used), else what `build()` makes,
    kept unless None; the least recently used are dropped beyond CACHE_SIZE."""
    with LOCK:
        value = cache.get(key)
        if value is not None:
            cache.move_to_end(key)
            return value
        value = build()
        if value is not None:
            cache[key] = value
            while len(cache) > CACHE_SIZE:
                cache.popitem(last=False)
        return value


def clear_cache() -> None:
    with LOCK:
        UNITS.clear()
        RULESETS.clear()


def unit_entry(program_hash: str) -> str:
    """The disk cache key of a unit's compiled form (`units/`)."""
    return disk_cache.key("unit", program_hash, engine_fingerprint())


def kept_functions(program_hash: str) -> tuple[list[RuleMeta], Functions] | None:
    """A unit's rule metadata and functions from the disk (`units/`), or None when not kept there."""
    saved = disk_cache.load("units", unit_entry(program_hash))
    if not (isinstance(saved, tuple) and len(saved) == 4):
        return None
    metas, constants, source, code_bytes = saved
    if not isinstance(metas, list):
        return None
    functions = _functions(constants, source, code_bytes, {})
    return None if functions is None else (metas, functions)


def explain_entry(program_hash: str) -> str:
    """The disk cache key of a unit's explain variant (`units/`)."""
    return disk_cache.key("unit-explain", program_hash, engine_fingerprint())


def kept_explain(program_hash: str, metas: list[RuleMeta]) -> Functions | None:
    """A unit's explain variant from the disk, reading the unit's own rule metadata (kept
    without it: the generated code names each rule's meta `_M<index>`), or None."""
    saved = disk_cache.load("units", explain_entry(program_hash))
    if not (isinstance(saved, tuple) and len(saved) == 3):
        return None
    constants, source, code_bytes = saved
    return _functions(constants, source, code_bytes, {f"_M{m.index}": m for m in metas})


def _functions(constants: Any, source: Any, code_bytes: Any, metas: dict[str, RuleMeta]) -> Functions | None:
    try:
        code = marshal.loads(code_bytes)
    except (EOFError, ValueError, TypeError):
        return None
    if not (isinstance(code, CodeType) and isinstance(constants, dict) and isinstance(source, str)):
        return None
    namespace = base_namespace()
    namespace.update(constants)
    namespace.update(metas)
    exec(code, namespace)  # noqa: S102 - our own generated code, checksummed on disk
    return Functions(
        namespace.get("enrich"), namespace.get("validate"), namespace.get("route"), source, namespace.get("disables")
    )


@cache
def engine_fingerprint() -> str:
    """The source of everything a compiled unit's form depends on beside the ruleset itself (the
    language, the catalogue, the code generator and the runtime it calls), and the Python version."""
    package = Path(__file__).resolve().parent.parent
    parts: list[str | bytes] = [sys.version]
    for folder in ("dsl", "engine", "model"):
        for path in sorted((package / folder).glob("*.py")) + sorted((package / folder).glob("*.lark")):
            parts += [f"{folder}/{path.name}", path.read_bytes()]
    return disk_cache.key(*parts)


_BUILTINS = {name: getattr(builtins, name) for name in ("len", "all", "any", "bool", "enumerate", "isinstance", "Exception")}


def base_namespace() -> dict[str, Any]:
    """What generated code finds beside its own constants: the runtime's helpers."""
    namespace: dict[str, Any] = {"__builtins__": _BUILTINS}
    for name in runtime.EXPORTS:
        namespace[f"_rt_{name}"] = getattr(runtime, name)
    namespace["_rt_Decimal"] = Decimal
    namespace["_rt_str"] = str
    namespace["_rt_family_hits"] = families.hits
    return namespace
