"""`@endpoint`: one declaration per endpoint, from which both its behaviour and its docs follow.

The decorator authenticates and authorises (unless the endpoint is public),
parses and validates the JSON body and the query string into pydantic
models, serialises the returned model, and commits the request's
transaction when the view succeeded. The same declaration is what
`openapi.py` reads to describe the endpoint, so the document cannot drift
from what the code accepts.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from flask import Response, request
from pydantic import BaseModel, ValidationError

from aiguillage.api import database
from aiguillage.api.auth import authenticate, authorise, confirm
from aiguillage.api.problems import Problem, from_validation_error
from aiguillage.store.vocabulary import Role

#: Attribute under which a view function carries its declaration.
OPERATION_ATTR = "aiguillage_operation"


@dataclass(frozen=True)
class Operation:
    """What an endpoint is: who may call it, what it takes, what it answers."""

    summary: str
    #: Roles admitted; None for a public endpoint (no key needed).
    roles: frozenset[Role] | None
    responses: Mapping[int, type[BaseModel] | None]
    body: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    description: str | None = None
    tags: tuple[str, ...] = field(default_factory=tuple)
    #: Media types of a raw body the view reads itself (an invoice document), instead of a JSON model.
    accepts: tuple[str, ...] = field(default_factory=tuple)
    #: Media types of a raw success body the view answers with itself (a `flask.Response`).
    produces: tuple[str, ...] = field(default_factory=tuple)
    #: Further problem statuses the endpoint may answer, with what they mean (documented in OpenAPI).
    problems: Mapping[int, str] = field(default_factory=dict)
    #: The view confirms the key in its own statement (see `auth.authenticate(remembered=True)`).
    confirms_key: bool = False
    #: Headers a successful answer may carry, with what they mean (documented in OpenAPI).
    headers: Mapping[str, str] = field(default_factory=dict)

    @property
    def success_status(self) -> int:
        """The status of a plain successful answer (the first 2xx declared)."""
        return min(status for status in self.responses if 200 <= status < 300)


def endpoint(
    *,
    summary: str,
    roles: Iterable[Role] | None,
    responses: Mapping[int, type[BaseModel] | None],
    body: type[BaseModel] | None = None,
    query: type[BaseModel] | None = None,
    description: str | None = None,
    tags: Iterable[str] = (),
    accepts: Iterable[str] = (),
    produces: Iterable[str] = (),
    problems: Mapping[int, str] | None = None,
    confirms_key: bool = False,
    headers: Mapping[str, str] | None = None,
) -> Callable[[Callable[..., Any]], Callable[..., Response]]:
    """Declare an endpoint; the view gets path parameters, and `body`/`query` models if declared.

    The view returns a model (answered with the first 2xx status), a tuple
    `(model, status)` or `(model, status, headers)`, None (204), or a
    `flask.Response` it built itself (for the raw media types in `produces`).
    `accepts` documents a raw request body that the view reads itself.
    `confirms_key`: the view confirms the caller's key itself, in the query
    it needs anyway (`POST /v1/evaluate`), calling `auth.confirmed`; a request
    that fails before that is confirmed here, so an unknown or revoked key is
    still answered 401 whatever else is wrong with the request.
    """
    operation = Operation(
        summary=summary,
        roles=None if roles is None else frozenset(roles),
        responses=dict(responses),
        body=body,
        query=query,
        description=description,
        tags=tuple(tags),
        accepts=tuple(accepts),
        produces=tuple(produces),
        problems=dict(problems or {}),
        confirms_key=confirms_key,
        headers=dict(headers or {}),
    )

    def decorate(view: Callable[..., Any]) -> Callable[..., Response]:
        @functools.wraps(view)
        def handle(**path: Any) -> Response:
            principal = authenticate(remembered=operation.confirms_key) if operation.roles is not None else None
            arguments = dict(path)
            try:
                if principal is not None and operation.roles is not None:
                    authorise(principal, operation.roles)
                if operation.query is not None:
                    arguments["query"] = parse_query(operation.query)
                if operation.body is not None:
                    arguments["body"] = parse_body(operation.body)
                result = view(**arguments)
            except Exception:
                if operation.confirms_key:
                    confirm()
                raise
            response = to_response(result, operation)
            database.commit_if_open()
            return response

        setattr(handle, OPERATION_ATTR, operation)
        return handle

    return decorate


def parse_body(model: type[BaseModel]) -> BaseModel:
    """The request body as `model`: 415 unless JSON, 400 with line/column or pointers if wrong."""
    mimetype = request.mimetype
    if mimetype != "application/json" and not mimetype.endswith("+json"):
        raise Problem(
            415,
            f"the body must be JSON (Content-Type: application/json), not {mimetype or 'unspecified'}",
            type="unsupported-media-type",
            title="Unsupported Media Type",
        )
    data = request.get_data(cache=False)
    try:
        document = json.loads(data)
    except UnicodeDecodeError as exc:
        raise Problem(400, f"the body is not UTF-8 text (byte {exc.start})", type="invalid-json", title="Invalid JSON") from None
    except json.JSONDecodeError as exc:
        raise Problem(
            400,
            f"invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}",
            type="invalid-json",
            title="Invalid JSON",
            line=exc.lineno,
            column=exc.colno,
        ) from None
    _refuse_nul(document, "")
    return model.model_validate(document)


def _refuse_nul(value: Any, pointer: str) -> None:
    """A 400 for text containing U+0000: PostgreSQL cannot store it, and no invoice needs it."""
    from aiguillage.api.problems import json_pointer

    if isinstance(value, str):
        if "\x00" in value:
            raise Problem(400, f"text at {pointer or '/'} contains a NUL character", type="invalid-request",
                          title="Invalid request", errors=[{"pointer": pointer, "detail": "contains NUL"}])
    elif isinstance(value, dict):
        for key, item in value.items():
            where = pointer + json_pointer([key])
            _refuse_nul(key, where)
            _refuse_nul(item, where)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _refuse_nul(item, f"{pointer}/{index}")


def parse_query(model: type[BaseModel]) -> BaseModel:
    """The query string as `model`; 400 naming the parameter if wrong."""
    values: dict[str, Any] = {}
    if "\x00" in request.query_string.decode("latin-1") or "%00" in request.query_string.decode("latin-1"):
        raise Problem(400, "the query string contains a NUL character", type="invalid-request", title="Invalid request")
    for name in request.args:
        given = request.args.getlist(name)
        if len(given) > 1:
            raise Problem(400, f"query parameter {name!r} is given {len(given)} times; give it once",
                          type="invalid-request", title="Invalid request",
                          errors=[{"parameter": name, "detail": "repeated"}])
        values[name] = given[0]
    try:
        return model.model_validate(values)
    except ValidationError as exc:
        raise from_validation_error(exc, where="query") from None


def to_response(result: Any, operation: Operation) -> Response:
    """A JSON response from what the view returned (a ready `Response` passes through)."""
    if isinstance(result, Response):
        return result
    headers: dict[str, str] = {}
    status = operation.success_status
    if isinstance(result, tuple):
        result, status, *rest = result
        if rest:
            headers = dict(rest[0])
    if result is None:
        return Response(status=status, headers=headers)
    if not isinstance(result, BaseModel):
        raise TypeError(f"{request.endpoint} returned {type(result).__name__}, not a pydantic model")
    return Response(result.model_dump_json(), status=status, mimetype="application/json", headers=headers)


def operation_of(view: Callable[..., Any]) -> Operation | None:
    """The declaration of a view, if it was declared with `@endpoint`."""
    return getattr(view, OPERATION_ATTR, None)
