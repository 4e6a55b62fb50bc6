"""One statement per evaluation: the caller's key, the buyer's customer, and the ruleset versions in force.

`POST /v1/evaluate` is the API's hottest path. Resolving the key, matching
the buyer to a customer and finding the version in force used to be three
statements in an ORM session, with its BEGIN and COMMIT around them. Given
the key's hash and the invoice's buyer ids they do not depend on each other's
answers, so here they are one UNION ALL statement, built once and run
through `store.prepared` (straight on the driver's cursor, without a
transaction: one statement reads one consistent snapshot by itself). Each
branch is an index look-up; the tenant is the key's, found by the same
statement.

The key is checked by that statement on every request, so a revoked key
fails on its next request, in every worker, exactly as with `keys.resolve`.

The ranking of candidate customers and the choice among versions are the
ones `selection` uses for `POST /v1/invoices` (`best_candidate`,
`version_in_force`), so both endpoints decide for the same customer with the
same version.
"""

from __future__ import annotations

import functools
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    Engine,
    Integer,
    Select,
    String,
    Uuid,
    bindparam,
    cast,
    false,
    literal_column,
    null,
    or_,
    select,
    union_all,
)
from sqlalchemy.sql.elements import ColumnElement

from aiguillage.api.problems import Problem
from aiguillage.api.selection import (
    ID_COLUMNS,
    CustomerRef,
    VersionRef,
    best_candidate,
    buyer_ids,
    id_forms,
    version_in_force,
    versions_in_force,
)
from aiguillage.model.invoice import Invoice
from aiguillage.store.base import utcnow
from aiguillage.store.models import Customer, Ruleset
from aiguillage.store.prepared import Prepared
from aiguillage.store.repositories.keys import PRINCIPAL_BY_HASH, Principal, principal_of

#: The most buyer id forms there can be: four kinds of id in at most two forms each. They are bound as
#: `id0` … parameters of a statement built once per count, rather than an "expanding" IN list that
#: SQLAlchemy would render again on every request.
ID_SLOTS = 8


@dataclass(frozen=True)
class Resolved:
    """What one statement found: the caller (None: unknown or revoked key), the customer and the version in force."""

    principal: Principal | None
    customer: CustomerRef | None
    version: VersionRef | None


@dataclass(frozen=True)
class _Candidate:
    """A customer whose ids the buyer's match, as `selection.best_candidate` reads it."""

    id: uuid.UUID
    code: str
    vat_identifier: str | None
    legal_identifier: str | None
    peppol_participant_id: str | None
    edi_partner_id: str | None


@dataclass(frozen=True)
class _Version:
    """A candidate ruleset's newest effective version, as `selection.version_in_force` reads it."""

    id: uuid.UUID
    name: str
    customer_code: str | None
    version_id: uuid.UUID
    number: int
    content_hash: str


def _statement(forms: int | None) -> Select:
    """The UNION ALL of three kinds of row: `k` (the key), `c` (candidate customers), `v` (versions in force).

    `forms`: how many buyer id forms are bound (`id0` …), or None for the
    customer named by `code`. Every branch has the same nine columns (kind,
    id, ref, code, a, b, c, d, n); the first gives them their types, so NULLs
    are cast to match. The key and the matched customers are common table
    expressions, each looked up once however often the rest refers to them.
    """
    caller = PRINCIPAL_BY_HASH.cte("caller")
    tenant = select(caller.c.tenant_id).scalar_subquery()
    if forms is None:
        matches: ColumnElement[bool] = (Customer.tenant_id == tenant) & (
            Customer.code == bindparam("code")
        )
    elif forms == 0:
        matches = false()
    else:
        ids = [bindparam(f"id{slot}", type_=String) for slot in range(forms)]
        # Each OR branch repeats the tenant so that each is one index look-up, (tenant, column).
        matches = or_(
            *(
                (Customer.tenant_id == tenant) & getattr(Customer, column).in_(ids)
                for column in ID_COLUMNS
            )
        )
    matched = (
        select(Customer.id, *(getattr(Customer, column) for column in ID_COLUMNS))
        .where(matches)
        .cte("matched")
    )
    key = select(
        literal_column("'k'", String).label("kind"),
        caller.c.id,
        caller.c.tenant_id.label("ref"),
        caller.c.customer_code.label("code"),
        caller.c.name.label("a"),
        caller.c.prefix.label("b"),
        caller.c.role.label("c"),
        cast(null(), String).label("d"),
        cast(null(), Integer).label("n"),
    )
    customers = select(
        literal_column("'c'", String),
        matched.c.id,
        cast(null(), Uuid),
        matched.c.code,
        matched.c.vat_identifier,
        matched.c.legal_identifier,
        matched.c.peppol_participant_id,
        matched.c.edi_partner_id,
        cast(null(), Integer),
    )
    in_force = versions_in_force(
        tenant, Ruleset.customer_code.in_(select(matched.c.code))
    ).subquery()
    versions = select(
        literal_column("'v'", String),
        in_force.c.version_id,
        in_force.c.id,
        in_force.c.customer_code,
        in_force.c.name,
        in_force.c.content_hash,
        cast(null(), String),
        cast(null(), String),
        in_force.c.number,
    )
    return union_all(key, customers, versions)  # type: ignore[return-value]


@functools.cache
def _prepared(forms: int | None) -> Prepared:
    """The statement for that many buyer id forms (None: by code), each built once."""
    return Prepared(_statement(forms))


def resolve(engine: Engine, key_hash: str, invoice: Invoice, code: str | None) -> Resolved:
    """The caller, the invoice's customer and the version in force, by one statement.

    `code` is the `customer` parameter (404 when the tenant has no such
    customer). Otherwise the buyer's ids pick the customer as in
    `selection.match_customer` (409 when two match equally).
    """
    parameters: dict[str, Any] = {"secret_hash": key_hash, "now": utcnow()}
    ids: list[tuple[int, str, list[str]]] = []
    if code is not None:
        statement = _prepared(None)
        parameters["code"] = code
    else:
        ids = buyer_ids(invoice)
        forms = id_forms(ids)
        if (
            len(forms) > ID_SLOTS
        ):  # cannot happen with four kinds of id in two forms; never drop one silently
            raise AssertionError(f"{len(forms)} buyer id forms, more than {ID_SLOTS}")
        statement = _prepared(len(forms))
        parameters.update({f"id{slot}": form for slot, form in enumerate(forms)})
    principal = None
    candidates: list[_Candidate] = []
    versions: list[_Version] = []
    for kind, row_id, ref, row_code, a, b, c, d, number in statement.rows(engine, parameters):
        if kind == "k":
            principal = principal_of(ref, a, row_id, b, c, row_code)
        elif kind == "c":
            candidates.append(_Candidate(row_id, row_code, a, b, c, d))
        else:
            versions.append(_Version(ref, a, row_code, row_id, number, b))
    if principal is None:
        return Resolved(None, None, None)
    if code is not None:
        if not candidates:
            raise Problem(
                404, f"no customer with code {code!r}", type="unknown-customer", title="Not Found"
            )
        customer: CustomerRef | None = CustomerRef(candidates[0].id, candidates[0].code)
    else:
        customer = best_candidate(ids, candidates)
    return Resolved(
        principal,
        customer,
        version_in_force(versions, customer.code if customer is not None else None),
    )
