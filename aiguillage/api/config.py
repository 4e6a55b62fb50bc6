"""Configuration, the Flask-tutorial way: defaults, then the environment, then the caller.

Environment variables are read with the `AIGUILLAGE_` prefix stripped, so
`AIGUILLAGE_DATABASE_URL` becomes `DATABASE_URL` and
`AIGUILLAGE_MAX_BODY_BYTES=1048576` becomes `MAX_BODY_BYTES` (values that
parse as JSON are converted, so numbers arrive as numbers).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask

from aiguillage.store.database import resolve_url

#: Largest request body accepted, in bytes, before anything reads it (413 beyond).
DEFAULT_MAX_BODY_BYTES = 32 * 1024 * 1024

DEFAULTS: dict[str, Any] = {
    # None: from AIGUILLAGE_DATABASE_URL, else the SQLite file ./aiguillage.db.
    "DATABASE_URL": None,
    "MAX_BODY_BYTES": DEFAULT_MAX_BODY_BYTES,
    # Refuse to start on a database whose schema is behind (see `aiguillage db upgrade`).
    "CHECK_SCHEMA": True,
    # Intake requests (submit, batch, evaluate) one server worker handles at once; more wait, then 503.
    "MAX_IN_FLIGHT": 16,
    # Of those, how many one API key may hold at once; one more is answered 429 (0: all of them).
    "MAX_IN_FLIGHT_PER_KEY": 0,
    # Seconds an intake request waits for a free slot before 503 + Retry-After.
    "ADMISSION_WAIT_S": 0.5,
    # When set, GET /metrics requires `Authorization: Bearer <this>`.
    "METRICS_TOKEN": None,
}


def configure(app: Flask, overrides: Mapping[str, Any] | None = None) -> None:
    """Fill `app.config` from defaults, the environment and `overrides`, in that order."""
    app.config.from_mapping(DEFAULTS)
    app.config.from_prefixed_env("AIGUILLAGE")
    if overrides:
        app.config.from_mapping(overrides)
    app.config["DATABASE_URL"] = resolve_url(app.config.get("DATABASE_URL"))
    limit = int(app.config["MAX_BODY_BYTES"])
    if limit <= 0:
        raise ValueError("MAX_BODY_BYTES must be a positive number of bytes")
    app.config["MAX_BODY_BYTES"] = limit
    app.config["MAX_CONTENT_LENGTH"] = limit
