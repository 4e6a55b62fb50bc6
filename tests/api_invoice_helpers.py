"""Helpers for the invoice, evaluate and ruleset API tests: example invoices, ruleset texts, set-up calls."""

from __future__ import annotations

from pathlib import Path

from flask.testing import FlaskClient

EXAMPLES = ("en16931", "ubl-examples")

#: The buyer of ubl-tc434-example2.xml has VAT id NO987654321MVA and legal id 987654321.
BUYER_VAT = "NO987654321MVA"


def example(conformance: Path, name: str = "ubl-tc434-example2.xml") -> bytes:
    """An official example invoice's bytes."""
    return conformance.joinpath(*EXAMPLES, name).read_bytes()


def ruleset_text(name: str, route: str = 'otherwise -> email to "ap@buyer.example" as factur-x',
                 validate: str = "", *, extends: bool = False) -> str:
    """A customer ruleset with one route section (and optional validate rules), extending en16931 if asked.

    Most tests leave the standard ruleset out: they test the API, not EN 16931, and
    stay quick; the ones about extending say so.
    """
    text = f'ruleset "{name}"\n' + ('extends "en16931"\n' if extends else "")
    if validate:
        text += f"\nvalidate\n{validate}\n"
    return text + f"\nroute\n  {route}\n"


#: A rule that always fails, with an English and a French message.
FAILING_RULE = '''  rule T-01 error
    message en "the invoice number {number} is refused"
            fr "le numéro de facture {number} est refusé"
    assert number = "never"'''


def customer(client: FlaskClient, headers: dict[str, str], code: str = "NOBUY", **fields: object) -> dict:
    """Create a customer (by default the buyer of example 2, matched by VAT id)."""
    body = {"code": code, "name": "Buyer AS", "vat_identifier": BUYER_VAT, "email": "ap@buyer.example", **fields}
    response = client.post("/v1/customers", json=body, headers=headers)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def published(client: FlaskClient, headers: dict[str, str], name: str, content: str,
              customer_code: str | None = "NOBUY") -> str:
    """Create a ruleset with this text and publish it; its id."""
    response = client.post("/v1/rulesets", json={"name": name, "customer": customer_code, "content": content},
                           headers=headers)
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["check"]["ok"], response.get_json()["check"]
    ruleset_id = response.get_json()["id"]
    response = client.post(f"/v1/rulesets/{ruleset_id}/publish", json={}, headers=headers)
    assert response.status_code == 201, response.get_json()
    return ruleset_id


def republish(client: FlaskClient, headers: dict[str, str], ruleset_id: str, content: str) -> int:
    """Save a new draft and publish it; the new version's number."""
    response = client.put(f"/v1/rulesets/{ruleset_id}/draft", json={"content": content}, headers=headers)
    assert response.status_code == 200 and response.get_json()["check"]["ok"], response.get_json()
    response = client.post(f"/v1/rulesets/{ruleset_id}/publish", json={}, headers=headers)
    assert response.status_code == 201, response.get_json()
    return response.get_json()["number"]


def xml(headers: dict[str, str], **more: str) -> dict[str, str]:
    """Headers for an XML body."""
    return {**headers, "Content-Type": "application/xml", **more}
