"""Batches of PDFs for a print provider's hot folder: staged one by one, published a batch at a time.

A provider's robot picks up complete batches: a folder with one PDF per
invoice and a `manifest.json` saying what each is and where it goes. Staging
is durable (each invoice's PDF and its manifest entry are written atomically
under `.staging/`); a batch is assembled in a hidden folder and renamed into
the hot folder in one step, so the robot never sees a partial batch. The
keys of published batches are kept in a ledger, so a re-send after a crash
does not print an invoice twice.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aiguillage.adapters.files import atomic_write, fsync_dir

STAGING = ".staging"
LEDGER = "published-keys"


class HotFolder:
    """One hot folder; safe to share between worker processes on one host (a lock file serialises them)."""

    def __init__(self, root: Path, batch_size: int = 1) -> None:
        self.root = Path(root)
        self.staging = self.root / STAGING
        self.batch_size = max(1, batch_size)

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        self.staging.mkdir(parents=True, exist_ok=True)
        with open(self.staging / ".lock", "a+b") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def _published(self, name: str) -> bool:
        ledger = self.staging / LEDGER
        if not ledger.exists():
            return False
        with open(ledger, encoding="utf-8") as handle:
            return any(line.rstrip("\n") == name for line in handle)

    def stage(self, name: str, pdf: bytes, entry: dict[str, Any]) -> tuple[str, Path | None]:
        """Stage one document under `name` (unique per delivery); returns (state, batch folder).

        state is "duplicate" (already published), "staged" (waiting for the
        batch to fill) or "published" (this document completed a batch).
        """
        with self._locked():
            if self._published(name):
                return "duplicate", None
            atomic_write(self.staging / f"{name}.pdf", pdf)
            atomic_write(self.staging / f"{name}.json", json.dumps(entry, ensure_ascii=False).encode("utf-8"))
            if len(self._staged()) < self.batch_size:
                return "staged", None
            return "published", self._flush_locked()

    def flush(self) -> Path | None:
        """Publish whatever is staged as one batch (a worker calls this when idle); None when nothing was."""
        with self._locked():
            return self._flush_locked()

    def _staged(self) -> list[str]:
        return sorted(p.stem for p in self.staging.glob("*.json") if (self.staging / f"{p.stem}.pdf").exists())

    def _flush_locked(self) -> Path | None:
        for leftover in self.staging.glob("batch-*.part"):  # an assembly a crash interrupted
            shutil.rmtree(leftover, ignore_errors=True)
        names = self._staged()
        if not names:
            return None
        digest = hashlib.sha256("\n".join(names).encode()).hexdigest()[:16]
        done = next(iter(self.root.glob(f"batch-*-{digest}")), None)  # renamed before a crash: finish it
        if done is None:
            now = datetime.now(UTC)
            batch = f"batch-{now:%Y%m%dT%H%M%S%fZ}-{digest}"
            assembly = self.staging / f"{batch}.part"
            assembly.mkdir()
            documents = []
            for name in names:
                entry = json.loads((self.staging / f"{name}.json").read_text(encoding="utf-8"))
                os.link(self.staging / f"{name}.pdf", assembly / f"{name}.pdf")
                documents.append({"file": f"{name}.pdf", **entry})
            manifest = {"batch": batch, "created": now.isoformat(timespec="seconds"), "count": len(documents),
                        "documents": documents}
            atomic_write(assembly / "manifest.json", json.dumps(manifest, ensure_ascii=False, indent=2).encode("utf-8"))
            fsync_dir(assembly)
            done = self.root / batch
            os.rename(assembly, done)
            fsync_dir(self.root)
        with open(self.staging / LEDGER, "a", encoding="utf-8") as ledger:
            ledger.writelines(f"{name}\n" for name in names)
            ledger.flush()
            os.fsync(ledger.fileno())
        for name in names:
            for suffix in (".pdf", ".json"):
                with contextlib.suppress(FileNotFoundError):
                    (self.staging / f"{name}{suffix}").unlink()
        return done
