"""The app factory: `create_app(config)` builds one configured Flask app.

Called once per gunicorn worker (after the fork), so each worker has its
own engine and connection pool. Nothing here is global: tests build as
many apps, on as many databases, as they like.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import Any

from flask import Flask, request
from werkzeug.exceptions import RequestEntityTooLarge

from aiguillage import web
from aiguillage.api import admission, database, observability, problems
from aiguillage.api.blueprints import BLUEPRINTS
from aiguillage.api.config import configure
from aiguillage.api.problems import Problem
from aiguillage.store import migrate


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """A ready app: configured, connected, with every blueprint and problem handler installed.

    `config` overrides the environment (keys as in `api.config.DEFAULTS`,
    e.g. `{"DATABASE_URL": "sqlite:///x.db", "MAX_BODY_BYTES": 1024}`).
    Raises `SchemaNotCurrent` when `CHECK_SCHEMA` is on and the database
    needs `aiguillage db upgrade`.
    """
    app = Flask("aiguillage")
    configure(app, config)
    app.json.sort_keys = False
    db = database.init_app(app)
    if app.config["CHECK_SCHEMA"]:
        migrate.require_current(db.engine)
    problems.register(app)
    observability.init_app(app)
    admission.init_app(app)
    app.before_request(_refuse_oversized_body)
    for name in BLUEPRINTS:
        module = importlib.import_module(f"aiguillage.api.blueprints.{name}")
        app.register_blueprint(module.blueprint)
    web.init_app(app, db.sessions)
    return app


def _refuse_oversized_body() -> None:
    """400 for a NUL in the path; 413 as soon as the declared length is over the limit, before anyone reads the body.

    Bodies without a Content-Length (chunked) are cut off by Werkzeug at the
    same limit while being read.
    """
    if "\x00" in request.path:
        raise Problem(400, "the path contains a NUL character", type="invalid-request", title="Invalid request")
    limit = request.max_content_length
    if limit is not None and request.content_length is not None and request.content_length > limit:
        raise RequestEntityTooLarge()
