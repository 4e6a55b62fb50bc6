"""E-reporting (flow 10) from the store on SQLite and PostgreSQL: which invoices and payments are reported,
aggregated how, at the cadence of the tenant's VAT regime; written by the CLI and sent through a loopback PA."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from conftest import conformance_dir
from lxml import etree
from worker_helpers import ERP, SAMPLE, url_of

from aiguillage.adapters.testing.pa_server import LoopbackPa
from aiguillage.api.testing import issue_key
from aiguillage.fr.accounts import set_account
from aiguillage.fr.ereporting import NS, EReportingError, classify, periods
from aiguillage.model.jsonio import read_json
from aiguillage.store.database import session_factory, transaction
from aiguillage.store.fr_models import LifecycleEvent
from aiguillage.store.repositories.audit import AuditLog
from aiguillage.store.repositories.invoices import Invoices, model_document

pytest_plugins = ["aiguillage.store.testing", "dispatch_fixtures"]


def test_cadence_follows_the_vat_regime() -> None:
    monthly = periods("reel_normal_mensuel", "2026-11")
    assert [(p.start.day, p.end.day, p.kinds) for p in monthly] == [
        (1, 10, ("10.1", "10.3")), (11, 20, ("10.1", "10.3")), (21, 30, ("10.1", "10.3")), (1, 30, ("10.2", "10.4"))]
    assert [(p.start, p.end) for p in periods("simplifie", "2026-02")] == [(date(2026, 2, 1), date(2026, 2, 28))]
    assert periods("franchise", "2026-11") == []
    assert [(p.start, p.end) for p in periods("franchise", "2026-12")] == [(date(2026, 11, 1), date(2026, 12, 31))]
    with pytest.raises(EReportingError, match="YYYY-MM"):
        periods("simplifie", "November")
    with pytest.raises(EReportingError, match="unknown VAT regime"):
        periods("micro", "2026-11")


def _store(engine, tenant, number: str, issued: date, *, country: str = "FR", identified: bool = True):  # noqa: ANN001, ANN202
    invoice = read_json(SAMPLE.read_bytes(), str(SAMPLE))
    invoice.number, invoice.issue_date = number, issued
    invoice.buyer.postal_address.country_code = country
    if not identified:
        invoice.buyer.vat_identifier = None
        invoice.buyer.legal_registration_identifier = None
    elif country != "FR":
        invoice.buyer.vat_identifier = f"{country}0207370162"
    assert classify(model_document(invoice)) == ("b2c" if not identified else "b2b-fr" if country == "FR" else "b2b-int")
    with transaction(session_factory(engine)) as session:
        return Invoices(session, tenant).receive(invoice, number.encode(), ERP, content_type="application/json").invoice.id


def test_reports_are_built_sent_and_say_what_they_hold(dispatch_db, tmp_path, capsys) -> None:  # noqa: ANN001
    from aiguillage.cli.main import main

    key = issue_key(url_of(dispatch_db), "admin")
    database = ["--database", url_of(dispatch_db)]
    assert main(["ereporting", "build", "--tenant", key.tenant_name, "--period", "2026-11", *database]) == 1
    assert "no French settings" in capsys.readouterr().err
    assert main(["ereporting", "settings", "--tenant", key.tenant_name, "--siren", "412345678",
                 "--vat-regime", "reel_normal_mensuel", *database]) == 0
    _store(dispatch_db, key.tenant_id, "FR-B2B-1", date(2026, 11, 5))
    international = _store(dispatch_db, key.tenant_id, "INT-1", date(2026, 11, 5), country="BE")
    b2c_one = _store(dispatch_db, key.tenant_id, "B2C-1", date(2026, 11, 12), identified=False)
    _store(dispatch_db, key.tenant_id, "B2C-2", date(2026, 11, 12), identified=False)
    _store(dispatch_db, key.tenant_id, "B2C-DEC", date(2026, 12, 1), identified=False)
    with transaction(session_factory(dispatch_db)) as session:
        AuditLog(session, key.tenant_id).append(ERP, "workflow.payment", "invoice", b2c_one,
                                                {"paid_on": "2026-11-15", "amount": "652.75"})
        from datetime import UTC, datetime

        session.add(LifecycleEvent(tenant_id=key.tenant_id, invoice_id=international, code="212",
                                   issued_at=datetime(2026, 11, 25, tzinfo=UTC), source="supplier",
                                   source_flow_id="f-212", amount=Decimal("652.75")))
    spec = conformance_dir() / "fr" / "xp-z12-013" / "flow-service-1.3.0.json"
    with LoopbackPa(tokens={"tok-fr": "fr"}, spec=spec) as pa:
        with transaction(session_factory(dispatch_db)) as session:
            set_account(session, key.tenant_id, pa.url, "tok-fr")
        out = tmp_path / "frr"
        assert main(["ereporting", "build", "--tenant", key.tenant_name, "--period", "2026-11", "--out", str(out),
                     "--send", *database]) == 0
        assert pa.violations == []
        sent = [f for f in pa.flows.values() if f.syntax == "FRR"]
    printed = capsys.readouterr().out
    assert printed.count("sent as flow") == 4 and len(sent) == 4
    assert {f.processing_rule for f in sent} == {"B2BInt"}
    files = sorted(p.name for p in out.iterdir())
    assert files == ["FRR-101-103-20261101-20261110.xml", "FRR-101-103-20261111-20261120.xml",
                     "FRR-101-103-20261121-20261130.xml", "FRR-102-104-20261101-20261130.xml"]
    first = etree.parse(str(out / files[0])).getroot()
    ns = {"r": NS}
    assert [e.findtext("r:Id", namespaces=ns) for e in first.iterfind(".//r:Invoice", ns)] == ["INT-1"]
    assert first.findtext("r:ReportDocument/r:Declarant/r:Siren", namespaces=ns) == "412345678"
    second = etree.parse(str(out / files[1])).getroot()
    totals = [(t.get("rate"), t.get("taxable"), t.get("tax"), t.get("transactions")) for t in second.iterfind(".//r:DailyTotal", ns)]
    assert totals == [("5.5", "100.00", "5.50", "2"), ("20", "1000.00", "200.00", "2")]
    payments = etree.parse(str(out / files[3])).getroot()
    assert [(p.get("invoice"), p.get("amount")) for p in payments.iterfind(".//r:Payment", ns)] == [("INT-1", "652.75")]
    daily = [(p.get("date"), p.get("rate"), p.get("amount")) for p in payments.iterfind(".//r:DailyPayments", ns)]
    assert daily == [("20261115", "5.5", "52.75"), ("20261115", "20", "600.00")]
    assert "B2C-DEC" not in (out / files[2]).read_text(encoding="utf-8")
