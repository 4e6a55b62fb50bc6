"""`GET /v1/health`: is the service up and can it use its database (no key needed)."""

from __future__ import annotations

from flask import Blueprint
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from aiguillage import __version__
from aiguillage.api import database
from aiguillage.api.endpoint import endpoint
from aiguillage.api.problems import Problem
from aiguillage.api.schemas.common import Health
from aiguillage.store import migrate

blueprint = Blueprint("health", __name__, url_prefix="/v1")


@blueprint.get("/health")
@endpoint(
    summary="Health of the service and its database",
    description="200 when the database answers and its schema is current; 503 (a problem) otherwise.",
    roles=None,
    responses={200: Health},
)
def health() -> Health:
    try:
        session = database.session()
        session.execute(text("SELECT 1"))
        revision = migrate.current_revision(session.connection())
    except SQLAlchemyError as exc:
        raise Problem(503, f"the database does not answer: {type(exc).__name__}", type="database-unavailable",
                      title="Service unavailable") from None
    if revision != migrate.head_revision():
        raise Problem(
            503,
            f"the database schema is at {revision or 'nothing'}, this version needs {migrate.head_revision()}: "
            "run `aiguillage db upgrade`",
            type="schema-not-current",
            title="Service unavailable",
        )
    return Health(status="ok", database="ok", schema_revision=revision, version=__version__)
