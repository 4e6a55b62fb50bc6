"""Where one `POST /v1/evaluate` spends its CPU, phase by phase, in one process (no HTTP, no server).

    python benchmarks/api_phases.py [--customers 200] [--rounds 5] [--invoice FILE]

Sets up the scratch database of `api_evaluate.py` (one tenant, `--customers`
customers, each with a published ruleset extending en16931), builds the app
as a gunicorn worker does, evaluates every customer's invoice once (so every
ruleset is compiled), then calls the WSGI app directly, customers in random
order, four times each per round. Each phase is measured as the calling
thread's CPU time (`time.thread_time`), which a busy machine inflates much
less than wall time; the best round is printed:

- read: the request body read as an invoice (lxml, the reader, the model);
- rules: the Decision (the customer's compiled ruleset, en16931 included);
- statement: key, customer and version in force (`api.resolution`, one SQL statement);
- compiled: the worker's compiled ruleset for that version, from memory;
- answer: the Evaluation's JSON and the response object;
- Flask and hooks: everything else in the app (request context, routing, the
  admission, observability and session hooks, the endpoint's key check and
  query parsing).

What is not here is gunicorn's own work (HTTP parsing, writing the answer)
and the kernel's (a TCP connection per request): `api_evaluate.py` measures
the whole server.
"""

from __future__ import annotations

import argparse
import io
import os
import random
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from api_evaluate import DEFAULT_INVOICE, invoices, set_up  # noqa: E402
from werkzeug.test import EnvironBuilder  # noqa: E402

PHASES = {
    "read_body": "read",
    "decide": "rules",
    "resolve": "statement",
    "compiled_version": "compiled",
}


def _timed(function: Callable[..., Any], label: str, spent: Counter) -> Callable[..., Any]:
    def timed(*args: Any, **kwargs: Any) -> Any:
        started = time.thread_time()
        try:
            return function(*args, **kwargs)
        finally:
            spent[label] += time.thread_time() - started

    return timed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--invoice", type=Path, default=DEFAULT_INVOICE)
    args = parser.parse_args()

    from aiguillage.api import endpoint
    from aiguillage.api.app import create_app
    from aiguillage.api.blueprints import evaluate

    spent: Counter = Counter()
    with tempfile.TemporaryDirectory(prefix="aiguillage-phases-") as scratch:
        url = f"sqlite:///{Path(scratch) / 'bench.db'}"
        key = set_up(url, args.customers)
        bodies = invoices(args.invoice, args.customers)
        app = create_app({"DATABASE_URL": url})
        for name, label in PHASES.items():
            setattr(evaluate, name, _timed(getattr(evaluate, name), label, spent))
        endpoint.to_response = _timed(endpoint.to_response, "answer", spent)
        headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/xml"}
        environs = [
            (
                EnvironBuilder(
                    path="/v1/evaluate", method="POST", data=body, headers=headers
                ).get_environ(),
                body,
            )
            for body in bodies
        ]

        def one(environ: dict[str, Any], body: bytes) -> None:
            environ = {**environ, "wsgi.input": io.BytesIO(body)}
            status: list[str] = []
            started = time.thread_time()
            answer = b"".join(app(environ, lambda s, h, exc_info=None: status.append(s)))
            spent["whole"] += time.thread_time() - started
            if not status[0].startswith("200"):
                raise SystemExit(f"{status[0]}: {answer[:500]!r}")

        for environ, body in environs:  # every customer's ruleset compiled before measuring
            one(environ, body)
        order = list(range(len(environs))) * 4
        random.Random(17).shuffle(order)
        best: dict[str, float] | None = None
        for _ in range(args.rounds):
            spent.clear()
            for index in order:
                one(*environs[index])
            if best is None or spent["whole"] < best["whole"]:
                best = dict(spent)
    assert best is not None
    per = {name: seconds / len(order) * 1e6 for name, seconds in best.items()}
    named = ["read", "rules", "statement", "compiled", "answer"]
    per["Flask and hooks"] = per["whole"] - sum(per.get(name, 0.0) for name in named)
    print(
        f"POST /v1/evaluate in one process, {args.customers} customers, best of {args.rounds} rounds of "
        f"{len(order)} requests, CPU per request (load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores):"
    )
    print(f"  whole: {per['whole']:.0f} µs")
    for name in [*named, "Flask and hooks"]:
        print(
            f"  {name:<16} {per.get(name, 0.0):6.0f} µs  {per.get(name, 0.0) / per['whole'] * 100:4.1f} %"
        )


if __name__ == "__main__":
    main()
