"""`aiguillage serve`: the HTTP API under gunicorn, the production WSGI server.

Each worker is a separate process that builds its own app (and database
engine) after the fork, so workers share nothing but the database: a
ruleset published through one worker is seen by all on their next request.
Evaluation is CPU-bound, so the default is one worker per core; `--threads`
helps only when requests wait on I/O. See docs/operators.md.
"""

from __future__ import annotations

import argparse
import logging
import os
import secrets
import sys
import tempfile
from typing import Any

from gunicorn.app.base import BaseApplication

from aiguillage.cli.db import add_database_option
from aiguillage.cli.main import CliError
from aiguillage.store import migrate
from aiguillage.store.database import DatabaseUrlError, describe, make_engine, resolve_url
from aiguillage.store.errors import SchemaNotCurrent

#: Where gunicorn workers keep their Prometheus samples (prometheus_client's own variable).
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "serve",
        help="run the HTTP API (gunicorn)",
        description="Run the HTTP API under gunicorn. Run `aiguillage db upgrade` first.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1; 0.0.0.0 for all)")
    parser.add_argument("--port", type=int, default=8000, help="port to listen on (default: 8000)")
    add_database_option(parser)
    parser.add_argument(
        "--workers", type=int, default=os.cpu_count() or 1, help="worker processes (default: one per core)"
    )
    parser.add_argument("--threads", type=int, default=1, help="threads per worker (default: 1)")
    parser.add_argument("--timeout", type=int, default=60, help="seconds before a silent worker is restarted")
    parser.add_argument(
        "--max-requests", type=int, default=0, help="restart a worker after this many requests (0: never)"
    )
    parser.add_argument("--access-log", action="store_true", help="log every request on standard output")
    parser.set_defaults(handler=run)


class _Gunicorn(BaseApplication):
    """gunicorn driven from code: settings from our options, the app from our factory."""

    def __init__(self, settings: dict[str, Any], app_config: dict[str, Any]) -> None:
        self._settings = settings
        self._app_config = app_config
        super().__init__()

    def load_config(self) -> None:
        for name, value in self._settings.items():
            if name in self.cfg.settings:  # settings newer than the installed gunicorn are skipped
                self.cfg.set(name, value)

    def load(self):  # noqa: ANN201 - gunicorn's signature
        from aiguillage.api import create_app

        return create_app(self._app_config)


def run(args: argparse.Namespace) -> int:
    url = resolve_url(args.database)
    if args.workers < 1 or args.threads < 1:
        raise CliError("--workers and --threads must be at least 1")
    _check_database(url)
    _observability()
    settings = {
        "bind": f"[{args.host}]:{args.port}" if ":" in args.host else f"{args.host}:{args.port}",
        "workers": args.workers,
        "threads": args.threads,
        "timeout": args.timeout,
        "graceful_timeout": 30,
        "max_requests": args.max_requests,
        "max_requests_jitter": args.max_requests // 10,
        "accesslog": "-" if args.access_log else None,
        "errorlog": "-",
        "proc_name": "aiguillage",
        "preload_app": False,
        # gunicorn >= 25 opens a control socket at one fixed path per user; several
        # servers on one machine would fight over it, and nothing here uses it.
        "control_socket_disable": True,
        # A worker that ended (killed, restarted) leaves its histogram files for /metrics to merge.
        "child_exit": _forget_worker,
    }
    print(f"aiguillage serve: http://{args.host}:{args.port} on {describe(url)}, {args.workers} worker(s)", flush=True)
    app_config: dict[str, Any] = {"DATABASE_URL": url}
    if not os.environ.get("AIGUILLAGE_SECRET_KEY"):
        # The pages' form tokens are signed with it: every worker must share one (made here, before the fork).
        app_config["SECRET_KEY"] = secrets.token_hex(32)
    _Gunicorn(settings, app_config).run()
    return 0


def _observability() -> None:
    """JSON request lines on standard output; latency histograms shared by the workers (Prometheus multi-process).

    Set before any worker imports prometheus_client: the directory is where
    each worker writes its samples, made afresh for each run as the
    library asks.
    """
    if not os.environ.get(MULTIPROC_ENV):
        os.environ[MULTIPROC_ENV] = tempfile.mkdtemp(prefix="aiguillage-metrics-")
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(logging.Formatter("%(message)s"))
    for name in ("aiguillage.requests",):
        logger = logging.getLogger(name)
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        logger.propagate = False


def _forget_worker(_server: Any, worker: Any) -> None:
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def _check_database(url: str) -> None:
    """Fail at once, in one line, rather than in every worker as it boots."""
    try:
        engine = make_engine(url)
    except DatabaseUrlError as exc:
        raise CliError(str(exc)) from None
    try:
        migrate.require_current(engine)
    except SchemaNotCurrent as exc:
        raise CliError(f"{describe(url)}: {exc.message}") from None
    except Exception as exc:  # noqa: BLE001 - any driver error, reported in one line
        raise CliError(f"{describe(url)}: cannot connect: {str(getattr(exc, 'orig', exc)).strip().splitlines()[0]}") from None
    finally:
        engine.dispose()
