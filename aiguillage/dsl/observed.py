"""What loading a ruleset saw of the file system, so a later run can tell whether it would see the same.

A ruleset's check outcome depends on files known only after parsing (its
includes, data files, the rulesets it extends). While a ruleset loads, each
look at the disk (a path resolved, a file's presence, a file's content) is
noted here with what it returned; a later run replays the notes (resolving
and hashing, no parsing) and, when every one still holds, may reuse what the
load concluded. Notes go to every recording open on this thread, so loading
a parent ruleset inside a child's load counts for both.

Nothing is noted when no recording is open: the functions below then only do
what they are named for.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

#: One note: (kind, subject, what was seen). Kinds: "resolve", "is_file", "text", "bytes", or a
#: caller's own (replayed through the `others` callback of `still_holds`).
Note = tuple[str, str, object]


class Recording:
    """The notes of one load, in the order taken; `complete` is False when something was seen that a
    note cannot express (an unreadable file), and the outcome must then not be reused."""

    def __init__(self) -> None:
        self.notes: list[Note] = []
        self.complete = True


_local = threading.local()
_UNSEEN = object()


def _open_recordings() -> list[Recording]:
    stack = getattr(_local, "stack", None)
    if stack is None:
        stack = _local.stack = []
    return stack


@contextmanager
def recording() -> Iterator[Recording]:
    """Note every look at the disk made through this module until the block ends."""
    record = Recording()
    stack = _open_recordings()
    stack.append(record)
    try:
        yield record
    finally:
        stack.remove(record)


def recording_now() -> bool:
    """Whether anyone on this thread is noting (else loading need not note, nor read twice)."""
    return bool(_open_recordings())


def note(kind: str, subject: str, seen: object) -> None:
    for record in _open_recordings():
        record.notes.append((kind, subject, seen))


def add(notes: tuple[Note, ...] | None) -> None:
    """Notes taken earlier (a ruleset this process already loaded) count for the open recordings too;
    None stands for notes that were incomplete."""
    for record in _open_recordings():
        if notes is None:
            record.complete = False
        else:
            record.notes.extend(notes)


def incomplete() -> None:
    for record in _open_recordings():
        record.complete = False


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def resolve(path: Path) -> Path:
    resolved = path.resolve()
    note("resolve", str(path), str(resolved))
    return resolved


def is_file(path: Path) -> bool:
    present = path.is_file()
    note("is_file", str(path), present)
    return present


def read_text(path: Path) -> str:
    """The file's text as `Path.read_text(encoding="utf-8")` gives it; a failure makes the recordings incomplete."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        incomplete()
        raise
    note("text", str(path), _digest(text.encode("utf-8")))
    return text


def content(path: Path) -> None:
    """Note a data file's bytes (read by someone else: a code list, a table, its schema)."""
    if not recording_now():
        return  # nobody is noting: no second read of the file
    try:
        data = path.read_bytes()
    except OSError:
        incomplete()
        return
    note("bytes", str(path), _digest(data))


def still_holds(
    notes: tuple[Note, ...] | list[Note], others: Callable[[str, str], object] | None = None
) -> bool:
    """Whether the disk looks now as every note says; `others` answers the caller's own kinds of note."""
    seen: dict[tuple[str, str], object] = {}
    for kind, subject, expected in notes:
        found = seen.get((kind, subject), _UNSEEN)
        if found is _UNSEEN:
            found = seen[kind, subject] = _look(kind, subject, others)
        if found != expected:
            return False
    return True


def _look(kind: str, subject: str, others: Callable[[str, str], object] | None) -> object:
    try:
        if kind == "resolve":
            return str(Path(subject).resolve())
        if kind == "is_file":
            return os.path.isfile(subject)
        if kind == "text":
            return _digest(Path(subject).read_text(encoding="utf-8").encode("utf-8"))
        if kind == "bytes":
            with open(subject, "rb") as handle:
                return _digest(handle.read())
    except (OSError, UnicodeDecodeError):
        return None  # never equal to a noted digest
    return others(kind, subject) if others is not None else None
