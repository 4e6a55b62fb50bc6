"""`aiguillage submit FILES… --jobs N`: post invoice files to the API, as an ERP dropping files in a folder.

Each file's idempotency key is derived from its content (`file-<sha256>`),
so running the command again on the same files stores nothing twice and
answers each with the invoice first stored. A 429/503 (saturated: nothing
stored) or a dropped connection is retried after the server's Retry-After,
with the same key. One line per file, then a summary line; the exit status
is 1 when any file was not stored. With `--batch N`, N files go in one
`POST /v1/invoices:batch` request (stored in one transaction, decided in one
more: the month-end mode); items answered 429/503 are sent again.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import os
import time
import urllib.error
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from aiguillage.cli.main import CliError

URL_ENV = "AIGUILLAGE_URL"
#: Most files one batch request carries (the API's limit).
MAX_BATCH = 1000
KEY_ENV = "AIGUILLAGE_API_KEY"
_MEDIA = {b"<": "application/xml", b"%PDF": "application/pdf", b"{": "application/json"}


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "submit",
        help="post invoice files to the API (POST /v1/invoices), several at a time",
        description="Post invoice files (UBL, CII, Factur-X, JSON) to a running Aiguillage API. Each file's "
        "Idempotency-Key comes from its content, so posting the same files again stores nothing twice.",
    )
    parser.add_argument("files", nargs="+", type=Path, metavar="FILE")
    parser.add_argument("--url", default=os.environ.get(URL_ENV, "http://127.0.0.1:8000"),
                        help=f"the API's base URL (default: ${URL_ENV}, else http://127.0.0.1:8000)")
    parser.add_argument("--key", default=os.environ.get(KEY_ENV),
                        help=f"an API key with role erp or admin (default: ${KEY_ENV})")
    parser.add_argument("--customer", help="the customer's code (default: matched from each invoice's buyer)")
    parser.add_argument("--jobs", "-j", type=int, default=4, metavar="N", help="files posted at once (default: 4)")
    parser.add_argument("--batch", type=int, default=0, metavar="N",
                        help="post N files per request to POST /v1/invoices:batch (stored in one transaction, "
                        f"decided in one more; at most {MAX_BATCH}); default: one file per POST /v1/invoices")
    parser.add_argument("--retries", type=int, default=5, metavar="N",
                        help="tries again after 429/503 or a dropped connection (default: 5)")
    parser.add_argument("--timeout", type=float, default=60.0, metavar="SECONDS", help="per request (default: 60)")
    parser.set_defaults(handler=run)


@dataclass(frozen=True)
class Outcome:
    """One file's answer."""

    path: Path
    status: int
    line: str
    #: The answer was a repeat's: the invoice was stored before (`Idempotent-Replayed`, a batch item's `replayed`).
    replayed: bool = False

    @property
    def stored(self) -> bool:
        return self.status in (200, 202)


def idempotency_key(data: bytes) -> str:
    """The same content always gets the same key (a re-run is a repeat, not a new invoice)."""
    return "file-" + hashlib.sha256(data).hexdigest()


def run(args: argparse.Namespace) -> int:
    if not args.key:
        raise CliError(f"give an API key with --key or ${KEY_ENV}")
    if args.jobs < 1:
        raise CliError("--jobs must be at least 1")
    if not 0 <= args.batch <= MAX_BATCH:
        raise CliError(f"--batch is 1 to {MAX_BATCH} files per request (0: one per request)")
    endpoint = args.url.rstrip("/") + "/v1/invoices"
    if args.customer and not args.batch:
        endpoint += "?" + urllib.parse.urlencode({"customer": args.customer})
    started = time.monotonic()
    outcomes: list[Outcome] = []
    with ThreadPoolExecutor(args.jobs) as pool:
        if args.batch:
            groups = [args.files[i:i + args.batch] for i in range(0, len(args.files), args.batch)]
            answered = (o for group in pool.map(lambda g: _post_batch(endpoint + ":batch", args, g), groups)
                        for o in group)
        else:
            answered = pool.map(lambda p: _post(endpoint, args, p), args.files)
        for outcome in answered:
            print(outcome.line, flush=True)
            outcomes.append(outcome)
    elapsed = time.monotonic() - started
    repeats = sum(o.stored and o.replayed for o in outcomes)
    stored = sum(o.stored for o in outcomes) - repeats
    failed = len(outcomes) - stored - repeats
    rate = len(outcomes) / elapsed if elapsed > 0 else 0.0
    print(f"aiguillage submit: {len(outcomes)} file(s) in {elapsed:.1f} s ({rate:.1f}/s): {stored} stored, "
          f"{repeats} already stored, {failed} failed", flush=True)
    return 0 if failed == 0 else 1


def _post(endpoint: str, args: argparse.Namespace, path: Path) -> Outcome:
    try:
        data = path.read_bytes()
    except OSError as exc:
        return Outcome(path, 0, f"{path}: not read: {exc.strerror}")
    media = next((m for prefix, m in _MEDIA.items() if data.lstrip()[: len(prefix)] == prefix),
                 "application/octet-stream")
    headers = {"Authorization": f"Bearer {args.key}", "Content-Type": media, "Idempotency-Key": idempotency_key(data)}
    for attempt in range(args.retries + 1):
        request = urllib.request.Request(endpoint, data=data, method="POST", headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=args.timeout) as response:
                return _answered(path, response.status, response.read(),
                                 replayed=response.headers.get("Idempotent-Replayed") == "true")
        except urllib.error.HTTPError as error:
            body = error.read()
            if error.code in (429, 503) and attempt < args.retries:
                time.sleep(float(error.headers.get("Retry-After") or 1))
                continue
            return _answered(path, error.code, body)
        except OSError as exc:  # refused, reset, timed out: nothing known, the same key makes a retry safe
            if attempt < args.retries:
                time.sleep(min(2 ** attempt, 10))
                continue
            return Outcome(path, 0, f"{path}: not sent: {getattr(exc, 'reason', exc)}")
    raise AssertionError("unreachable")


def batch_item(data: bytes, customer: str | None) -> dict[str, object]:
    """One file as a batch item: its text when it is UTF-8 (XML, JSON), else base64 (Factur-X)."""
    item: dict[str, object] = {"idempotency_key": idempotency_key(data)}
    if customer:
        item["customer"] = customer
    try:
        item["document"] = data.decode()
    except UnicodeDecodeError:
        item["document_base64"] = base64.b64encode(data).decode()
    return item


def _post_batch(endpoint: str, args: argparse.Namespace, paths: list[Path]) -> list[Outcome]:
    """Post files as one NDJSON batch; items answered 429/503 (not stored) are sent again, as one batch."""
    outcomes: dict[Path, Outcome] = {}
    items: dict[Path, dict[str, object]] = {}
    for path in paths:
        try:
            items[path] = batch_item(path.read_bytes(), args.customer)
        except OSError as exc:
            outcomes[path] = Outcome(path, 0, f"{path}: not read: {exc.strerror}")
    headers = {"Authorization": f"Bearer {args.key}", "Content-Type": "application/x-ndjson"}
    waiting = list(items)
    for attempt in range(args.retries + 1):
        if not waiting:
            break
        body = "\n".join(json.dumps(items[path]) for path in waiting).encode()
        request = urllib.request.Request(endpoint, data=body, method="POST", headers=headers)
        pause = 1.0
        try:
            with urllib.request.urlopen(request, timeout=args.timeout) as response:
                answers = json.loads(response.read())["items"]
        except urllib.error.HTTPError as error:
            answer = _answered(Path("batch"), error.code, error.read())
            if error.code in (429, 503) and attempt < args.retries:
                time.sleep(float(error.headers.get("Retry-After") or 1))
                continue
            outcomes.update({p: Outcome(p, error.code, f"{p}: {answer.line.split(': ', 1)[1]}") for p in waiting})
            break
        except OSError as exc:
            if attempt < args.retries:
                time.sleep(min(2 ** attempt, 10))
                continue
            outcomes.update({p: Outcome(p, 0, f"{p}: not sent: {getattr(exc, 'reason', exc)}") for p in waiting})
            break
        again = []
        for path, answer in zip(waiting, answers, strict=True):
            status = answer["status"]
            if status in (429, 503) and attempt < args.retries:
                again.append(path)
                continue
            body_of = {"id": answer.get("id"), "status": answer.get("invoice_status"), **(answer.get("problem") or {})}
            outcomes[path] = _answered(path, status, json.dumps(body_of).encode(), replayed=bool(answer.get("replayed")))
        waiting = again
        if waiting:
            time.sleep(pause)
    for path in waiting:
        outcomes.setdefault(path, Outcome(path, 503, f"{path}: 503 not stored: still saturated"))
    return [outcomes[path] for path in paths]


def _answered(path: Path, status: int, body: bytes, *, replayed: bool = False) -> Outcome:
    try:
        document = json.loads(body)
    except ValueError:
        document = {}
    if status in (200, 202):
        kind = "already stored" if replayed else "stored"
        return Outcome(path, status, f"{path}: {status} {kind} {document.get('id')} {document.get('status')}",
                       replayed)
    detail = document.get("detail") or body[:200].decode(errors="replace")
    return Outcome(path, status, f"{path}: {status} not stored: {detail}")


