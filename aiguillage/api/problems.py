"""Every error is an RFC 9457 problem document (`application/problem+json`).

Clients get one shape for everything that goes wrong, from a mistyped URL to
a malformed invoice: `type`, `title`, `status`, `detail`, `instance`, and
where the input was wrong (`errors[].pointer` for JSON, `line`/`column` for
XML). Nothing else ever leaves the service: no HTML error page, no stack
trace; an unexpected exception is logged and answered with a bare 500.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, Response, json, request
from pydantic import ValidationError
from sqlalchemy.exc import DataError
from werkzeug.exceptions import HTTPException

from aiguillage.model.errors import InvoiceReadError
from aiguillage.store.errors import Conflict, Invalid, NotFound, SchemaNotCurrent

PROBLEM_JSON = "application/problem+json"

#: Problem types are URNs: stable identifiers clients can switch on.
TYPE_PREFIX = "urn:aiguillage:problem:"

log = logging.getLogger(__name__)


class Problem(Exception):
    """Raise anywhere in a request to answer with a problem document."""

    def __init__(
        self,
        status: int,
        detail: str,
        *,
        type: str | None = None,  # noqa: A002 - the RFC's member name
        title: str | None = None,
        headers: dict[str, str] | None = None,
        **extensions: Any,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.type = f"{TYPE_PREFIX}{type}" if type else "about:blank"
        self.title = title
        self.headers = headers or {}
        self.extensions = {k: v for k, v in extensions.items() if v is not None}


def problem_response(problem: Problem) -> Response:
    """The HTTP response for a problem."""
    body: dict[str, Any] = {
        "type": problem.type,
        "title": problem.title or _reason(problem.status),
        "status": problem.status,
        "detail": problem.detail,
        "instance": request.path if request else None,
    }
    body.update(problem.extensions)
    response = Response(json.dumps(body), status=problem.status, mimetype=PROBLEM_JSON)
    for name, value in problem.headers.items():
        response.headers[name] = value
    return response


def _reason(status: int) -> str:
    from http import HTTPStatus

    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def json_pointer(location: tuple[Any, ...] | list[Any]) -> str:
    """RFC 6901 pointer for a pydantic error location (`("rows", 0, "v")` → `/rows/0/v`)."""
    return "".join("/" + str(part).replace("~", "~0").replace("/", "~1") for part in location)


def from_validation_error(exc: ValidationError, *, where: str = "body") -> Problem:
    """A 400 naming every invalid value: JSON pointers for a body, parameter names for a query."""
    errors = []
    for error in exc.errors(include_url=False, include_input=False):
        entry: dict[str, Any] = {"detail": error["msg"]}
        if where == "body":
            entry["pointer"] = json_pointer(error["loc"])
        else:
            entry["parameter"] = ".".join(str(p) for p in error["loc"])
        errors.append(entry)
    first = errors[0]
    place = first.get("pointer") or first.get("parameter") or "/"
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    return Problem(
        400,
        f"invalid {'request body' if where == 'body' else 'query parameter'} at {place}: {first['detail']}{more}",
        type="invalid-request",
        title="Invalid request",
        errors=errors,
    )


def from_read_error(exc: InvoiceReadError) -> Problem:
    """A document that cannot be read: 413 when too large, else 400 with line/column or pointer."""
    if exc.kind == "too_large":
        return Problem(413, exc.message, type="too-large", title="Document too large")
    return Problem(
        400,
        str(exc),
        type=f"unreadable-document:{exc.kind}",
        title="Unreadable document",
        line=exc.line,
        column=exc.column,
        pointer=exc.pointer,
        kind=exc.kind,
    )


def register(app: Flask) -> None:
    """Install the handlers that turn every exception into a problem document."""

    @app.errorhandler(Problem)
    def _problem(exc: Problem) -> Response:
        return problem_response(exc)

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException) -> Response:
        headers = {k: v for k, v in exc.get_headers() if k.lower() not in ("content-type", "content-length")}
        detail = exc.description or _reason(exc.code or 500)
        if exc.code == 405:
            detail = f"{request.method} is not allowed here; allowed: {headers.get('Allow', 'none')}"
        elif exc.code == 404:
            detail = f"nothing at {request.path}"
        elif exc.code == 413:
            limit = app.config.get("MAX_CONTENT_LENGTH")
            detail = f"the request body is over the limit of {limit:,} bytes" if limit else detail
        return problem_response(Problem(exc.code or 500, detail, headers=headers))

    @app.errorhandler(ValidationError)
    def _validation(exc: ValidationError) -> Response:
        return problem_response(from_validation_error(exc))

    @app.errorhandler(InvoiceReadError)
    def _unreadable(exc: InvoiceReadError) -> Response:
        return problem_response(from_read_error(exc))

    @app.errorhandler(NotFound)
    def _not_found(exc: NotFound) -> Response:
        return problem_response(Problem(404, exc.message))

    @app.errorhandler(Conflict)
    def _conflict(exc: Conflict) -> Response:
        existing = getattr(exc, "existing_id", None)
        return problem_response(
            Problem(409, exc.message, type="conflict", title="Conflict", existing=None if existing is None else str(existing))
        )

    @app.errorhandler(Invalid)
    def _invalid(exc: Invalid) -> Response:
        errors = [{"pointer": exc.pointer, "detail": exc.message}] if exc.pointer is not None else None
        return problem_response(Problem(400, exc.message, type="invalid-request", title="Invalid request", errors=errors))

    @app.errorhandler(SchemaNotCurrent)
    def _schema(exc: SchemaNotCurrent) -> Response:
        return problem_response(Problem(503, exc.message, type="schema-not-current", title="Service unavailable"))

    @app.errorhandler(DataError)
    def _data(exc: DataError) -> Response:
        # A value the database cannot take (out of range, bad encoding) that validation let through.
        log.warning("database refused a value on %s %s: %s", request.method, request.path, exc.orig)
        return problem_response(
            Problem(400, "a value in the request cannot be stored (out of range or not valid text)",
                    type="invalid-request", title="Invalid request")
        )

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> Response:
        log.exception("unhandled error on %s %s", request.method, request.path)
        return problem_response(Problem(500, "an internal error occurred; it has been logged"))
