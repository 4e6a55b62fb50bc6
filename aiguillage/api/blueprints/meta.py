"""`GET /openapi.json`: the OpenAPI 3.1 document (no key needed)."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, json

from aiguillage.api.openapi import build_document

blueprint = Blueprint("meta", __name__)


@blueprint.get("/openapi.json")
def openapi() -> Response:
    """Built once per process: the routes do not change while it runs."""
    document = current_app.extensions.get("aiguillage.openapi")
    if document is None:
        document = json.dumps(build_document(current_app))
        current_app.extensions["aiguillage.openapi"] = document
    return Response(document, mimetype="application/json")
