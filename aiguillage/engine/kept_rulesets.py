"""A compiled ruleset's make-up kept on disk, reused while the files it was loaded from are unchanged.

Each compiled unit is already kept on disk by its program's content hash
(`units/`), but finding that hash meant loading the ruleset: unpickling every
parsed file of it and of what it extends and checking them all again
(en16931: ≈ 70 ms of CPU), after importing the parser and checker, for each
`aiguillage evaluate`. What the compiled ruleset needs besides its units is
small: which units in which order, the enabled flags, overrides, params,
profile variants. It is kept here with the notes the load took of the disk
(`aiguillage.dsl.observed`, as `engine.checked` does for `check`); a later
run replays the notes (resolving paths and hashing files, no parsing) and
builds the ruleset from the kept units when every note still holds, else
loads and compiles as before and rewrites the entry.

The key covers the ruleset's resolved path, the rulesets and code lists
folders, and the source of the engine, language and model (through the
units' own fingerprint). A ruleset reading a tenant's reference tables is
never kept (its units are not). Writing follows `aiguillage.cache`: whole or
not at all, safe to delete, damaged entries ignored.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aiguillage import cache as disk_cache
from aiguillage.dsl import observed
from aiguillage.engine.compiled import (
    RULESETS,
    UNITS,
    CompiledRuleset,
    CompiledUnit,
    ConditionalDisable,
    engine_fingerprint,
    kept_functions,
    recall,
)

if TYPE_CHECKING:
    from aiguillage.dsl.program import Program

#: Bump when the entry's layout changes.
_LAYOUT = "kept-ruleset/4"


def entry_key(path: Path, root: Path, codelist_dirs: list[Path]) -> str:
    return disk_cache.key(_LAYOUT, engine_fingerprint(), str(path), str(root), *(str(d) for d in codelist_dirs))


def load(
    key: str, others: Callable[[str, str], object], program_at: Callable[[str, Any], Program]
) -> tuple[CompiledRuleset, tuple[observed.Note, ...]] | None:
    """The compiled ruleset, with the notes it was kept with (the caller may watch the files they
    name), when the disk still looks as it did when it was compiled; else None.

    `program_at(path, extra)` loads a unit's checked program, should explain mode or coverage ask
    for it; `extra` is what `store` was given with the entry."""
    saved = disk_cache.load("kept", key)
    if not (isinstance(saved, tuple) and len(saved) == 3 and isinstance(saved[0], tuple)):
        return None
    notes, entry, extra = saved
    if not observed.still_holds(notes, others):
        return None
    try:
        memory_key, described = entry
        # The same object when this process compiled it already.
        compiled = recall(RULESETS, memory_key, lambda: _rebuild(described, lambda path: program_at(path, extra)))
    except (TypeError, ValueError, IndexError):  # an entry of another shape: compile again
        return None
    return None if compiled is None else (compiled, notes)


def store(
    key: str, notes: list[observed.Note], compiled: CompiledRuleset, memory_key: str, extra: Any = None
) -> None:
    """Keep the make-up of `compiled`, which `compile_ruleset` remembers by `memory_key` (not when a
    unit reads reference tables: those are not kept), with `extra` for `load`'s `program_at`
    (a stored ruleset's text: it is no file)."""
    if any(u.program.references for variant in _variants(compiled) for u in variant.units):
        return
    disk_cache.store("kept", key, (tuple(notes), (memory_key, _describe(compiled)), extra))


def _variants(compiled: CompiledRuleset) -> list[CompiledRuleset]:
    return [compiled, *compiled.profiles.values()]


def _describe(compiled: CompiledRuleset) -> tuple:
    """The ruleset as plain values: each unit by name, version, content hash and file."""
    units = tuple((u.name, u.version, u.hash, str(u.program.path)) for u in compiled.units)
    route = next((i for i, u in enumerate(compiled.units) if u is compiled.route_unit), -1)
    return (
        compiled.name,
        compiled.version,
        compiled.hash,
        units,
        tuple(compiled.flags),
        tuple(compiled.severities.items()),
        route,
        tuple(compiled.customers),
        compiled.profile,
        tuple(compiled.params.items()),
        tuple((spec, _describe(variant)) for spec, variant in compiled.profiles.items()),
        tuple((c.unit, c.position, c.targets) for c in compiled.conditional),
    )


def _rebuild(entry: Any, program_at: Callable[[str], Program]) -> CompiledRuleset | None:
    name, version, key, units, flags, severities, route, customers, profile, params, profiles, conditional = entry
    built: list[CompiledUnit] = []
    for unit_name, unit_version, unit_hash, path in units:
        unit = _unit(unit_name, unit_version, unit_hash, lambda path=path: program_at(path))
        if unit is None:
            return None
        built.append(unit)
    variants: dict[str, CompiledRuleset] = {}
    for spec, described in profiles:
        variant = _rebuild(described, program_at)
        if variant is None:
            return None
        variants[spec] = variant
    return CompiledRuleset(
        name,
        version,
        key,
        built,
        [tuple(f) for f in flags],
        dict(severities),
        built[route] if route >= 0 else None,
        list(customers),
        profiles=variants,
        profile=profile,
        params=dict(params),
        conditional=tuple(ConditionalDisable(unit, position, tuple(targets)) for unit, position, targets in conditional),
    )


def _unit(name: str, version: str, unit_hash: str, origin: Callable[[], Program]) -> CompiledUnit | None:
    """The unit of that content: from memory, else from `units/` on disk (None when not kept)."""

    def build() -> CompiledUnit | None:
        kept = kept_functions(unit_hash)
        return None if kept is None else CompiledUnit(name, version, unit_hash, kept[0], origin, kept[1])

    return recall(UNITS, unit_hash, build)
