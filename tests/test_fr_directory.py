"""The French directory: BT-49 addressing, the per-tenant cache filled from a loopback Directory service
(built from its OpenAPI file) or an export, and a stored ruleset asking it to route to `pa` and to warn
before a PA refuses a wrong address."""

from __future__ import annotations

import json

import pytest
from conftest import REPO, conformance_dir

from aiguillage.adapters.base import PermanentDeliveryError
from aiguillage.adapters.testing.directory_server import LoopbackDirectory
from aiguillage.fr.addressing import AddressError, parse, problem
from aiguillage.fr.directory import (
    DirectoryError,
    DirectoryService,
    read_export,
    refresh,
    store_lines,
)
from aiguillage.store.actor import CLI
from aiguillage.store.database import make_engine, session_factory, transaction
from aiguillage.store.repositories.reference import ReferenceTables

pytest_plugins = ["aiguillage.api.testing"]

SAMPLE = REPO / "samples" / "atelier-lumiere-F2026-0120-distrilux.xml"
BUYER_SIREN = "550123459"
LINES = [
    {"addressingIdentifier": BUYER_SIREN, "siren": BUYER_SIREN, "directoryLineStatus": "Enabled", "platformType": "WK",
     "legalUnit": {"siren": BUYER_SIREN, "businessName": "Distrilux SA"}},
    {"addressingIdentifier": f"{BUYER_SIREN}_55012345910003", "siren": BUYER_SIREN, "siret": "55012345910003",
     "directoryLineStatus": "Enabled", "platformType": "WK"},
    {"addressingIdentifier": f"{BUYER_SIREN}_55012345910003_COMPTA", "siren": BUYER_SIREN, "siret": "55012345910003",
     "routingIdentifier": "COMPTA", "directoryLineStatus": "Enabled", "platformType": "WK"},
    {"addressingIdentifier": "123456789_OLD", "siren": "123456789", "addressingSuffix": "OLD",
     "directoryLineStatus": "Disabled"},
]


@pytest.mark.parametrize(("text", "kind"), [
    ("550123459", "SIREN"), ("550123459_55012345910003", "SIREN_SIRET"),
    ("550123459_55012345910003_COMPTA", "SIREN_SIRET_routing-code"), ("550123459_FACTURES", "SIREN_suffix"),
])
def test_the_four_address_forms(text: str, kind: str) -> None:
    address = parse(text)
    assert (address.kind, str(address), address.siren) == (kind, text, "550123459")


@pytest.mark.parametrize(("text", "message"), [
    ("55012345", "9-digit SIREN"), ("550123459_12345678900011", "not a facility of SIREN 550123459"),
    ("550123459_55012345910003_A B", "only a routing code"), ("550123459_A_B", "expected SIREN"),
])
def test_wrong_addresses_say_what_is_wrong(text: str, message: str) -> None:
    with pytest.raises(AddressError, match=message):
        parse(text)


def test_problem_names_a_wrong_scheme_or_a_missing_address() -> None:
    assert problem(None, None) == "the buyer has no electronic address (BT-49)"
    assert "scheme 0088, not 0225" in (problem("550123459", "0088") or "")
    assert problem("550123459_55012345910003", "0225") is None


def _directory(lines=LINES) -> LoopbackDirectory:  # noqa: ANN001
    spec = conformance_dir() / "fr" / "xp-z12-013" / "directory-service-1.3.0.json"
    return LoopbackDirectory(lines, tokens={"dir-token"}, spec=spec)


def _cached(sqlite_url: str, tenant_id, name: str) -> dict[str, dict]:  # noqa: ANN001
    engine = make_engine(sqlite_url)
    with transaction(session_factory(engine)) as session:
        tables = ReferenceTables(session, tenant_id)
        table = tables.find(name)
        rows = {r.key: dict(r.data) for r in tables.rows(table.id, limit=1000)}
    engine.dispose()
    return rows


def test_refresh_caches_each_sirens_lines_from_the_directory_service(sqlite_url, api_keys) -> None:  # noqa: ANN001
    key = api_keys("admin")
    engine = make_engine(sqlite_url)
    with _directory() as directory:
        service = DirectoryService(directory.url, "dir-token")
        with transaction(session_factory(engine)) as session:
            assert refresh(session, key.tenant_id, service, [BUYER_SIREN, "999999999"], CLI) == (2, 4)
        assert directory.violations == []
        assert directory.searches[0]["filters"]["siren"] == {"op": "strict", "value": BUYER_SIREN}
        with pytest.raises(PermanentDeliveryError, match="401"):
            DirectoryService(directory.url, "wrong").lines_of(BUYER_SIREN)
        directory.violations.clear()
    engine.dispose()
    sirens = _cached(sqlite_url, key.tenant_id, "fr_directory")
    assert sirens[BUYER_SIREN] == {"siren": BUYER_SIREN, "name": "Distrilux SA", "registered": "true",
                                   "platform_type": "WK", "default_address": BUYER_SIREN,
                                   "addresses": f"{BUYER_SIREN} {BUYER_SIREN}_55012345910003 {BUYER_SIREN}_55012345910003_COMPTA"}
    assert sirens["999999999"]["registered"] == "false"
    lines = _cached(sqlite_url, key.tenant_id, "fr_directory_lines")
    assert lines[f"{BUYER_SIREN}_55012345910003_COMPTA"]["routing_code"] == "COMPTA"


def test_an_export_fills_the_cache_too(sqlite_url, api_keys, tmp_path) -> None:  # noqa: ANN001
    key = api_keys("admin")
    csv_text = "address,siren,siret,routing_code,suffix,status,platform_type,name\n" \
               "123456789,123456789,,,,Enabled,WK,Lumen\n123456789_LIVRAISONS,,,,LIVRAISONS,Enabled,WK,\n"
    engine = make_engine(sqlite_url)
    with transaction(session_factory(engine)) as session:
        assert store_lines(session, key.tenant_id, read_export(csv_text.encode(), "export.csv"), CLI) == (1, 2)
        assert store_lines(session, key.tenant_id, read_export(json.dumps(LINES).encode(), "export.json"), CLI) == (2, 6)
    with pytest.raises(DirectoryError, match="export.csv line 1: '12_X'"), transaction(session_factory(engine)) as session:
        store_lines(session, key.tenant_id, read_export(b"address\n12_X\n", "export.csv"), CLI, source="export.csv")
    engine.dispose()
    assert _cached(sqlite_url, key.tenant_id, "fr_directory")["123456789"]["addresses"] == "123456789 123456789_LIVRAISONS"


RULESET = '''ruleset "fr-directory"

table fr_directory key siren
table fr_directory_lines key address

validate
  rule FR-DIR-01 warning "the buyer's address {buyer.electronic_address} is not in the directory: its PA would refuse the invoice"
    when fr_directory[substring(buyer.legal_registration_identifier, 1, 9)].registered = "true"
    assert fr_directory_lines[buyer.electronic_address] exists

route
  when fr_directory[substring(buyer.legal_registration_identifier, 1, 9)].registered = "true" -> pa as cii
  otherwise -> email to "ap@buyer.example"
'''


def test_a_ruleset_routes_a_registered_buyer_to_pa_and_warns_on_a_wrong_address(api_client, api_keys, sqlite_url) -> None:  # noqa: ANN001
    key = api_keys("admin")
    assert api_client.post("/v1/customers", json={"code": "DLX", "name": "Distrilux", "vat_identifier": "FR70550123459"},
                           headers=key.headers).status_code == 201
    engine = make_engine(sqlite_url)
    with transaction(session_factory(engine)) as session:
        store_lines(session, key.tenant_id, LINES, CLI)
    created = api_client.post("/v1/rulesets", json={"name": "fr-directory", "customer": "DLX", "content": RULESET},
                              headers=key.headers).get_json()
    assert created["check"]["ok"], created["check"]
    assert api_client.post(f"/v1/rulesets/{created['id']}/publish", json={}, headers=key.headers).status_code == 201

    def evaluate(document: bytes) -> dict:
        answer = api_client.post("/v1/evaluate", data=document, headers={**key.headers, "Content-Type": "application/xml"})
        assert answer.status_code == 200, answer.get_json()
        return answer.get_json()

    sample = SAMPLE.read_bytes()
    body = evaluate(sample)  # the sample's buyer has no BT-49
    assert [r["channel"] for r in body["routes"]] == ["pa"]
    assert [f["rule"] for f in body["findings"] if f["rule"] == "FR-DIR-01"] == ["FR-DIR-01"]
    addressed = _with_buyer_address(sample, f"{BUYER_SIREN}_55012345910003_COMPTA")
    body = evaluate(addressed)
    assert [f for f in body["findings"] if f["rule"] == "FR-DIR-01"] == []
    body = evaluate(_with_buyer_address(sample, f"{BUYER_SIREN}_55012345910003_ACHATS"))
    assert [f["rule"] for f in body["findings"] if f["rule"] == "FR-DIR-01"] == ["FR-DIR-01"]
    with transaction(session_factory(engine)) as session:  # the buyer leaves its PA
        store_lines(session, key.tenant_id, [dict(line, directoryLineStatus="Disabled") for line in LINES], CLI,
                    replace=True)
    engine.dispose()
    assert [r["channel"] for r in evaluate(sample)["routes"]] == ["email"]


def _with_buyer_address(cii: bytes, address: str) -> bytes:
    """The sample with a BT-49 (URIUniversalCommunication, scheme 0225) on the buyer."""
    from lxml import etree

    ns = {"ram": "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100"}
    root = etree.fromstring(cii)
    buyer = root.find(".//ram:BuyerTradeParty", ns)
    uri = etree.Element(f"{{{ns['ram']}}}URIUniversalCommunication")
    element = etree.SubElement(uri, f"{{{ns['ram']}}}URIID", schemeID="0225")
    element.text = address
    tax = buyer.find("ram:SpecifiedTaxRegistration", ns)
    if tax is not None:
        tax.addprevious(uri)
    else:
        buyer.append(uri)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def test_cli_imports_an_export_and_refreshes_from_the_service(sqlite_url, api_keys, tmp_path, capsys, monkeypatch) -> None:  # noqa: ANN001
    from aiguillage.cli.main import main

    key = api_keys("admin")
    database = ["--database", sqlite_url]
    export = tmp_path / "annuaire.json"
    export.write_text(json.dumps(LINES[3:]), encoding="utf-8")
    assert main(["directory", "import", str(export), "--tenant", key.tenant_name, *database]) == 0
    assert "1 SIREN(s), 1 directory line(s)" in capsys.readouterr().out
    monkeypatch.setenv("DIR_TOKEN", "dir-token")
    with _directory() as directory:
        assert main(["directory", "refresh", "--tenant", key.tenant_name, "--url", directory.url,
                     "--token-env", "DIR_TOKEN", "--siren", BUYER_SIREN, *database]) == 0
        assert directory.violations == []
    assert "2 SIREN(s), 4 directory line(s)" in capsys.readouterr().out
    export.write_text("address\n12_X\n", encoding="utf-8")
    assert main(["directory", "import", str(export), "--tenant", key.tenant_name, *database]) == 1
    assert "annuaire.json line 1" in capsys.readouterr().err
