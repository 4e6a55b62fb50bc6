"""`POST /v1/evaluate`: a dry run. Reads the invoice, decides it, stores nothing.

The request only reads the database: the key, the customer and the version
in force come from one statement (`api.resolution`), on a connection
without a transaction; the compiled ruleset from the worker's cache. A
session (a reading one: on SQLite it never waits for, nor holds up, a
writer) is opened only to read a version's text the first time, or the
tenant's reference tables a ruleset reads.
"""

from __future__ import annotations

from flask import Blueprint

from aiguillage.api import database
from aiguillage.api.auth import authorise, confirmed, presented_key_hash
from aiguillage.api.deciding import decide
from aiguillage.api.documents import DOCUMENT_TYPES, read_body
from aiguillage.api.endpoint import endpoint
from aiguillage.api.resolution import resolve
from aiguillage.api.roles import EVALUATE_INVOICES
from aiguillage.api.schemas.decisions import EvaluateQuery, Evaluation
from aiguillage.api.selection import STANDARD_RULESET, Selection, compiled_version
from aiguillage.engine.loader import library

blueprint = Blueprint("evaluate", __name__, url_prefix="/v1")


@blueprint.before_request
def _reading_session() -> None:
    """Nothing here writes: any session opened is a reading one even though the method is POST."""
    database.reads_only()


@blueprint.post("/evaluate")
@endpoint(
    summary="Evaluate an invoice (dry run)",
    description="The body is the invoice: UBL or CII (application/xml), Factur-X (application/pdf) or JSON "
    "(application/json); the syntax is also detected from the content. The customer is `?customer=CODE`, "
    "else the tenant's customer the buyer's ids match. The answer is the Decision taken by the customer's "
    "active published ruleset version (else the tenant's `default` ruleset, else the standard en16931). "
    "Nothing is stored.",
    roles=EVALUATE_INVOICES,
    query=EvaluateQuery,
    accepts=DOCUMENT_TYPES,
    responses={200: Evaluation},
    problems={404: "no customer with that code", 409: "the buyer matches several customers, or a customer has several rulesets"},
    confirms_key=True,
)
def evaluate_invoice(query: EvaluateQuery) -> Evaluation:
    invoice, _ = read_body()
    resolved = resolve(database.database().engine, presented_key_hash(), invoice, query.customer)
    principal = confirmed(resolved.principal)
    authorise(principal, EVALUATE_INVOICES)
    if resolved.version is None:
        compiled = library().compiled(STANDARD_RULESET)
    else:
        compiled = compiled_version(database.session, principal.tenant_id, resolved.version)
    return decide(invoice, Selection(resolved.customer, resolved.version, compiled), lang=query.lang, explain=query.explain)
