"""What `aiguillage check` concludes about a ruleset, kept on disk and reused while its files are unchanged.

A warm check would otherwise unpickle every parsed file of the ruleset and of
what it extends and check them all again (en16931: ≈ 75 ms of CPU), and import
the checker, the field catalogue and pydantic to do so. The outcome itself is
small: the header, the rule count and the diagnostics, rendered. It is kept
with the notes the load took of the disk (`aiguillage.dsl.observed`: every
path resolved, file found or not, file read with its digest, ruleset name
looked up), one entry per ruleset file; a later run replays the notes
(resolving paths and hashing files, no parsing) and reuses the outcome only
when every note still holds, else checks again and rewrites the entry.

The entry's key covers the ruleset's resolved path, the rulesets folder, the
code lists folders, the source of the language, the engine and the model, and
the Python, Lark and pydantic versions: an entry written by other code or for
another folder is never read. The values are plain strings and numbers, so
reading one imports nothing (nor does this module import more than `typing`: no dataclasses). Writing follows `aiguillage.cache`: whole or not
at all, safe to delete, damaged entries ignored.
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import NamedTuple

from aiguillage import cache as disk_cache
from aiguillage.dsl import observed

#: Bump when the entry's layout changes.
_LAYOUT = "checked/1"


class Outcome(NamedTuple):
    """A ruleset's check, as printed: `ok` with its header and rule count, or the diagnostics that stop it."""

    ok: bool
    name: str
    version: str
    rules: int
    #: Every diagnostic, rendered (`Diagnostic.render()`), in the order the uncached check prints them.
    rendered: tuple[str, ...]
    errors: int

    @property
    def warnings(self) -> int:
        return len(self.rendered) - self.errors

    def as_entry(self) -> tuple:
        """As kept on disk: a plain tuple, which reading back needs no class for."""
        return tuple(self)

    @classmethod
    def from_entry(cls, entry: object) -> Outcome | None:
        if not (isinstance(entry, tuple) and len(entry) == 6):
            return None
        ok, name, version, rules, rendered, errors = entry
        if not (
            isinstance(ok, bool)
            and isinstance(name, str)
            and isinstance(version, str)
            and isinstance(rules, int)
        ):
            return None
        if not (
            isinstance(rendered, tuple)
            and all(isinstance(r, str) for r in rendered)
            and isinstance(errors, int)
        ):
            return None
        return cls(ok, name, version, rules, rendered, errors)


def entry_key(path: Path, root: Path, codelist_dirs: list[Path]) -> str:
    return disk_cache.key(
        _LAYOUT, _code_fingerprint(), str(path), str(root), *(str(d) for d in codelist_dirs)
    )


def load(key: str, others: Callable[[str, str], object]) -> Outcome | None:
    """The kept outcome when the disk still looks as it did when it was concluded, else None."""
    saved = disk_cache.load("checked", key)
    if not (isinstance(saved, tuple) and len(saved) == 2 and isinstance(saved[0], tuple)):
        return None
    notes, entry = saved
    outcome = Outcome.from_entry(entry)
    if outcome is None or not observed.still_holds(notes, others):
        return None
    return outcome


def store(key: str, notes: list[observed.Note], outcome: Outcome) -> None:
    disk_cache.store("checked", key, (tuple(notes), outcome.as_entry()))


@cache
def _code_fingerprint() -> str:
    """Everything besides the files that decides an outcome: the language and catalogue (dsl, model),
    how rulesets are found (engine), and the versions of Python, Lark and pydantic (found, not imported)."""
    package = Path(__file__).resolve().parent.parent
    parts: list[str | bytes] = [sys.version]
    for folder in ("dsl", "engine", "model"):
        for path in sorted((package / folder).glob("*.py")) + sorted(
            (package / folder).glob("*.lark")
        ):
            parts += [f"{folder}/{path.name}", path.read_bytes()]
    for name, version_file in (("lark", "__init__.py"), ("pydantic", "version.py")):
        spec = importlib.util.find_spec(name)
        if spec is not None and spec.origin:
            version = Path(spec.origin).parent / version_file
            parts += [name, version.read_bytes() if version.is_file() else b""]
    return disk_cache.key(*parts)
