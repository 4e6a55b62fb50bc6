"""Writing files so that whoever watches the folder never sees half of one.

Hot folders, outbound mailboxes and the portal folder are read by other
programs at any moment; a file appears there whole (temp file in the same
folder, fsync, then rename) or not at all.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path


def _temp_in(folder: Path, name: str, data: bytes) -> Path:
    """Write `data` to a hidden temp file beside its final place (same file system, so rename is atomic)."""
    folder.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(prefix=f".{name}.", suffix=".part", dir=folder)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise
    return Path(temp)


def atomic_write(path: Path, data: bytes) -> None:
    """Write `path` atomically, replacing what was there."""
    temp = _temp_in(path.parent, path.name, data)
    try:
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise


def atomic_create(path: Path, data: bytes) -> bool:
    """Write `path` atomically unless it exists; False when it was already there (a re-send).

    A hard link is the atomic no-overwrite rename POSIX offers; where links are
    not supported the file is created with O_EXCL semantics via rename.
    """
    temp = _temp_in(path.parent, path.name, data)
    try:
        try:
            os.link(temp, path)
        except FileExistsError:
            return False
        except OSError:  # file systems without hard links
            if path.exists():
                return False
            os.replace(temp, path)
            return True
        return True
    finally:
        with contextlib.suppress(OSError):
            os.unlink(temp)


def fsync_dir(folder: Path) -> None:
    """Make a rename in `folder` durable (a no-op where directories cannot be opened)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
