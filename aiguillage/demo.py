"""`aiguillage demo`: the main job end to end on an embedded SQLite database, nothing to set up.

What it does, in order, all on this machine: upgrade the database in the
demo folder; create a tenant and an admin key; create one customer per
customer ruleset (`rulesets/customers/*`), with channel settings whose
transports stay in the folder; publish a ruleset for each through the API
(the real Flask app, in process, through its test client); submit every
sample invoice (`samples/`) through `POST /v1/invoices`; run the outbox
worker once; read every invoice back through `GET /v1/invoices/{id}`.

Stored rulesets cannot read table files (see docs/operators.md), so each
customer's published ruleset is a short text that `extends` the customer
ruleset from the rulesets folder by name, which brings its tables along.
Which sample goes with which customer is read from each customer ruleset's
test cases (`base:`), as the analysts wrote them.

Transports: EDI into `DIR/edi` (mailbox folder), print into `DIR/print`
(hot folder), portal into `DIR/portal`; Peppol to a loopback access point
(the package's stdlib HTTP server) whose envelopes are saved in
`DIR/peppol`; the PA channel (France) to a loopback approved platform built
from the XP Z12-013 Flow service description (in the conformance folder),
which plays a short lifecycle (200 Déposée … 205 Approuvée) that the demo
reads back by polling, as a deployment without a public webhook URL would.
E-mail and fax need an SMTP server, which the main install
does not have (the loopback SMTP server needs the test extra), so the demo
rulesets send those customers' invoices to folder channels instead:
e-mail to the portal, fax to print. `DEMO_NOTES` says so in the output.
"""

from __future__ import annotations

import re
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from flask.testing import FlaskClient
from werkzeug.datastructures import Headers

from aiguillage.adapters.testing.http_server import Answer, LoopbackHttpServer
from aiguillage.dispatch.channels import AdapterPool
from aiguillage.dispatch.stats import WorkerStats
from aiguillage.dispatch.worker import Worker, WorkerSettings
from aiguillage.engine.loader import rulesets_root
from aiguillage.model.syntaxes import read_invoice_file

#: Written into the demo folder: a folder without it is never deleted.
MARKER = ".aiguillage-demo"
TENANT = "demo"

#: Channels the demo cannot reach locally, and the folder channel used instead (stated in the output).
FOLDER_INSTEAD: dict[str, str] = {"email": "portal", "fax": "print"}
DEMO_NOTES = (
    "e-mail and fax need an SMTP server, which the main install does not have: "
    "the demo rulesets send e-mail customers to the portal folder and fax customers to the print folder."
)

_ROUTE_LINE = re.compile(r"^(\s*(?:when .*|otherwise)\s*->\s*)(.*)$")
_CONTENT_TYPES = {".xml": "application/xml", ".json": "application/json", ".pdf": "application/pdf"}


class DemoError(Exception):
    """The demo could not run (its folder, the samples or the rulesets are not usable)."""


@dataclass
class DemoCustomer:
    """One customer ruleset from the folder, the customer it is for and its sample invoices."""

    ruleset: str
    code: str
    rules_path: Path
    samples: list[Path] = field(default_factory=list)
    #: The customer's name, once created (taken from its first sample's buyer).
    name: str = ""


@dataclass
class Landing:
    """One invoice as the demo saw it: what was sent, what the API answered, its final state."""

    sample: str
    customer: str
    accepted: dict[str, Any]
    #: The API answered with the first answer of an earlier run (same key, kept database).
    replayed: bool = False
    detail: dict[str, Any] = field(default_factory=dict)


def samples_root() -> Path:
    """The project's sample invoices: `samples/` of a checkout (editable install), else the wheel's copy."""
    import aiguillage

    package = Path(aiguillage.__file__).resolve().parent
    for folder in (package.parent / "samples", package / "_samples"):
        if folder.is_dir():
            return folder
    raise DemoError(f"no sample invoices next to {package}: install from a checkout (pip install -e .)")


def discover(rulesets: Path, samples: Path) -> list[DemoCustomer]:
    """One `DemoCustomer` per customer ruleset file, with the samples its test cases use."""
    found: list[DemoCustomer] = []
    for rules_path in sorted((rulesets / "customers").glob("*/*.rules")):
        head = rules_path.read_text(encoding="utf-8")
        name = re.search(r'^ruleset\s+"([^"]+)"', head, re.MULTILINE)
        customer = re.search(r'^customer\s+"([^"]+)"', head, re.MULTILINE)
        if not name or not customer:
            continue
        demo = DemoCustomer(name.group(1), customer.group(1), rules_path)
        for case_file in sorted((rules_path.parent / "tests").glob("*.yaml")):
            for base in _bases(yaml.safe_load(case_file.read_text(encoding="utf-8"))):
                sample = samples / Path(base).name
                if sample.is_file() and sample not in demo.samples:
                    demo.samples.append(sample)
        found.append(demo)
    return found


def _bases(node: Any) -> Iterator[str]:
    """Every `base:` value in a test-case file, at any depth."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "base" and isinstance(value, str):
                yield value
            else:
                yield from _bases(value)
    elif isinstance(node, list):
        for item in node:
            yield from _bases(item)


def demo_ruleset_text(demo: DemoCustomer) -> str:
    """The stored text for `demo`: extends the folder ruleset; routes rewritten only for channels not reachable here."""
    text = demo.rules_path.read_text(encoding="utf-8")
    routes = _demo_routes(text)
    body = f'ruleset "{demo.ruleset}-demo" version 1\nextends "{demo.ruleset}"\n'
    body += f'description "Demo: {demo.ruleset} as published through the API"\n'
    return body + ("\nroute\n" + "\n".join(routes) + "\n" if routes else "")


def _demo_routes(text: str) -> list[str]:
    """The ruleset's route lines with unreachable channels swapped; empty when nothing needs to change."""
    lines = text.splitlines()
    try:
        start = next(i for i, line in enumerate(lines) if line.strip() == "route")
    except StopIteration:
        return []
    routes: list[str] = []
    changed = False
    for line in lines[start + 1:]:
        match = _ROUTE_LINE.match(line)
        if not match:
            if line.strip() and not line.startswith((" ", "\t")):
                break
            continue
        action = match.group(2)
        for channel, instead in FOLDER_INSTEAD.items():
            swapped = re.sub(rf"\b{channel}\b(\s+to\s+(\"[^\"]*\"|\S+))?(\s+as\s+\S+)?(\s+with\s+.*)?$",
                             f"{instead} as pdf", action)
            if swapped != action:
                action, changed = swapped, True
        routes.append(match.group(1) + action)
    return routes if changed else []


def customer_body(demo: DemoCustomer) -> dict[str, Any]:
    """`POST /v1/customers` for `demo`, from its first sample's buyer: name, ids, and where to deliver."""
    body: dict[str, Any] = {"code": demo.code, "name": demo.code}
    if not demo.samples:
        return body
    invoice = read_invoice_file(demo.samples[0])
    buyer = invoice.buyer
    if buyer is None:
        return body
    body["name"] = buyer.name or demo.code
    if buyer.vat_identifier:
        body["vat_identifier"] = buyer.vat_identifier
    address = buyer.electronic_address
    if address and address.value and address.scheme:
        body["peppol_participant_id"] = f"{address.scheme}:{address.value}"
    if buyer.identifier and buyer.identifier.value and buyer.identifier.scheme == "0088":
        body["edi_partner_id"] = buyer.identifier.value
        body["edi_transport"] = "mailbox"
    postal = buyer.postal_address
    if postal and postal.country_code:
        body["postal_address"] = {k: v for k, v in postal.model_dump().items() if v is not None}
    if postal and postal.country_code in {"FR", "BE"}:
        body["language"] = "fr"
    return body


def adapter_configs(folder: Path, peppol_url: str) -> dict[str, dict[str, Any]]:
    """Adapter configuration keeping every transport on this machine."""
    return {
        "edi": {"transport": "folder", "folder": str(folder / "edi"), "test_indicator": True},
        "print": {"mode": "hot_folder", "hot_folder": str(folder / "print")},
        "portal": {"folder": str(folder / "portal"), "base_url": "http://localhost/portal"},
        "peppol": {"access_point_url": peppol_url},
    }


def prepare_folder(folder: Path, keep: bool) -> None:
    """Create the demo folder; start afresh unless `keep` (only ever deleting a folder the demo made)."""
    if folder.exists() and not keep:
        if any(folder.iterdir()) and not (folder / MARKER).exists():
            raise DemoError(f"{folder} is not empty and was not made by the demo; choose another --dir")
        shutil.rmtree(folder)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / MARKER).write_text("made by `aiguillage demo`; deleted and made again by the next run\n")


#: Statuses the demo's loopback PA plays on every invoice it receives.
PA_LIFECYCLE = ["200", "202", "203", "204", "205"]


@contextmanager
def approved_platform(notes: list[str]) -> Iterator[Any]:
    """A loopback PA with a fresh token, or None (and a note) without the Flow service description."""
    from aiguillage.adapters.testing.pa_server import DEFAULT_SPEC, LoopbackPa

    if not DEFAULT_SPEC.is_file():
        notes.append(f"no PA for the French customer: the Flow service description is not at {DEFAULT_SPEC}")
        yield None
        return
    token = f"demo-{uuid.uuid4().hex}"
    with LoopbackPa(tokens={token: TENANT}, auto_statuses=PA_LIFECYCLE) as platform:
        platform.demo_token = token  # type: ignore[attr-defined]
        yield platform


def follow_pa(engine: Any, tenant_id: uuid.UUID, platform: Any) -> None:
    """Let the loopback PA play its statuses, then poll them into the store (no public webhook URL here)."""
    from aiguillage.fr import tracking
    from aiguillage.store.actor import CLI
    from aiguillage.store.database import session_factory, transaction

    platform.wait_idle()
    with transaction(session_factory(engine)) as session:
        tracking.poll(session, tenant_id, actor=CLI)


@contextmanager
def peppol_access_point(folder: Path) -> Iterator[LoopbackHttpServer]:
    """A loopback Peppol access point; every envelope it received is saved in `folder` on the way out."""
    counter = iter(range(1, 1_000_000))
    prefix = new_id()

    def answer(_request: Any) -> Answer:
        return Answer(200, f'{{"messageId": "{message_id(prefix, next(counter))}"}}'.encode())

    with LoopbackHttpServer(responder=answer) as server:
        try:
            yield server
        finally:
            if server.received:
                folder.mkdir(parents=True, exist_ok=True)
            for number, request in enumerate(server.received, 1):
                (folder / f"{message_id(prefix, number)}.xml").write_bytes(request.body)


def message_id(prefix: str, number: int) -> str:
    """The loopback access point's id for its `number`th envelope (also the saved file's name)."""
    return f"ap-{prefix}-{number:04d}"


class ApiClient:
    """The demo's calls to the API: JSON in, JSON out, any unexpected status is a `DemoError`."""

    def __init__(self, client: FlaskClient, key: str) -> None:
        self.client = client
        self.headers = {"Authorization": f"Bearer {key}"}

    def call(self, method: str, path: str, ok: tuple[int, ...] = (200, 201), **kwargs: Any) -> dict[str, Any]:
        return self.answer(method, path, ok, **kwargs)[0]

    def answer(self, method: str, path: str, ok: tuple[int, ...] = (200, 201),
               **kwargs: Any) -> tuple[dict[str, Any], Headers]:
        """The JSON body and the headers (a submission's `Idempotent-Replayed` says it was a repeat)."""
        headers = {**self.headers, **kwargs.pop("headers", {})}
        response = self.client.open(path, method=method, headers=headers, **kwargs)
        if response.status_code not in ok:
            raise DemoError(f"{method} {path}: {response.status_code} {response.get_data(as_text=True)[:500]}")
        return response.get_json(silent=True) or {}, response.headers


def ensure_customer(api: ApiClient, demo: DemoCustomer) -> dict[str, Any]:
    """Create the customer (or, on a kept database, bring the existing one up to date)."""
    body = customer_body(demo)
    found = api.call("GET", f"/v1/customers?code={demo.code}")["items"]
    if found:
        changes = {k: v for k, v in body.items() if k != "code"}
        return api.call("PATCH", f"/v1/customers/{found[0]['id']}", json=changes)
    return api.call("POST", "/v1/customers", json=body)


def publish_ruleset(api: ApiClient, demo: DemoCustomer) -> dict[str, Any]:
    """Create (or reuse) the customer's stored ruleset, save the demo text as its draft, publish it."""
    name = f"{demo.ruleset}-demo"
    content = demo_ruleset_text(demo)
    existing = [r for r in api.call("GET", "/v1/rulesets")["items"] if r["name"] == name]
    if existing:
        ruleset_id = existing[0]["id"]
        api.call("PUT", f"/v1/rulesets/{ruleset_id}/draft", json={"content": content})
    else:
        ruleset_id = api.call("POST", "/v1/rulesets", json={"name": name, "customer": demo.code, "content": content})["id"]
    version = api.call("POST", f"/v1/rulesets/{ruleset_id}/publish", ok=(201, 409),
                       json={"note": "published by aiguillage demo"})
    if "number" in version:
        return version
    # 409 on a kept database: the text is the version already published, which stays in force.
    active = api.call("GET", f"/v1/rulesets/{ruleset_id}").get("active_version")
    if active is None:
        raise DemoError(f"ruleset {name} could not be published: {version.get('detail')}")
    return {"number": active}


def submit(api: ApiClient, demo: DemoCustomer, sample: Path) -> Landing:
    """`POST /v1/invoices` for one sample, for its customer; a repeat on a kept database is a duplicate."""
    accepted, headers = api.answer(
        "POST", f"/v1/invoices?customer={demo.code}", ok=(202,), data=sample.read_bytes(),
        headers={"Content-Type": _CONTENT_TYPES.get(sample.suffix, "application/octet-stream"),
                 "Idempotency-Key": f"demo-{sample.name}"},
    )
    return Landing(sample.name, demo.code, accepted, replayed=headers.get("Idempotent-Replayed") == "true")


def drain(worker: Worker, rounds: int = 5) -> WorkerStats:
    """Run the worker once, again while a round still sent something (retries due at once, late claims)."""
    worker.run()
    for _ in range(rounds - 1):
        before = worker.stats.deliveries
        worker.run()
        if worker.stats.deliveries == before:
            break
    return worker.stats


def new_id() -> str:
    """A fresh id for names that must not collide across runs on a kept database."""
    return uuid.uuid4().hex[:8]


@dataclass
class DemoReport:
    """Everything the summary shows."""

    folder: Path
    database_url: str
    customers: list[DemoCustomer]
    rulesets: dict[str, int | None]
    landings: list[Landing]
    stats: WorkerStats
    notes: list[str]
    #: The demo tenant's admin key, to look around with `aiguillage serve` and curl.
    key: str


def run(folder: Path, *, keep: bool = False) -> DemoReport:
    """The whole demo; raises `DemoError` when it cannot run (never for what the rules decide)."""
    from aiguillage.api import create_app
    from aiguillage.store import migrate
    from aiguillage.store.actor import CLI
    from aiguillage.store.database import make_engine, session_factory, transaction
    from aiguillage.store.repositories.keys import ApiKeys
    from aiguillage.store.repositories.tenants import Tenants

    folder = folder.resolve()
    customers = discover(rulesets_root(), samples_root())
    if not customers:
        raise DemoError(f"no customer rulesets under {rulesets_root() / 'customers'}")
    prepare_folder(folder, keep)
    url = f"sqlite:///{folder / 'aiguillage.db'}"
    engine = make_engine(url)
    try:
        migrate.upgrade(engine)
        with transaction(session_factory(engine)) as session:
            tenants = Tenants(session)
            tenant = tenants.find(TENANT) or tenants.create(TENANT, CLI)
            key = ApiKeys(session, tenant.id).issue("admin", CLI, label=f"aiguillage demo {new_id()}").plaintext
        app = create_app({"DATABASE_URL": url})
        api = ApiClient(app.test_client(), key)
        rulesets: dict[str, int | None] = {}
        for demo in customers:
            demo.name = ensure_customer(api, demo).get("name", demo.code)
            rulesets[demo.code] = publish_ruleset(api, demo).get("number")
        landings = [submit(api, demo, sample) for demo in customers for sample in demo.samples]
        pa_notes: list[str] = []
        with peppol_access_point(folder / "peppol") as access_point, approved_platform(pa_notes) as platform:
            if platform is not None:
                from aiguillage.fr.accounts import set_account

                with transaction(session_factory(engine)) as session:
                    set_account(session, tenant.id, platform.url, platform.demo_token)
            pool = AdapterPool(adapter_configs(folder, f"{access_point.url}/outbound"))
            worker = Worker(engine, settings=WorkerSettings(once=True, concurrency=2, name="aiguillage-demo"),
                            adapters=pool)
            stats = drain(worker)
            if platform is not None:
                follow_pa(engine, tenant.id, platform)
        for landing in landings:
            landing.detail = api.call("GET", f"/v1/invoices/{landing.accepted['id']}")
            if any(d.get("channel") == "pa" for d in landing.detail.get("deliveries") or []):
                landing.detail["lifecycle"] = api.call("GET", f"/v1/invoices/{landing.accepted['id']}/lifecycle")
        app.extensions["aiguillage.database"].engine.dispose()
    finally:
        engine.dispose()
    notes = [DEMO_NOTES] if any(_demo_routes(d.rules_path.read_text(encoding="utf-8")) for d in customers) else []
    notes += pa_notes
    return DemoReport(folder, url, customers, rulesets, landings, stats, notes, key)


@contextmanager
def delivering(folder: Path, engine: Any) -> Iterator[Worker]:
    """The outbox worker running in a thread on the demo's transports, until the block ends.

    `aiguillage demo --serve` keeps it running so that what the pages release
    (an approval, a retried dead letter) is delivered as in the demo itself.
    """
    import threading

    with peppol_access_point(folder / "peppol") as access_point:
        pool = AdapterPool(adapter_configs(folder, f"{access_point.url}/outbound"))
        worker = Worker(engine, settings=WorkerSettings(concurrency=1, poll=1.0, name="aiguillage-demo-serve"),
                        adapters=pool)
        thread = threading.Thread(target=worker.run, name="demo-worker", daemon=True)
        thread.start()
        try:
            yield worker
        finally:
            worker.stop()
            thread.join(30)
