"""A content-addressed cache on disk, shared by every `aiguillage` process of a user.

What is slow to build and depends only on content (the Lark parser tables,
parsed ruleset files, compiled standard rulesets) is kept under
`$AIGUILLAGE_CACHE_DIR`, else `$XDG_CACHE_HOME/aiguillage`, else
`~/.cache/aiguillage`. The key is a hash of everything the entry is built
from, so an entry is never stale, only unused. The folder is safe to delete.

Entries are written to a temporary file and renamed into place, so a reader
sees a whole entry or none, whatever runs at the same time. Each entry
carries the SHA-256 of its payload: a truncated or damaged entry is ignored
(and rebuilt and rewritten by the caller). A cache that cannot be read or
written (read-only home, full disk) only costs speed, never an error.
`AIGUILLAGE_CACHE_DIR=off` turns it off.

Each kind keeps about `MAX_ENTRIES` entries: an editor that runs
`aiguillage check` on every pause makes a new entry per edit, so writing
beyond the limit removes the least recently used (a hit refreshes an entry's
modification time) down to `LOW_WATER`. Trimming lists and stats the whole
folder, so it is done in batches, not once per entry written: each process
counts what it writes to a folder after one listing and lists again only
when its count passes the limit (a server compiling a thousand customers'
rulesets after a restart otherwise spent a third of that work trimming).
Writes of other processes are not counted, so a folder may pass the limit by
what they wrote since this process last listed it.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import pickle
import tempfile
from pathlib import Path
from typing import Any

ENV_VAR = "AIGUILLAGE_CACHE_DIR"
#: First line of every entry; bump when the entry layout changes.
_MAGIC = b"aiguillage-cache/1\n"
#: Entries kept per kind; beyond, the least recently used are removed when one is written.
MAX_ENTRIES = 2000
#: What a trim leaves of a kind that passed `MAX_ENTRIES`: the next trim is that many writes away.
LOW_WATER_SHARE = 0.9
#: Entries this process believes each folder holds: listed once, then counted per write.
_counted: dict[str, int] = {}


class Stats:
    """What the cache did in this process, so tests and operators can see it work.

    A plain class, not a dataclass: importing `dataclasses` (and `inspect` with it) costs a warm
    `aiguillage check` ≈ 3 ms, a twentieth of its whole run."""

    def __init__(self) -> None:
        self.hits = 0
        self.misses = 0
        self.writes = 0
        self.damaged = 0

    def __repr__(self) -> str:
        return f"Stats(hits={self.hits}, misses={self.misses}, writes={self.writes}, damaged={self.damaged})"


STATS = Stats()


def cache_dir() -> Path | None:
    """The cache folder, or None when caching is turned off."""
    configured = os.environ.get(ENV_VAR)
    if configured is not None:
        return None if configured.strip().lower() in ("", "off", "0", "no") else Path(configured)
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg) if xdg else Path.home() / ".cache"
    return base / "aiguillage"


def key(*parts: str | bytes) -> str:
    """A key for an entry built from `parts` (each part is delimited, so ("ab", "c") ≠ ("a", "bc"))."""
    digest = hashlib.sha256()
    for part in parts:
        data = part.encode("utf-8") if isinstance(part, str) else part
        digest.update(len(data).to_bytes(8, "little") + data)
    return digest.hexdigest()


def _path(kind: str, entry: str) -> Path | None:
    folder = cache_dir()
    return None if folder is None else folder / kind / f"{entry}.pickle"


def load(kind: str, entry: str) -> Any | None:
    """The value stored under (kind, entry), or None when there is none or it cannot be trusted."""
    path = _path(kind, entry)
    if path is None:
        return None
    try:
        data = path.read_bytes()
    except OSError:
        STATS.misses += 1
        return None
    head = len(_MAGIC) + 65
    payload = data[head:]
    if (
        not data.startswith(_MAGIC)
        or data[len(_MAGIC) : head - 1] != hashlib.sha256(payload).hexdigest().encode()
        or data[head - 1 : head] != b"\n"
    ):
        STATS.damaged += 1
        return None
    try:
        value = pickle.loads(payload)  # noqa: S301 - our own file, checksummed, under the user's cache folder
    except Exception:  # a class renamed since the entry was written: rebuild
        STATS.damaged += 1
        return None
    STATS.hits += 1
    with contextlib.suppress(OSError):
        os.utime(path)  # recently used: kept when the folder is trimmed
    return value


def store(kind: str, entry: str, value: Any) -> None:
    """Keep `value` under (kind, entry): written beside, then renamed into place; failures are ignored."""
    path = _path(kind, entry)
    if path is None:
        return
    try:
        payload = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    except Exception:  # something in the value cannot be pickled: it is simply not cached
        return
    data = _MAGIC + hashlib.sha256(payload).hexdigest().encode() + b"\n" + payload
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(
            dir=path.parent, prefix=f".{entry[:16]}.", suffix=".tmp"
        )
        try:
            with os.fdopen(handle, "wb") as out:
                out.write(data)
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
    except OSError:
        return
    STATS.writes += 1
    _trim(path.parent)


def _trim(folder: Path) -> None:
    """Remove the least recently used entries of a kind once it holds more than `MAX_ENTRIES`,
    down to `LOW_WATER_SHARE` of it (others may do the same: fine)."""
    counted = _counted.get(str(folder))
    if counted is not None and counted < MAX_ENTRIES:
        _counted[str(folder)] = counted + 1  # a write may replace an entry: an overcount, never an under
        return
    try:
        entries = [e for e in os.scandir(folder) if e.name.endswith(".pickle")]
    except OSError:
        return
    _counted[str(folder)] = len(entries)
    if len(entries) <= MAX_ENTRIES:
        return

    keep = int(MAX_ENTRIES * LOW_WATER_SHARE)
    for entry in least_recently_used(entries, keep):
        with contextlib.suppress(OSError):
            os.unlink(entry.path)
    _counted[str(folder)] = keep


def last_used(entry: os.DirEntry) -> float:
    """When an entry was last used (its modification time: a hit refreshes it); 0 if gone."""
    try:
        return entry.stat().st_mtime
    except OSError:
        return 0.0


def least_recently_used(entries: list[os.DirEntry], keep: int) -> list[os.DirEntry]:
    """The entries beyond the `keep` most recently used, oldest first."""
    return sorted(entries, key=last_used)[: max(0, len(entries) - keep)]
