"""`POST /v1/evaluate`: a dry run. Reads the invoice, decides it, stores nothing.

The request only reads the database (key, customer, version in force), so
it runs in a reading session: on SQLite it never waits for, nor holds up, a
writer, and evaluations on several workers run side by side.
"""

from __future__ import annotations

from flask import Blueprint, g

from aiguillage.api import database
from aiguillage.api.auth import current_principal
from aiguillage.api.deciding import decide
from aiguillage.api.documents import DOCUMENT_TYPES, read_body
from aiguillage.api.endpoint import endpoint
from aiguillage.api.roles import EVALUATE_INVOICES
from aiguillage.api.schemas.decisions import EvaluateQuery, Evaluation
from aiguillage.api.selection import select_for

blueprint = Blueprint("evaluate", __name__, url_prefix="/v1")


@blueprint.before_request
def _reading_session() -> None:
    """Nothing here writes: use a reading session even though the method is POST."""
    if "db_session" not in g:
        g.db_session = database.database().reading_sessions()


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
)
def evaluate_invoice(query: EvaluateQuery) -> Evaluation:
    invoice, _ = read_body()
    principal = current_principal()
    selection = select_for(database.session(), principal.tenant_id, invoice, query.customer)
    return decide(invoice, selection, lang=query.lang, explain=query.explain)
