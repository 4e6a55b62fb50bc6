"""Where rulesets live, and loading them by name, by customer or by path.

Rulesets are files under a `rulesets` folder: `standard/` (en16931,
peppol-bis-3, ...) and `customers/` (one folder per customer). The folder is
`AIGUILLAGE_RULESETS` when set, else the repository's `rulesets/`, else the
copy installed inside the package (`aiguillage/_rulesets`). A ruleset is
found by the name in its header (`ruleset "en16931"`), whatever its file is
called, or by the customer id its header declares.

Loaded rulesets are kept until one of their files (or data files, or the
files of what they extend) changes on disk: publishing a new version needs
no restart.
"""

from __future__ import annotations

import os
import re
import threading
import time
from collections.abc import Callable, Iterable
from contextlib import nullcontext
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

import aiguillage
from aiguillage.dsl import observed
from aiguillage.engine import checked

if TYPE_CHECKING:  # imported where used: a warm `check` needs neither the checker nor the compiler
    from aiguillage.dsl.program import Program
    from aiguillage.engine.compiled import CompiledRuleset

ENV_VAR = "AIGUILLAGE_RULESETS"
_HEADER = re.compile(r'^\s*ruleset\s+"((?:[^"\\\n]|\\.)*)"', re.MULTILINE)
_CUSTOMER = re.compile(r"^\s*customer\s+(.*)$", re.MULTILINE)
_QUOTED = re.compile(r'"((?:[^"\\\n]|\\.)*)"')


def rulesets_root() -> Path:
    """The rulesets folder: $AIGUILLAGE_RULESETS, the repository's rulesets/, or the installed copy."""
    configured = os.environ.get(ENV_VAR)
    if configured:
        return Path(configured)
    package = Path(aiguillage.__file__).resolve().parent
    repo = package.parent / "rulesets"
    return repo if repo.is_dir() else package / "_rulesets"


def looks_like_path(name: str) -> bool:
    return name.endswith(".rules") or "/" in name or os.sep in name


class Library:
    """Finds, loads, checks and compiles rulesets; caches them while their files are unchanged."""

    def __init__(self, root: Path | None = None) -> None:
        self.root = Path(root) if root is not None else rulesets_root()
        self._lock = threading.RLock()
        self._programs: dict[Path, tuple[tuple[tuple[str, tuple[int, int]], ...], Program]] = {}
        self._loading: list[Path] = []
        #: The ruleset files with their headers, watching the folders and files listed.
        self._listing: _Watched | None = None
        #: Compiled rulesets by file, watching the files their load read.
        self._compiled: dict[Path, _Watched] = {}

    @property
    def codelist_dirs(self) -> list[Path]:
        return [self.root / "codelists"]

    # ---- finding

    def files(self) -> list[Path]:
        return [path for path, _, _ in self._headers()]

    def index(self) -> dict[str, list[Path]]:
        """Ruleset name → files whose header declares it (more than one is an error when used)."""
        names: dict[str, list[Path]] = {}
        for path, name, _ in self._headers():
            if name is not None:
                names.setdefault(name, []).append(path)
        return names

    def _headers(self) -> list[tuple[Path, str | None, tuple[str, ...]]]:
        """Each ruleset file with the name and customers its header declares, in path order.

        Listing the folders and reading every file's head took 1.3 ms, on every look-up by
        name or customer (the service's standard ruleset, each request). They are kept while
        every folder and file seen has its modification time and size: a file added, removed
        or renamed changes its folder's, an edited header its file's.
        """
        with self._lock:
            if self._listing is not None and self._listing.holds():
                return self._listing.value
            folders: list[str] = []
            files: list[Path] = []
            for top in ("standard", "customers"):
                for folder, subfolders, names in os.walk(self.root / top):  # as rglob: no linked subfolder
                    folders.append(folder)
                    subfolders.sort()
                    files += [Path(folder, n) for n in names if n.endswith(".rules")]
            headers = []
            for path in sorted(files):
                head = _head(path)
                match = _HEADER.search(head)
                headers.append((path, match.group(1) if match else None, tuple(_customers(head))))
            self._listing = _watch((*folders, *(str(p) for p in files)), headers)
            return headers

    def find(self, name: str) -> Path:
        names = self.index()
        paths = names.get(name)
        if not paths:
            from aiguillage.dsl import schema

            near = schema.suggest(name, names, n=1)
            hint = (
                f'; did you mean "{near[0]}"?'
                if near
                else (
                    f" (known: {', '.join(sorted(names))})"
                    if names
                    else f" (no rulesets under {self.root})"
                )
            )
            raise LookupError(f'unknown ruleset "{name}"{hint}')
        if len(paths) > 1:
            raise LookupError(
                f'ruleset "{name}" is declared by several files: {", ".join(str(p) for p in paths)}'
            )
        return paths[0]

    def find_customer(self, customer: str) -> Path:
        found = [path for path, _, customers in self._headers() if customer in customers]
        if not found:
            raise LookupError(f'no ruleset declares customer "{customer}" (under {self.root})')
        if len(found) > 1:
            raise LookupError(
                f'customer "{customer}" is declared by several rulesets: {", ".join(str(p) for p in found)}'
            )
        return found[0]

    # ---- loading

    def locate(self, name_or_path: str | Path) -> Path:
        """The resolved file of a ruleset named by name or path (raises LookupError)."""
        text = str(name_or_path)
        path = (
            Path(text)
            if isinstance(name_or_path, Path) or looks_like_path(text) or Path(text).is_file()
            else self.find(text)
        )
        if not path.is_file():
            raise LookupError(f"ruleset file not found: {path}")
        return path.resolve()

    def program(self, name_or_path: str | Path) -> Program:
        """A checked ruleset by name or path (raises LookupError or RulesError)."""
        return self._load(self._noted_locate(name_or_path))

    def _noted_locate(self, name_or_path: str | Path) -> Path:
        """`locate`, noting where the name led (or that it led nowhere) for the recordings open."""
        try:
            path = self.locate(name_or_path)
        except LookupError as exc:
            observed.note(
                "ruleset", str(name_or_path), ("missing", str(exc.args[0]) if exc.args else "")
            )
            raise
        observed.note("ruleset", str(name_or_path), ("found", str(path)))
        return path

    def outcome(
        self, name_or_path: str | Path, lookups: dict[str, object] | None = None
    ) -> checked.Outcome:
        """What `check` says about a ruleset: kept on disk while its files (and its parents') are unchanged.

        Raises LookupError when there is no such ruleset, as `program` does. `lookups`
        remembers, for the rest of a run checking several rulesets, where each ruleset
        name leads (each look lists the folder and reads every file's header).
        """
        path = self.locate(name_or_path)
        key = checked.entry_key(path, self.root, self.codelist_dirs)
        kept = checked.load(key, self.replayer(lookups))
        if kept is not None:
            return kept
        from aiguillage.dsl.diagnostics import RulesError

        with observed.recording() as record:
            try:
                program = self._load(path)
            except RulesError as exc:
                outcome = checked.Outcome(
                    False, "", "", 0, tuple(d.render() for d in exc.diagnostics), len(exc.errors)
                )
            else:
                rules = len(program.validate_rules) + len(program.enrich_rules)
                outcome = checked.Outcome(
                    True,
                    program.name,
                    program.version,
                    rules,
                    tuple(d.render() for d in program.warnings),
                    0,
                )
        if record.complete:
            checked.store(key, record.notes, outcome)
        return outcome

    def replayer(self, lookups: dict[str, object] | None = None) -> Callable[[str, str], object]:
        """Answers the "ruleset" notes of a replay: where each ruleset name leads now (asked once per name)."""
        remembered = {} if lookups is None else lookups

        def look_again(kind: str, subject: str) -> object:
            if kind != "ruleset":
                return None
            if subject not in remembered:
                remembered[subject] = self._look_again(subject)
            return remembered[subject]

        return look_again

    def _look_again(self, subject: str) -> object:
        """Replays a "ruleset" note: where that name leads now."""
        try:
            return ("found", str(self.locate(subject)))
        except LookupError as exc:
            return ("missing", str(exc.args[0]) if exc.args else "")

    def compiled(self, name_or_path: str | Path) -> CompiledRuleset:
        """A ruleset compiled, by name or path (raises LookupError or RulesError).

        Not loaded yet in this process, it is built from what the disk keeps of it
        (`engine.kept_rulesets`) while its files are unchanged: no parsing, no checking, no
        compiler. Else it is loaded and compiled, and kept for the next run.
        """
        path = self._noted_locate(name_or_path)
        with self._lock:
            remembered = self._compiled.get(path)
            if remembered is not None and remembered.holds():
                return remembered.value
            if path not in self._programs:
                warm = self._kept_compiled(path)
                if warm is not None:
                    return warm
        from aiguillage.engine.compiler import compile_ruleset, memory_key

        if observed.recording_now():
            return compile_ruleset(self._load(path))
        with observed.recording() as record:
            program = self._load(path)
            compiled = compile_ruleset(program)
        if record.complete:
            from aiguillage.engine import kept_rulesets

            kept_rulesets.store(self._kept_key(path), record.notes, compiled, memory_key(program))
            self._remember(path, record.notes, compiled)
        return compiled

    def customer(self, customer: str) -> CompiledRuleset:
        return self.compiled(self.find_customer(customer))

    def _kept_key(self, path: Path) -> str:
        from aiguillage.engine import kept_rulesets

        return kept_rulesets.entry_key(path, self.root, self.codelist_dirs)

    def _kept_compiled(self, path: Path) -> CompiledRuleset | None:
        """The ruleset built from the disk's kept make-up (None when there is none, or it no longer holds)."""
        from aiguillage.engine import kept_rulesets

        def program_at(where: str, _extra: object) -> Program:
            return self._load(Path(where))

        kept = kept_rulesets.load(self._kept_key(path), self.replayer(), program_at)
        if kept is None:
            return None
        compiled, notes = kept
        self._remember(path, notes, compiled)
        return compiled

    def _remember(self, path: Path, notes: Iterable[observed.Note], compiled: CompiledRuleset) -> None:
        """Keep the compiled ruleset for later calls while the files its load read are unchanged
        (a look-up by name then costs a few stat calls, not a load and the profiles' resolution)."""
        files = tuple(sorted({subject for kind, subject, _ in notes if kind in ("text", "bytes")}))
        watched = _watch(files, compiled)
        if watched is not None:
            self._compiled[path] = watched

    def _load(self, path: Path) -> Program:
        with self._lock:
            cached = self._programs.get(path)
            if cached is not None and cached[0] == _stamp(cached[1]):
                observed.add(cached[1].notes)
                return cached[1]
            if path in self._loading:
                chain = " → ".join(p.name for p in [*self._loading, path])
                raise LookupError(f"extends cycle: {chain}")
            from aiguillage.dsl.program import load_program

            self._loading.append(path)
            try:
                # Noted only for `outcome` (check); a load nobody notes keeps no notes (None: incomplete).
                with observed.recording() if observed.recording_now() else nullcontext() as record:
                    program = load_program(
                        path,
                        resolve_parent=lambda name: self.program(name),
                        codelist_dirs=self.codelist_dirs,
                    )
            finally:
                self._loading.pop()
            program.notes = tuple(record.notes) if record is not None and record.complete else None
            self._programs[path] = (_stamp(program), program)
            return program


def _head(path: Path) -> str:
    try:
        with path.open(encoding="utf-8", errors="replace") as handle:
            return handle.read(8192)
    except OSError:
        return ""


def _customers(head: str) -> list[str]:
    return [q for line in _CUSTOMER.findall(head) for q in _QUOTED.findall(line)]


#: A modification this recent may be followed, within the file system's clock tick, by another
#: that leaves the same time: what it stamps is not remembered (git's "racily clean" entries).
_RACY_NS = 50_000_000


class _Watched(NamedTuple):
    """A value kept while the files and folders it was made from keep their modification time and size."""

    stamps: tuple[tuple[int, int], ...]
    paths: tuple[str, ...]
    value: Any

    def holds(self) -> bool:
        return self.stamps == _file_stamps(self.paths)


def _watch(paths: tuple[str, ...], value: Any) -> _Watched | None:
    """`value` watched over `paths`; None when one changed too recently to tell it from a later change."""
    stamps = _file_stamps(paths)
    before = time.time_ns() - _RACY_NS
    return _Watched(stamps, paths, value) if all(mtime < before for mtime, _ in stamps) else None


def _file_stamps(files: tuple[str, ...]) -> tuple[tuple[int, int], ...]:
    out: list[tuple[int, int]] = []
    for name in files:
        try:
            st = os.stat(name)
            out.append((st.st_mtime_ns, st.st_size))
        except OSError:
            out.append((-1, -1))
    return tuple(out)


def _stamp(program: Program) -> tuple[tuple[str, tuple[int, int]], ...]:
    """Each source file of the program and what it builds on, with its modification time and size."""
    sources = tuple(str(source) for p in program.lineage() for source in p.sources)
    return tuple(zip(sources, _file_stamps(sources), strict=True))


_default: Library | None = None


def library() -> Library:
    """The process-wide library for the current rulesets folder."""
    global _default
    root = rulesets_root()
    if _default is None or _default.root != root:
        _default = Library(root)
    return _default


def load(name_or_path: str | Path) -> CompiledRuleset:
    """Load, check and compile a ruleset by name or path (shortcut for `library().compiled`)."""
    return library().compiled(name_or_path)
