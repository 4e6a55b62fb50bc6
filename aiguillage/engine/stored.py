"""Rulesets whose text lives in the database: checked and compiled by content, once per process.

A published ruleset version is text in the store, not a file, yet it is
checked and compiled exactly like a file: what it `extends` (en16931,
peppol-bis-3, ...) comes from the rulesets folder through the process-wide
`Library`, so the standard rulesets are compiled once per process and shared
by every tenant's customer rulesets (the compiler keeps one unit per
content hash).

Why a cache of its own, keyed by the text's SHA-256: a server looks up the
active version of a customer's ruleset on every request (a cheap query) and
must turn it into a `CompiledRuleset` in microseconds. Keying by content
means a newly published version is simply a key not seen yet, so every
worker picks it up on its next request with no restart and no messaging
between processes; two tenants publishing the same text share one compiled
ruleset. The compiler's own caches are bounded (LRU); this one holds the
compiled rulesets a server actually serves, up to `capacity`.

The text is parsed once per compilation and loaded as `<name>.rules`, a
name only: no file is written or read for it, and diagnostics name
`<name>.rules`. A stored text comes from an API client, so anything that
would read a file of the server (`include`, `table ... from`, `codelist ...
from`, `extends` with a path) is refused before loading: a stored ruleset is
one self-contained text that extends rulesets by name.

A stored ruleset may read the tenant's reference tables (`table NAME key
COL`, no `from`) through a `References` given per request. Their rows are
compiled into the ruleset, so the cache key of such a text is not its hash
alone: it adds the tenant and each table's content version (table id and
revision), read cheaply on every request. An updated table is therefore a
new key (compiled on the next request, never served stale) and two tenants
publishing the same text never share each other's data.

What a server compiles is also kept on disk (`engine.kept_rulesets`, under
the user cache): a restarted worker rebuilds a customer's compiled ruleset
from its kept make-up, with no parsing, checking or compiling (≈ 0.7 ms
instead of ≈ 3 ms of CPU), while the rulesets it extends keep their content
hashes and the code lists it reads by name are unchanged. A text that reads
reference tables is never kept: its rows are the tenant's. Neither kind holds
its checked program once compiled: the text's own unit loads it again when
explain or coverage asks (a program holds its syntax tree and a copy of all it
inherits, ≈ 120 KiB, in every worker, for every customer).

If a standard ruleset changes on disk (a deploy without restart), the
`Library` notices; this cache notices too, by comparing the parents'
content hashes at most every `recheck_seconds`, and then starts afresh.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from aiguillage import cache as disk_cache
from aiguillage.dsl import ast, observed
from aiguillage.dsl.diagnostics import Diagnostic, RulesError, at_node
from aiguillage.dsl.parser import parse_text
from aiguillage.dsl.program import Program, load_program
from aiguillage.dsl.refdata import ReferenceData
from aiguillage.engine import kept_rulesets
from aiguillage.engine.compiled import CompiledRuleset, engine_fingerprint
from aiguillage.engine.compiler import compile_ruleset, memory_key
from aiguillage.engine.loader import Library, library, looks_like_path

#: How many compiled stored rulesets one process keeps (least recently used dropped beyond).
DEFAULT_CAPACITY = 4096

#: How often, at most, to check that the standard rulesets on disk are unchanged.
DEFAULT_RECHECK_SECONDS = 2.0

#: Bump when the kept entry's layout changes.
_KEPT_LAYOUT = "stored-ruleset/1"
#: A note of a kept entry: (this kind, a ruleset it extends, that ruleset's content hash then).
_PARENT = "parent"


@dataclass(frozen=True)
class CheckResult:
    """What checking a text found: the program when usable, and every diagnostic either way."""

    diagnostics: list[Diagnostic]
    program: Program | None = None

    @property
    def ok(self) -> bool:
        """True when the text can be published (warnings allowed, no errors)."""
        return self.program is not None and not any(d.severity == "error" for d in self.diagnostics)


class References(Protocol):
    """One tenant's reference tables, as the service stores them (see `store.repositories.reference`)."""

    @property
    def scope(self) -> str:
        """Whose tables these are (the tenant id): part of the cache key."""
        ...

    def versions(self, names: Sequence[str]) -> dict[str, str | None]:
        """Each table's content version (None when missing); cheap, asked on every request."""
        ...

    def reference(self, name: str) -> ReferenceData | None:
        """The whole table by name, or None."""
        ...


@dataclass
class _Entry:
    compiled: CompiledRuleset
    #: (name, content hash) of every ruleset from the folder that this one builds on.
    parents: tuple[tuple[str, str], ...] = field(default_factory=tuple)


class StoredRulesets:
    """Check and compile ruleset texts; compiled ones are kept by the text's SHA-256."""

    def __init__(
        self,
        lib: Library | None = None,
        *,
        capacity: int = DEFAULT_CAPACITY,
        recheck_seconds: float = DEFAULT_RECHECK_SECONDS,
    ) -> None:
        self._library = lib
        self.capacity = capacity
        self.recheck_seconds = recheck_seconds
        self._lock = threading.RLock()
        self._compiled: OrderedDict[str, _Entry] = OrderedDict()
        #: Content hash → the reference tables the text declares (a pure function of the text).
        self._reference_names: dict[str, tuple[str, ...]] = {}
        self._checked_at = 0.0
        #: Rulesets built (for tests and operators: a second request must not build again), of which
        #: `kept_rebuilds` were rebuilt from the disk's kept make-up rather than compiled.
        self.compilations = 0
        self.kept_rebuilds = 0

    @property
    def library(self) -> Library:
        """The folder rulesets are extended from (the process-wide one unless given)."""
        return self._library if self._library is not None else library()

    def __len__(self) -> int:
        return len(self._compiled)

    # ------------------------------------------------------------------ checking

    def check(self, name: str, content: str, references: References | None = None) -> CheckResult:
        """Parse and check a text as ruleset `name`; never raises for what the text says.

        `references` are the tenant's reference tables: a `table NAME key COL`
        is read from them and its rows checked against the declared shape.
        """
        try:
            program = self._load(name, content, references)
        except RulesError as exc:
            return CheckResult(exc.diagnostics)
        diagnostics = list(program.warnings)
        if program.name != name:
            diagnostics.append(_header_mismatch(program, name))
        return CheckResult(sorted(diagnostics, key=lambda d: (d.line, d.column)), program)

    # ------------------------------------------------------------------ compiling

    def compiled(
        self, name: str, content: str | Callable[[], str], content_hash: str, references: References | None = None
    ) -> CompiledRuleset:
        """The compiled ruleset for this text (raises `RulesError` if it does not check).

        `content` may be a function returning the text, called only when the
        hash was not compiled yet: a server then reads a version's text from
        the database once per process, not once per request. A text that reads
        reference tables is keyed by `references`' scope and table versions too.
        """
        self._recheck_parents()
        text: str | None = content if isinstance(content, str) else None

        def read() -> str:
            nonlocal text
            if text is None:
                text = content() if callable(content) else content
            return text

        with self._lock:
            names = self._reference_names.get(content_hash)
            entry = self._compiled.get(content_hash) if not names else None
            if entry is not None:
                self._compiled.move_to_end(content_hash)
                return entry.compiled
        if not names:  # no tables (or not known yet: only texts without tables are kept)
            kept = self._kept_compiled(name, content_hash)
            if kept is not None:
                with self._lock:
                    self._reference_names[content_hash] = ()
                    self.kept_rebuilds += 1
                return self._remember(content_hash, kept)
        parsed: ast.RulesFile | None = None  # parsed once, for the tables it declares and for loading
        if names is None:
            try:
                parsed = parse_text(read(), f"{name}.rules")
                names = _declared_tables(parsed)
            except RulesError:
                names = ()  # loading reports why
            with self._lock:
                self._reference_names[content_hash] = names
                while len(self._reference_names) > self.capacity:  # bounded like the compiled ones
                    del self._reference_names[next(iter(self._reference_names))]
        key = content_hash
        if names:
            if references is None:
                raise RulesError([Diagnostic(f"{name}.rules", 1, 1, f"ruleset {name} reads reference tables ({', '.join(names)}) but none were given", "error", 1, "")])
            key = _data_key(content_hash, references.scope, references.versions(names))
            with self._lock:
                entry = self._compiled.get(key)
                if entry is not None:
                    self._compiled.move_to_end(key)
                    return entry.compiled
        with observed.recording() as record:
            program = self._load(name, read(), references, parsed)
            compiled = compile_ruleset(program)
        parents = _parents(program, compiled)
        if names and references is not None:
            # Keyed by the versions actually compiled in: a table changed meanwhile is a new key next time.
            key = _data_key(content_hash, references.scope, program.references)
        else:
            own_text = read()
            if record.complete:
                self._keep(name, content_hash, own_text, program, compiled, record.notes, parents)
            _forget_program(compiled, program, lambda: self._load(name, own_text))
        return self._remember(key, _Entry(compiled, parents))

    def _remember(self, key: str, entry: _Entry) -> CompiledRuleset:
        with self._lock:
            self._compiled[key] = entry
            self.compilations += 1
            while len(self._compiled) > self.capacity:
                self._compiled.popitem(last=False)
        return entry.compiled

    # ------------------------------------------------------------------ kept on disk

    def _kept_key(self, name: str, content_hash: str) -> str:
        lib = self.library
        return disk_cache.key(_KEPT_LAYOUT, engine_fingerprint(), name, content_hash, str(lib.root),
                              *(str(d) for d in lib.codelist_dirs))

    def _keep(self, name: str, content_hash: str, text: str, program: Program, compiled: CompiledRuleset,
              notes: list[observed.Note], parents: tuple[tuple[str, str], ...]) -> None:
        """Keep the make-up of a text's compiled ruleset on disk, for the next process that serves it.

        What the load saw of the rulesets it extends is not replayed (hashing their ~30 files per
        customer): those are the parents' content hashes, which the `Library` keeps up to date
        cheaply. The notes left are the text's own (the names it resolved, the code lists it read)."""
        inherited = {n for p in program.lineage()[:-1] for n in (p.notes or ())}
        own = [n for n in notes if n not in inherited] + [(_PARENT, parent, digest) for parent, digest in parents]
        kept_rulesets.store(self._kept_key(name, content_hash), own, compiled, memory_key(program), text)

    def _kept_compiled(self, name: str, content_hash: str) -> _Entry | None:
        """The text's ruleset rebuilt from what the disk keeps (no parsing, checking or compiling),
        while what it extends and the files it read are unchanged; else None."""
        shown = f"{name}.rules"
        replay = self.library.replayer()

        def look(kind: str, subject: str) -> object:
            return replay(kind, subject) if kind != _PARENT else self._parent_hash(subject)

        def program_at(where: str, text: str) -> Program:  # explain and coverage only
            return self._load(name, text) if where == shown else self.library.program(where)

        kept = kept_rulesets.load(self._kept_key(name, content_hash), look, program_at)
        if kept is None:
            return None
        compiled, notes = kept
        return _Entry(compiled, tuple((subject, seen) for kind, subject, seen in notes if kind == _PARENT))

    def clear(self) -> None:
        """Forget every compiled ruleset (the next request compiles again)."""
        with self._lock:
            self._compiled.clear()
            self._reference_names.clear()

    # ------------------------------------------------------------------ helpers

    def _load(
        self, name: str, content: str, references: References | None = None, parsed: ast.RulesFile | None = None
    ) -> Program:
        """Check the text as `<name>.rules`; `parsed` is its tree when the caller parsed it already.

        No file is written: the text may not read files (`_refuse_files`), so its
        name only names it in diagnostics."""
        lib = self.library
        shown = f"{name}.rules"
        rules_file = parsed if parsed is not None else parse_text(content, shown)
        _refuse_files(rules_file)
        return load_program(
            Path(shown), resolve_parent=lib.program, codelist_dirs=lib.codelist_dirs,
            references=references.reference if references is not None else None, parsed=rules_file,
        )

    def _parent_hash(self, name: str) -> str | None:
        """The content hash of a ruleset of the folder now (None when it is gone or broken).

        Asked with a recording open, so that the `Library` loads it with its notes: a program
        loaded without them makes every later load on top of it incomplete, and a text compiled
        then could not be kept on disk (after a parent changed, it never was again)."""
        with observed.recording():
            try:
                return self.library.program(name).hash
            except (LookupError, RulesError):
                return None

    def _recheck_parents(self) -> None:
        """Drop everything if a ruleset from the folder changed since it was compiled in."""
        now = time.monotonic()
        if now - self._checked_at < self.recheck_seconds:
            return
        self._checked_at = now
        with self._lock:
            parents = {parent for entry in self._compiled.values() for parent in entry.parents}
        for parent_name, parent_hash in parents:
            if self._parent_hash(parent_name) != parent_hash:
                self.clear()
                return


def _parents(program: Program, compiled: CompiledRuleset) -> tuple[tuple[str, str], ...]:
    """(name, content hash) of every ruleset from the folder the text's compiled ruleset builds on."""
    parents = tuple((p.name, p.hash) for p in program.lineage()[:-1])
    # the profile rulesets chosen by BT-24 (fr-ctc-extended under fr-ctc) are watched the same way
    return parents + tuple(
        (u.name, u.hash) for v in compiled.profiles.values() for u in v.units
        if (u.name, u.hash) not in parents and u.hash != program.hash
    )


def _forget_program(compiled: CompiledRuleset, program: Program, reload: Callable[[], Program]) -> None:
    """Let the text's own unit load its checked program again when asked (explain, coverage)
    instead of holding it: a server keeps thousands of customer rulesets, and each program
    holds its syntax tree and a copy of every declaration it inherits (≈ 120 KiB each), which
    the collector would walk again and again. Units rebuilt from the disk start that way."""
    for variant in (compiled, *compiled.profiles.values()):
        for unit in variant.units:
            if unit.hash == program.hash and unit.origin is program:
                unit.origin = reload


def _refuse_files(rules_file: ast.RulesFile) -> None:
    """Refuse every statement that would read a file of the server.

    A stored text comes from an API client: `include`, `table … from`,
    `codelist … from` and an `extends` naming a path would read whatever the
    path says on the server (and quote it back in a diagnostic). Rulesets are
    extended by name only; code lists by name, from the code-list folder.
    """
    found: list[Diagnostic] = []
    src = rules_file.src
    for item in rules_file.items:
        if isinstance(item, ast.Include):
            found.append(at_node(src, item, "a stored ruleset cannot include files: put everything in its one text"))
        elif isinstance(item, ast.TableDecl) and item.source is not None:
            found.append(at_node(src, item, f"a stored ruleset cannot read table {item.name} from a file: "
                                            f"write `table {item.name} key {item.key}` to use the tenant's reference table {item.name}"))
        elif isinstance(item, ast.CodelistDecl) and item.source:
            found.append(at_node(src, item, f"a stored ruleset names code lists only (codelist {item.name}), without a file"))
        elif isinstance(item, ast.HeaderItem) and item.key == "extends":
            for value in item.values:
                if looks_like_path(str(value)):
                    found.append(at_node(src, item, f'extends "{value}": name a ruleset (en16931, peppol-bis-3), not a file'))
    if found:
        raise RulesError(found)


def _declared_tables(rules_file: ast.RulesFile) -> tuple[str, ...]:
    """The reference tables a text declares (`table NAME key COL`)."""
    return tuple(sorted({i.name for i in rules_file.items if isinstance(i, ast.TableDecl) and i.source is None}))


def _data_key(content_hash: str, scope: str, versions: dict[str, str | None]) -> str:
    """The cache key of a text compiled with reference data: the text, whose tables, which content."""
    digest = hashlib.sha256(f"{content_hash}\0{scope}".encode())
    for table, version in sorted(versions.items()):
        digest.update(f"\0{table}={version}".encode())
    return digest.hexdigest()


def _header_mismatch(program: Program, name: str) -> Diagnostic:
    """The header must name the ruleset it is stored as: decisions and findings carry that name."""
    main = program.files[0]
    header = main.header("ruleset")
    line = header.line if header is not None else 1
    column = header.column if header is not None else 1
    return Diagnostic(
        f"{name}.rules",
        line,
        column,
        f'the header says ruleset "{program.name}" but this ruleset is stored as "{name}": write ruleset "{name}"',
        "error",
        1,
        main.src.line(line),
    )


_default: StoredRulesets | None = None
_default_lock = threading.Lock()


def stored_rulesets() -> StoredRulesets:
    """The process-wide cache: one per server worker, shared by every request and tenant."""
    global _default
    with _default_lock:
        if _default is None:
            _default = StoredRulesets()
        return _default
