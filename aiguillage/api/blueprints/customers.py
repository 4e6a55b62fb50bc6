"""Customers: `/v1/customers` (list, create) and `/v1/customers/{id}` (read, change, delete)."""

from __future__ import annotations

import uuid

from flask import Blueprint, url_for

from aiguillage.api import database
from aiguillage.api.auth import current_principal
from aiguillage.api.endpoint import endpoint
from aiguillage.api.problems import Problem
from aiguillage.api.roles import DELETE_MASTER_DATA, READ_MASTER_DATA, WRITE_MASTER_DATA
from aiguillage.api.schemas.common import one_page
from aiguillage.api.schemas.customers import (
    REQUIRED_FIELDS,
    Customer,
    CustomerCreate,
    CustomerPage,
    CustomerPatch,
    CustomerQuery,
)
from aiguillage.store.repositories.customers import Customers

blueprint = Blueprint("customers", __name__, url_prefix="/v1/customers")


def _repository() -> Customers:
    return Customers(database.session(), current_principal().tenant_id)


@blueprint.get("")
@endpoint(summary="List customers", roles=READ_MASTER_DATA, query=CustomerQuery, responses={200: CustomerPage})
def list_customers(query: CustomerQuery) -> CustomerPage:
    rows = _repository().page(code=query.code, after=query.after, limit=query.limit + 1)
    rows, last = one_page(rows, query.limit)
    return CustomerPage(
        items=[Customer.model_validate(row) for row in rows], next=last.code if last is not None else None
    )


@blueprint.post("")
@endpoint(summary="Create a customer", roles=WRITE_MASTER_DATA, body=CustomerCreate, responses={201: Customer})
def create_customer(body: CustomerCreate) -> tuple[Customer, int, dict[str, str]]:
    customer = _repository().create(body.model_dump(mode="json"), current_principal().actor)
    location = url_for("customers.get_customer", customer_id=customer.id)
    return Customer.model_validate(customer), 201, {"Location": location}


@blueprint.get("/<uuid:customer_id>")
@endpoint(summary="Read a customer", roles=READ_MASTER_DATA, responses={200: Customer})
def get_customer(customer_id: uuid.UUID) -> Customer:
    return Customer.model_validate(_repository().get(customer_id))


@blueprint.patch("/<uuid:customer_id>")
@endpoint(
    summary="Change a customer",
    description="Only the fields sent change; `null` clears an optional field.",
    roles=WRITE_MASTER_DATA,
    body=CustomerPatch,
    responses={200: Customer},
)
def update_customer(customer_id: uuid.UUID, body: CustomerPatch) -> Customer:
    changes = body.model_dump(mode="json", include=body.model_fields_set)
    cleared = [name for name in REQUIRED_FIELDS if name in changes and changes[name] is None]
    if cleared:
        raise Problem(
            400,
            f"{cleared[0]} cannot be null",
            type="invalid-request",
            title="Invalid request",
            errors=[{"pointer": f"/{name}", "detail": "cannot be null"} for name in cleared],
        )
    customer = _repository().update(customer_id, changes, current_principal().actor)
    return Customer.model_validate(customer)


@blueprint.delete("/<uuid:customer_id>")
@endpoint(summary="Delete a customer", roles=DELETE_MASTER_DATA, responses={204: None})
def delete_customer(customer_id: uuid.UUID) -> None:
    _repository().delete(customer_id, current_principal().actor)
