"""Copies of a ruleset's folder with a case's own tables, named by their content, kept between runs.

A case with `tables:` runs against a copy of its ruleset's folder where the
table files hold the case's rows. In a fresh temporary folder each run, the
copy had a new path every time, so nothing the on-disk cache keeps by path
(the parsed files, the kept compiled ruleset) was ever found again: every
`aiguillage test` parsed, checked and compiled the copy anew (≈ 0.3 s of a
customer's 0.6 s). Here the copy lives under the user cache, named by the
SHA-256 of everything in it (the folder's files as they are now and the
case's tables), so an unchanged ruleset and case give the same path, and a
changed file gives a new one. A copy is written beside and renamed into place
(concurrent runs see a whole copy or none) and never changed afterwards; the
least recently used beyond `KEEP` are removed. With the cache off or not
writable, the copy goes to a temporary folder removed after the run, as before.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import tempfile
import time
from pathlib import Path

from aiguillage import cache as disk_cache

#: Copies kept (each a small folder); the least recently used are removed beyond.
KEEP = 64
#: The folder's parts that are not copied: the cases themselves.
IGNORED = "tests"
#: A copy half-written by a process that died is removed after this long.
_ABANDONED_SECONDS = 3600


def content_key(folder: Path, replaced: dict[str, bytes]) -> str:
    """SHA-256 of what the copy will hold: every file copied (path and bytes), then the replacements."""
    digest = hashlib.sha256(b"aiguillage-case-ruleset/1\0")
    for here, dirs, files in os.walk(folder, followlinks=True):  # as copytree copies them
        dirs[:] = sorted(d for d in dirs if d != IGNORED)
        for name in sorted(f for f in files if f != IGNORED):
            path = Path(here) / name
            relative = path.relative_to(folder).as_posix()
            if relative in replaced:
                continue
            digest.update(b"file\0" + relative.encode() + b"\0" + path.read_bytes() + b"\0")
    for name in sorted(replaced):
        digest.update(b"replaced\0" + name.encode() + b"\0" + replaced[name] + b"\0")
    return digest.hexdigest()


def kept_copy(folder: Path, replaced: dict[str, bytes]) -> Path | None:
    """The copy of `folder` with `replaced` files (relative name → bytes), under the user cache;
    None when the cache is off or cannot be written (the caller then copies to a temporary folder)."""
    base = disk_cache.cache_dir()
    if base is None:
        return None
    base = base / "case-rulesets"
    target = base / content_key(folder, replaced)[:32]
    if target.is_dir():
        with contextlib.suppress(OSError):
            os.utime(target)  # recently used: kept when the others are trimmed
        return target
    try:
        base.mkdir(parents=True, exist_ok=True)
        building = Path(tempfile.mkdtemp(dir=base, prefix=".building-"))
    except OSError:
        return None
    try:
        write_copy(folder, building, replaced)
        try:
            os.rename(building, target)
        except OSError:  # another run renamed the same content into place first
            if not target.is_dir():
                raise
            shutil.rmtree(building, ignore_errors=True)
    except OSError:
        shutil.rmtree(building, ignore_errors=True)
        return None
    _trim(base)
    return target


def write_copy(folder: Path, target: Path, replaced: dict[str, bytes]) -> None:
    """`folder` copied into `target` (without the cases), with the replaced files written over."""
    shutil.copytree(folder, target, ignore=shutil.ignore_patterns(IGNORED), dirs_exist_ok=True)
    for name, data in replaced.items():
        (target / name).write_bytes(data)


def _trim(base: Path) -> None:
    try:
        entries = list(os.scandir(base))
    except OSError:
        return
    abandoned = time.time() - _ABANDONED_SECONDS
    copies = [e for e in entries if e.is_dir() and not e.name.startswith(".")]
    stale = [e for e in entries if e.name.startswith(".building-") and disk_cache.last_used(e) < abandoned]
    for entry in disk_cache.least_recently_used(copies, KEEP) + stale:
        shutil.rmtree(entry.path, ignore_errors=True)
