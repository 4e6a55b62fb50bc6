"""`aiguillage demo [--dir DIR] [--keep] [--serve [--port P]]`: the main job on the embedded defaults, with a summary.

The work is in `aiguillage.demo`; this module turns options into a call and
the report into text. Held and rejected invoices are normal outcomes of the
rules: the command exits 0 whenever everything ran. With `--serve` it then
serves the API, the console and the portal on 127.0.0.1:P until Ctrl-C,
after printing one-time sign-in links (`console: ` for an admin, `portal: `
for each demo customer).
"""

from __future__ import annotations

import argparse
from collections import Counter
from pathlib import Path
from typing import Any

from aiguillage.cli.main import CliError
from aiguillage.demo import DemoError, DemoReport, Landing, run

#: Rule ids shown per invoice (the count by severity covers the rest).
FIRST_RULES = 4


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "demo",
        help="run the main job on a local SQLite database: demo customers, rulesets and sample invoices",
        description="Create a demo tenant, customers and rulesets, submit every sample invoice through the API, "
        "run the outbox worker once and print what happened to each invoice. Everything stays in DIR.",
    )
    parser.add_argument("--dir", type=Path, default=Path("aiguillage-demo"), metavar="DIR",
                        help="where the database and the delivered files go (default: ./aiguillage-demo)")
    parser.add_argument("--keep", action="store_true",
                        help="keep DIR and its database from an earlier run instead of starting afresh")
    parser.add_argument("--serve", action="store_true",
                        help="then serve the API, console and portal on 127.0.0.1 until Ctrl-C, "
                        "printing one-time sign-in links")
    parser.add_argument("--port", type=int, default=8000, help="port for --serve (default: 8000; 0: any free one)")
    parser.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    try:
        report = run(args.dir, keep=args.keep)
    except DemoError as exc:
        raise CliError(str(exc)) from None
    print(render(report), flush=True)
    if args.serve:
        serve(report.database_url, args.port, report.folder)
    return 0


def serve(database_url: str, port: int, folder: Path) -> None:
    """Serve the demo database on loopback until Ctrl-C, after printing fresh sign-in links.

    The outbox worker keeps running meanwhile, so approvals and retries made in the pages are delivered.
    """
    import secrets

    from werkzeug.serving import make_server

    from aiguillage.api import create_app
    from aiguillage.demo import TENANT, delivering
    from aiguillage.store.database import make_engine
    from aiguillage.web.seed import demo_links

    app = create_app({"DATABASE_URL": database_url, "SECRET_KEY": secrets.token_hex(32)})
    try:
        server = make_server("127.0.0.1", port, app, threaded=True)
    except OSError as exc:
        raise CliError(f"cannot listen on 127.0.0.1:{port}: {exc.strerror or exc}") from None
    base = f"http://127.0.0.1:{server.server_port}"
    engine = make_engine(database_url)
    try:
        links = demo_links(engine, TENANT, base)
        with delivering(folder, engine):
            _announce(base, links)
            try:
                server.serve_forever()
            except KeyboardInterrupt:
                pass
            finally:
                server.server_close()
                app.extensions["aiguillage.database"].engine.dispose()
    finally:
        engine.dispose()


def _announce(base: str, links: Any) -> None:  # links: web.seed.DemoLinks
    print("", f"serving {base} (API under /v1, console /console, portal /portal; the outbox worker runs too) "
          "until Ctrl-C; "
          "each link below works once, for 24 hours:", sep="\n")
    print(f"console: {links.console}")
    for code, link in links.portal.items():
        print(f"portal: {link}  ({code})")
    print(flush=True)


def render(report: DemoReport) -> str:
    """The summary: setup, one block per invoice, one line of totals."""
    out = [f"Aiguillage demo in {report.folder}", f"database: {report.database_url}", ""]
    for demo in report.customers:
        version = report.rulesets.get(demo.code)
        out.append(f"customer {demo.code} ({demo.name}): ruleset {demo.ruleset}-demo v{version} (extends {demo.ruleset}), "
                   f"{len(demo.samples)} sample(s)")
    out.extend(f"note: {note}" for note in report.notes)
    out.append("")
    for landing in report.landings:
        out.extend(_invoice_lines(landing, report.folder))
        out.append("")
    out.append(f"look around: aiguillage serve --database {report.database_url}  "
               f"(tenant demo, admin key {report.key})")
    out.append(_totals(report))
    return "\n".join(out)


def _invoice_lines(landing: Landing, folder: Path) -> list[str]:
    detail = landing.detail
    decision = (detail.get("decision") or {}).get("result") or {}
    ruleset = decision.get("ruleset") or {}
    version = ruleset.get("version")
    ruleset_text = f"{ruleset.get('name', '?')}" + (f" v{version}" if version is not None else "")
    duplicate = " (duplicate of an earlier run)" if landing.replayed else ""
    lines = [
        f"{landing.sample}  ->  customer {detail.get('customer') or landing.customer}, "
        f"invoice {detail.get('number')}, ruleset {ruleset_text}{duplicate}",
        f"  findings: {_findings(decision.get('findings') or [])}",
        f"  routes:   {_routes(decision.get('routes') or [])}",
    ]
    holds = decision.get("holds") or []
    if holds:
        lines.append(f"  holds:    {_holds(holds)}")
    deliveries = detail.get("deliveries") or []
    for delivery in deliveries:
        lines.append(f"  delivery: {delivery['channel']} {delivery['status']} -> {_where(delivery, folder)}")
    if not deliveries:
        lines.append("  delivery: none")
    lines.append(f"  status:   {detail.get('status', landing.accepted.get('status'))}")
    lifecycle = detail.get("lifecycle")
    if lifecycle is not None:  # France: the statuses the PA sent back (issue 16)
        shown = ", ".join(f"{s['code']} {s['label_fr']}" for s in lifecycle.get("statuses") or []) or "none yet"
        lines.append(f"  lifecycle: {shown}")
    return lines


def _findings(findings: list[dict[str, Any]]) -> str:
    if not findings:
        return "none"
    counts = Counter(f.get("severity", "?") for f in findings)
    order = ["fatal", "error", "warning", "info"]
    by_severity = ", ".join(f"{counts[s]} {s}" for s in sorted(counts, key=lambda s: (order + [s]).index(s)))
    ids = list(dict.fromkeys(str(f.get("rule_id") or f.get("rule") or "?") for f in findings))
    more = f" +{len(ids) - FIRST_RULES} more" if len(ids) > FIRST_RULES else ""
    return f"{by_severity} ({', '.join(ids[:FIRST_RULES])}{more})"


def _routes(routes: list[dict[str, Any]]) -> str:
    if not routes:
        return "none"
    shown = []
    for route in routes:
        text = route.get("channel", "?")
        if route.get("to"):
            text += f" to {route['to']}"
        if route.get("format"):
            text += f" as {route['format']}"
        shown.append(text)
    return "; ".join(shown)


def _holds(holds: list[dict[str, Any]]) -> str:
    shown = []
    for hold in holds:
        kind = hold.get("kind") or "hold"
        reason = hold.get("reason")
        who = hold.get("role")
        shown.append(f"{kind} by {who}" if who else f"{kind} {reason!r}" if reason else kind)
    return "; ".join(shown)


def _where(delivery: dict[str, Any], folder: Path) -> str:
    """Where a delivery landed, as a path under the demo folder when it is a file."""
    attempts = delivery.get("attempts") or []
    last = attempts[-1] if attempts else {}
    if delivery["status"] not in {"sent", "delivered"}:
        return f"not sent: {delivery.get('last_error') or 'waiting'}"
    remote = str(last.get("remote_id") or "")
    channel = delivery["channel"]
    if channel == "peppol" and remote:
        return f"loopback access point, message {remote}: {Path('peppol') / (remote + '.xml')}"
    if channel == "pa" and remote:
        return f"loopback approved platform, flow {remote}"
    if channel == "portal" and remote:
        found = sorted(folder.glob(f"portal/*/{remote.rsplit('/', 1)[-1]}"))
        return f"{found[0].relative_to(folder)}/ ({remote})" if found else remote
    if channel == "print" and remote:
        found = sorted(folder.glob(f"print/{remote}"))
        return str(found[0].relative_to(folder)) if found else remote
    path = Path(remote)
    if path.is_absolute() and path.is_relative_to(folder):
        return str(path.relative_to(folder))
    return remote or str(last.get("detail") or "(no receipt)")


def _totals(report: DemoReport) -> str:
    statuses = Counter(str(landing.detail.get("status", "?")) for landing in report.landings)
    deliveries = Counter(str(d["status"]) for landing in report.landings for d in landing.detail.get("deliveries") or [])
    parts = ", ".join(f"{count} {status}" for status, count in sorted(statuses.items()))
    sent = ", ".join(f"{count} {status}" for status, count in sorted(deliveries.items())) or "none"
    findings = sum(len(((landing.detail.get("decision") or {}).get("result") or {}).get("findings") or [])
                   for landing in report.landings)
    return (f"TOTAL: {len(report.landings)} invoice(s) for {len(report.customers)} customer(s): {parts}; "
            f"{findings} finding(s); deliveries: {sent}")
