"""/v1/customers: CRUD, paging, roles (403), tenant isolation (404, never the data), audit."""

from __future__ import annotations

import pytest

from aiguillage.api import create_app

pytest_plugins = ["aiguillage.api.testing"]

ACME = {
    "code": "ACME-FR-001",
    "name": "ACME Retail France SA",
    "language": "fr",
    "email": "ap@acme.example",
    "peppol_participant_id": "0009:52198765400019",
    "edi_partner_id": "ACMEEDI",
    "edi_transport": "sftp",
    "fax_number": "+33400000000",
    "postal_address": {"line_one": "1 place Bellecour", "city": "Lyon", "post_code": "69002", "country_code": "FR"},
    "preferred_formats": ["facturx"],
}


def test_create_read_update_delete(api_client, api_keys):
    erp = api_keys("erp")
    analyst = api_keys("analyst", erp.tenant_name)
    created = api_client.post("/v1/customers", json=ACME, headers=erp.headers)
    assert created.status_code == 201, created.json
    customer = created.json
    assert created.headers["Location"] == f"/v1/customers/{customer['id']}"
    assert customer["postal_address"]["city"] == "Lyon" and customer["language"] == "fr"

    fetched = api_client.get(created.headers["Location"], headers=analyst.headers)
    assert fetched.status_code == 200 and fetched.json == customer

    changed = api_client.patch(created.headers["Location"], json={"email": None, "language": "fr-BE"}, headers=erp.headers)
    assert changed.status_code == 200
    assert (changed.json["email"], changed.json["language"], changed.json["name"]) == (None, "fr-BE", ACME["name"])

    null_name = api_client.patch(created.headers["Location"], json={"name": None}, headers=erp.headers)
    assert null_name.status_code == 400 and null_name.json["errors"][0]["pointer"] == "/name"

    deleted = api_client.delete(created.headers["Location"], headers=analyst.headers)
    assert deleted.status_code == 204 and deleted.data == b""
    assert api_client.get(created.headers["Location"], headers=analyst.headers).status_code == 404


def test_duplicate_code_is_409(api_client, api_keys):
    erp = api_keys("erp")
    assert api_client.post("/v1/customers", json=ACME, headers=erp.headers).status_code == 201
    again = api_client.post("/v1/customers", json=ACME, headers=erp.headers)
    assert again.status_code == 409 and again.mimetype == "application/problem+json"


def test_paging_and_filter_by_code(api_client, api_keys):
    erp = api_keys("erp")
    for n in range(5):
        assert api_client.post("/v1/customers", json={"code": f"C{n}", "name": f"Customer {n}"}, headers=erp.headers).status_code == 201
    first = api_client.get("/v1/customers?limit=2", headers=erp.headers).json
    assert [c["code"] for c in first["items"]] == ["C0", "C1"] and first["next"] == "C1"
    second = api_client.get(f"/v1/customers?limit=2&after={first['next']}", headers=erp.headers).json
    assert [c["code"] for c in second["items"]] == ["C2", "C3"]
    last = api_client.get("/v1/customers?limit=2&after=C3", headers=erp.headers).json
    assert [c["code"] for c in last["items"]] == ["C4"] and last["next"] is None
    only = api_client.get("/v1/customers?code=C3", headers=erp.headers).json
    assert [c["code"] for c in only["items"]] == ["C3"]


@pytest.mark.parametrize(
    ("role", "method", "allowed"),
    [
        ("approver", "get", True),
        ("approver", "post", False),
        ("customer", "get", False),
        ("customer", "post", False),
        ("erp", "delete", False),
        ("analyst", "delete", True),
        ("admin", "delete", True),
    ],
)
def test_roles_are_enforced(api_client, api_keys, role, method, allowed):
    admin = api_keys("admin")
    customer_id = api_client.post("/v1/customers", json=ACME, headers=admin.headers).json["id"]
    key = api_keys(role, admin.tenant_name)
    if method == "get":
        response = api_client.get(f"/v1/customers/{customer_id}", headers=key.headers)
    elif method == "post":
        response = api_client.post("/v1/customers", json={**ACME, "code": "NEW"}, headers=key.headers)
    else:
        response = api_client.delete(f"/v1/customers/{customer_id}", headers=key.headers)
    if allowed:
        assert response.status_code in (200, 201, 204)
    else:
        assert response.status_code == 403 and response.mimetype == "application/problem+json"


def test_another_tenants_customer_is_404_never_the_data(api_client, api_keys):
    theirs = api_keys("admin")
    mine = api_keys("admin")
    their_id = api_client.post("/v1/customers", json=ACME, headers=theirs.headers).json["id"]
    for response in (
        api_client.get(f"/v1/customers/{their_id}", headers=mine.headers),
        api_client.patch(f"/v1/customers/{their_id}", json={"name": "stolen"}, headers=mine.headers),
        api_client.delete(f"/v1/customers/{their_id}", headers=mine.headers),
    ):
        assert response.status_code == 404
        assert "ACME" not in response.get_data(as_text=True)
    assert api_client.get("/v1/customers", headers=mine.headers).json["items"] == []
    assert api_client.get(f"/v1/customers?code={ACME['code']}", headers=mine.headers).json["items"] == []
    assert api_client.get(f"/v1/customers/{their_id}", headers=theirs.headers).json["name"] == ACME["name"]
    # The same code is free in my tenant.
    assert api_client.post("/v1/customers", json=ACME, headers=mine.headers).status_code == 201


def test_every_write_is_audited_with_the_key(api_client, api_keys):
    erp = api_keys("erp")
    admin = api_keys("admin", erp.tenant_name)
    location = api_client.post("/v1/customers", json=ACME, headers=erp.headers).headers["Location"]
    api_client.patch(location, json={"fax_number": None}, headers=erp.headers)
    api_client.delete(location, headers=admin.headers)
    customer_id = location.rsplit("/", 1)[-1]
    entries = api_client.get(f"/v1/audit?target_type=customer&target_id={customer_id}", headers=admin.headers).json["items"]
    assert [(e["action"], e["role"]) for e in entries] == [
        ("customer.delete", "admin"),
        ("customer.update", "erp"),
        ("customer.create", "erp"),
    ]
    assert entries[1]["detail"] == {"fields": ["fax_number"]}
    assert entries[2]["actor"] == f"key:{erp.plaintext[:12]}"
    # Other tenants' audit entries stay out of sight.
    assert api_client.get(f"/v1/audit?target_id={customer_id}", headers=api_keys("admin").headers).json["items"] == []


def test_the_api_works_on_postgresql_too(postgres_url, key_issuer):
    app = create_app({"DATABASE_URL": postgres_url})
    client = app.test_client()
    try:
        theirs, mine = key_issuer(postgres_url, "admin"), key_issuer(postgres_url, "admin")
        created = client.post("/v1/customers", json=ACME, headers=theirs.headers)
        assert created.status_code == 201
        assert client.get(created.headers["Location"], headers=theirs.headers).json["code"] == ACME["code"]
        assert client.get(created.headers["Location"], headers=mine.headers).status_code == 404
        assert client.get("/v1/health").json["database"] == "ok"
        # Text PostgreSQL cannot store is a 400 naming it, not a 500.
        nul = client.post("/v1/customers", json={**ACME, "code": "NUL", "name": "A\u0000B"}, headers=theirs.headers)
        assert nul.status_code == 400 and nul.json["errors"][0]["pointer"] == "/name"
        assert client.get("/v1/customers?after=%00", headers=theirs.headers).status_code == 400
        assert client.get("/v1/audit?before=99999999999999999999", headers=theirs.headers).status_code == 400
    finally:
        app.extensions["aiguillage.database"].engine.dispose()
