"""`aiguillage ereporting settings|build`: France's e-reporting (flow 10) from the store, at the VAT regime's cadence.

`build --period YYYY-MM` writes every report falling due in that month
(`DIR/FRR-…-<start>-<end>.xml`) for inspection; `--send` also submits each to
the tenant's PA as a flow (flowSyntax FRR).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from aiguillage.adapters.base import DeliveryError
from aiguillage.cli.db import add_database_option, store_transaction
from aiguillage.cli.main import CliError
from aiguillage.fr.ereporting import (
    REGIMES,
    EReportingError,
    build,
    flow_info,
    periods,
    set_settings,
)
from aiguillage.store.fr_models import FrSettings
from aiguillage.store.repositories.tenants import Tenants


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("ereporting", help="France's e-reporting (flow 10.1-10.4) from the store",
                                   description="Build (and send) the e-reporting of a tenant for a month.")
    actions = parser.add_subparsers(dest="ereporting_command", metavar="ACTION", required=True)
    settings = actions.add_parser("settings", help="set the tenant's SIREN and VAT regime (sets the cadence)")
    settings.add_argument("--tenant", required=True, metavar="NAME")
    settings.add_argument("--siren", required=True)
    settings.add_argument("--vat-regime", required=True, choices=REGIMES)
    add_database_option(settings)
    settings.set_defaults(handler=run_settings)
    built = actions.add_parser("build", help="write the reports falling due in a month")
    built.add_argument("--tenant", required=True, metavar="NAME")
    built.add_argument("--period", required=True, metavar="YYYY-MM")
    built.add_argument("--out", default="ereporting", help="folder to write the reports into (default ./ereporting)")
    built.add_argument("--send", action="store_true", help="also submit each report to the tenant's PA")
    add_database_option(built)
    built.set_defaults(handler=run_build)


def run_settings(args: argparse.Namespace) -> int:
    with store_transaction(args.database) as session:
        tenant = Tenants(session).by_name(args.tenant)
        try:
            set_settings(session, tenant.id, args.siren, args.vat_regime)
        except EReportingError as exc:
            raise CliError(str(exc)) from None
    print(f"tenant {tenant.name}: SIREN {args.siren}, VAT regime {args.vat_regime}")
    return 0


def run_build(args: argparse.Namespace) -> int:
    out = Path(args.out)
    with store_transaction(args.database) as session:
        tenant = Tenants(session).by_name(args.tenant)
        settings = session.get(FrSettings, tenant.id)
        if settings is None:
            raise CliError("this tenant has no French settings: aiguillage ereporting settings --siren … --vat-regime …")
        try:
            due = periods(settings.vat_regime, args.period)
            reports = [build(session, tenant.id, period) for period in due]
        except EReportingError as exc:
            raise CliError(str(exc)) from None
        out.mkdir(parents=True, exist_ok=True)
        service = None
        if args.send:
            from aiguillage.fr.accounts import account, remember_flow, service_of

            row = account(session, tenant.id)
            if row is None:
                raise CliError("this tenant has no PA account (aiguillage pa account)")
            service = service_of(row)
        for report in reports:
            (out / report.filename).write_bytes(report.content)
            counts = ", ".join(f"{kind}: {report.entries.get(kind, 0)}" for kind in report.kinds)
            line = f"{out / report.filename}\t{counts}"
            if service is not None:
                try:
                    answer = service.submit(flow_info(report), report.filename, "application/xml", report.content)
                except DeliveryError as exc:
                    raise CliError(f"{report.filename} not sent: {exc.message}") from None
                remember_flow(session, tenant.id, str(answer["flowId"]), invoice_id=None, flow_type="MultiFlowReport",
                              direction="Out", tracking_id=flow_info(report)["trackingId"])
                line += f"\tsent as flow {answer['flowId']}"
            print(line)
    if not reports:
        print(f"nothing falls due in {args.period} under regime {settings.vat_regime}")
    return 0
