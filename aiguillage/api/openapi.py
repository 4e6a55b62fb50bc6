"""The OpenAPI 3.1 document, assembled from the app's routes and their `@endpoint` declarations.

Paths come from Flask's URL map, parameters from its converters and the
query models, bodies and answers from the pydantic models' JSON Schema
(which is JSON Schema 2020-12, the dialect OpenAPI 3.1 uses). Routes
without a declaration are left out.
"""

from __future__ import annotations

import re
from typing import Any

from flask import Flask
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from aiguillage import __version__
from aiguillage.api.endpoint import Operation, operation_of
from aiguillage.api.problems import PROBLEM_JSON
from aiguillage.api.schemas.common import ProblemDocument
from aiguillage.api.schemas.events import webhooks_section

_REF = "#/components/schemas/{model}"
_CONVERTER = re.compile(r"<(?:(?P<converter>[a-z]+)(?:\([^)]*\))?:)?(?P<name>\w+)>")
_CONVERTER_SCHEMAS: dict[str, dict[str, Any]] = {
    "uuid": {"type": "string", "format": "uuid"},
    "int": {"type": "integer"},
    "float": {"type": "number"},
    "path": {"type": "string"},
    "string": {"type": "string"},
    "default": {"type": "string"},
}
_METHODS = ("get", "put", "post", "delete", "patch")


def build_document(app: Flask) -> dict[str, Any]:
    """The whole OpenAPI document for the app."""
    operations: list[tuple[str, str, Operation, list[dict[str, Any]], str]] = []
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        operation = operation_of(app.view_functions[rule.endpoint])
        if operation is None:
            continue
        path, parameters = _path(rule.rule)
        for method in sorted(m.lower() for m in rule.methods or () if m.lower() in _METHODS):
            operations.append((path, method, operation, parameters, rule.endpoint))

    models = _models([op for _, _, op, _, _ in operations])
    refs, definitions = models_json_schema(models, ref_template=_REF)
    schemas = dict(definitions.get("$defs", {}))

    paths: dict[str, dict[str, Any]] = {}
    for path, method, operation, parameters, endpoint_name in operations:
        paths.setdefault(path, {})[method] = _operation(operation, parameters, endpoint_name, refs, schemas)

    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Aiguillage",
            "version": __version__,
            "description": "Rules-driven customer e-invoicing: enrich, validate and route EN 16931 invoices. "
            "Every error is an RFC 9457 problem document.",
        },
        "jsonSchemaDialect": "https://json-schema.org/draft/2020-12/schema",
        "paths": paths,
        "webhooks": webhooks_section(schemas),  # issue 19: what subscriptions receive
        "components": {
            "schemas": schemas,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer", "description": "An API key: aig_…"}},
        },
    }


def _models(operations: list[Operation]) -> list[tuple[type[BaseModel], str]]:
    wanted: dict[tuple[type[BaseModel], str], None] = {(ProblemDocument, "serialization"): None}
    for operation in operations:
        if operation.body is not None:
            wanted[(operation.body, "validation")] = None
        if operation.query is not None:
            wanted[(operation.query, "validation")] = None
        for model in operation.responses.values():
            if model is not None:
                wanted[(model, "serialization")] = None
    return list(wanted)


def _path(rule: str) -> tuple[str, list[dict[str, Any]]]:
    parameters: list[dict[str, Any]] = []

    def replace(match: re.Match[str]) -> str:
        converter = match.group("converter") or "default"
        parameters.append(
            {
                "name": match.group("name"),
                "in": "path",
                "required": True,
                "schema": dict(_CONVERTER_SCHEMAS.get(converter, {"type": "string"})),
            }
        )
        return "{" + match.group("name") + "}"

    return _CONVERTER.sub(replace, rule), parameters


def _operation(
    operation: Operation,
    path_parameters: list[dict[str, Any]],
    endpoint_name: str,
    refs: dict[tuple[type[BaseModel], str], dict[str, Any]],
    schemas: dict[str, Any],
) -> dict[str, Any]:
    problem = {PROBLEM_JSON: {"schema": refs[(ProblemDocument, "serialization")]}}
    document: dict[str, Any] = {
        "operationId": endpoint_name.replace(".", "_"),
        "summary": operation.summary,
        "tags": list(operation.tags) or [endpoint_name.split(".")[0]],
        "parameters": path_parameters + _query_parameters(operation, refs, schemas),
        "responses": {},
    }
    if operation.description:
        document["description"] = operation.description
    if operation.body is not None:
        document["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": refs[(operation.body, "validation")]}},
        }
    if operation.accepts:
        document["requestBody"] = {
            "required": True,
            "content": {media: {"schema": _raw_schema(media)} for media in operation.accepts},
        }
    for status, model in sorted(operation.responses.items()):
        answer: dict[str, Any] = {"description": _describe(status)}
        if model is not None:
            answer["content"] = {"application/json": {"schema": refs[(model, "serialization")]}}
        if operation.produces and status == operation.success_status:
            answer["content"] = {media: {"schema": _raw_schema(media)} for media in operation.produces}
        if operation.headers and 200 <= status < 300:
            answer["headers"] = {name: {"description": text, "schema": {"type": "string"}}
                                 for name, text in operation.headers.items()}
        document["responses"][str(status)] = answer
    errors = {400: "invalid request", 413: "body too large"} if operation.body is not None else {}
    if operation.accepts:
        errors.update({400: "unreadable document", 413: "body too large", 415: "unsupported media type"})
    if operation.query is not None:
        errors[400] = "invalid request"
    errors.update(operation.problems)
    if operation.roles is None:
        document["security"] = []
    else:
        document["security"] = [{"bearer": []}]
        roles = ", ".join(sorted(r.value for r in operation.roles))
        document["description"] = (document.get("description", "") + f"\n\nRoles: {roles}.").strip()
        errors.update({401: "no valid API key", 403: "the key's role is not admitted"})
    if path_parameters:
        errors[404] = "no such resource for this tenant"
    for status, text in sorted(errors.items()):
        document["responses"].setdefault(str(status), {"description": text, "content": problem})
    document["responses"]["default"] = {"description": "a problem (RFC 9457)", "content": problem}
    return document


def _raw_schema(media: str) -> dict[str, Any]:
    """A document body: any JSON object for JSON media types, text for XML, bytes otherwise."""
    if media == "application/json" or media.endswith("+json"):
        return {"type": "object"}
    if media.endswith("xml") or media.startswith("text/"):
        return {"type": "string"}
    return {"type": "string", "format": "binary"}


def _query_parameters(
    operation: Operation, refs: dict[tuple[type[BaseModel], str], dict[str, Any]], schemas: dict[str, Any]
) -> list[dict[str, Any]]:
    if operation.query is None:
        return []
    ref = refs[(operation.query, "validation")]["$ref"].rsplit("/", 1)[-1]
    model_schema = schemas[ref]
    required = set(model_schema.get("required", []))
    parameters = []
    for name, schema in model_schema.get("properties", {}).items():
        parameter = {"name": name, "in": "query", "required": name in required, "schema": schema}
        if "description" in schema:
            parameter["description"] = schema["description"]
        parameters.append(parameter)
    return parameters


def _describe(status: int) -> str:
    from http import HTTPStatus

    return HTTPStatus(status).phrase
