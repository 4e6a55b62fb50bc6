"""/v1/tables: layout, rows as exact text, row operations, roles, tenant isolation."""

from __future__ import annotations

pytest_plugins = ["aiguillage.api.testing"]

ORDER_BOOK = {
    "name": "purchase_orders",
    "key": "buyer_reference",
    "columns": ["buyer_reference", "po_number", "budget"],
    "description": "ACME's open purchase orders",
    "rows": [
        {"buyer_reference": "ACME-ACHATS-75", "po_number": "PO-204518", "budget": "12500.00"},
        {"buyer_reference": "ACME-ACHATS-13", "po_number": "PO-204519"},
    ],
}


def test_table_lifecycle(api_client, api_keys):
    erp = api_keys("erp")
    analyst = api_keys("analyst", erp.tenant_name)
    created = api_client.post("/v1/tables", json=ORDER_BOOK, headers=erp.headers)
    assert created.status_code == 201, created.json
    table = created.json
    assert (table["row_count"], table["revision"], table["key"]) == (2, 1, "buyer_reference")
    location = created.headers["Location"]

    listed = api_client.get("/v1/tables", headers=analyst.headers).json["items"]
    assert [t["name"] for t in listed] == ["purchase_orders"] and listed[0]["row_count"] == 2
    assert api_client.get("/v1/tables?name=other", headers=analyst.headers).json["items"] == []

    rows = api_client.get(f"{location}/rows", headers=erp.headers).json
    assert rows["items"][1] == {"buyer_reference": "ACME-ACHATS-75", "po_number": "PO-204518", "budget": "12500.00"}
    assert rows["items"][0]["budget"] is None and rows["next"] is None
    page = api_client.get(f"{location}/rows?limit=1", headers=erp.headers).json
    assert page["next"] == "ACME-ACHATS-13"

    put = api_client.put(f"{location}/rows/ACME-ACHATS-69", json={"po_number": "PO-1"}, headers=erp.headers)
    assert put.status_code == 201 and put.json["buyer_reference"] == "ACME-ACHATS-69"
    replaced = api_client.put(f"{location}/rows/ACME-ACHATS-69", json={"po_number": "PO-2"}, headers=erp.headers)
    assert replaced.status_code == 200 and replaced.json["po_number"] == "PO-2"
    assert api_client.get(f"{location}/rows/ACME-ACHATS-69", headers=erp.headers).json["po_number"] == "PO-2"
    slashed = api_client.put(f"{location}/rows/ACME/ACHATS/1", json={"po_number": "PO-3"}, headers=erp.headers)
    assert slashed.status_code == 201
    assert api_client.get(f"{location}/rows/ACME/ACHATS/1", headers=erp.headers).json["po_number"] == "PO-3"

    assert api_client.delete(f"{location}/rows/ACME-ACHATS-69", headers=analyst.headers).status_code == 204
    assert api_client.get(f"{location}/rows/ACME-ACHATS-69", headers=erp.headers).status_code == 404

    swapped = api_client.put(f"{location}/rows", json={"rows": ORDER_BOOK["rows"][:1]}, headers=erp.headers)
    assert swapped.status_code == 200 and swapped.json["row_count"] == 1
    described = api_client.patch(location, json={"description": "fresh"}, headers=erp.headers).json
    assert described["description"] == "fresh" and described["revision"] == 7

    assert api_client.delete(location, headers=analyst.headers).status_code == 204
    assert api_client.get(location, headers=erp.headers).status_code == 404


def test_numbers_must_be_text_and_errors_point_at_them(api_client, api_keys):
    erp = api_keys("erp")
    bad = {**ORDER_BOOK, "rows": [ORDER_BOOK["rows"][0], {"buyer_reference": "X", "budget": 12.5}]}
    response = api_client.post("/v1/tables", json=bad, headers=erp.headers)
    assert response.status_code == 400
    assert response.json["errors"][0]["pointer"] == "/rows/1/budget"

    unknown = {**ORDER_BOOK, "rows": [{"buyer_reference": "X", "colour": "red"}]}
    response = api_client.post("/v1/tables", json=unknown, headers=erp.headers)
    assert response.status_code == 400 and response.json["errors"][0]["pointer"] == "/rows/0/colour"

    duplicate = {**ORDER_BOOK, "rows": [ORDER_BOOK["rows"][0]] * 2}
    response = api_client.post("/v1/tables", json=duplicate, headers=erp.headers)
    assert response.status_code == 400 and response.json["errors"][0]["pointer"] == "/rows/1/buyer_reference"

    assert api_client.post("/v1/tables", json={**ORDER_BOOK, "key": "nope"}, headers=erp.headers).status_code == 400
    assert api_client.post("/v1/tables", json=ORDER_BOOK, headers=erp.headers).status_code == 201
    assert api_client.post("/v1/tables", json=ORDER_BOOK, headers=erp.headers).status_code == 409


def test_roles_on_tables(api_client, api_keys):
    erp = api_keys("erp")
    location = api_client.post("/v1/tables", json=ORDER_BOOK, headers=erp.headers).headers["Location"]
    approver = api_keys("approver", erp.tenant_name)
    customer = api_keys("customer", erp.tenant_name)
    assert api_client.get(location, headers=approver.headers).status_code == 200
    assert api_client.put(f"{location}/rows/X", json={}, headers=approver.headers).status_code == 403
    assert api_client.get(location, headers=customer.headers).status_code == 403
    assert api_client.delete(location, headers=erp.headers).status_code == 403


def test_another_tenants_table_is_404_never_the_data(api_client, api_keys):
    theirs, mine = api_keys("admin"), api_keys("admin")
    location = api_client.post("/v1/tables", json=ORDER_BOOK, headers=theirs.headers).headers["Location"]
    for response in (
        api_client.get(location, headers=mine.headers),
        api_client.get(f"{location}/rows", headers=mine.headers),
        api_client.get(f"{location}/rows/ACME-ACHATS-75", headers=mine.headers),
        api_client.put(f"{location}/rows/ACME-ACHATS-75", json={"po_number": "stolen"}, headers=mine.headers),
        api_client.put(f"{location}/rows", json={"rows": []}, headers=mine.headers),
        api_client.patch(location, json={"description": "mine now"}, headers=mine.headers),
        api_client.delete(f"{location}/rows/ACME-ACHATS-75", headers=mine.headers),
        api_client.delete(location, headers=mine.headers),
    ):
        assert response.status_code == 404
        assert "PO-204518" not in response.get_data(as_text=True)
    assert api_client.get("/v1/tables", headers=mine.headers).json["items"] == []
    assert api_client.get(f"{location}/rows/ACME-ACHATS-75", headers=theirs.headers).json["po_number"] == "PO-204518"
