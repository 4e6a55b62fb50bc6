"""Bodies shared by every endpoint: the problem document, health, paging."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field

T = TypeVar("T")


def one_page(rows: Sequence[T], limit: int) -> tuple[Sequence[T], T | None]:
    """The first `limit` of `rows` (fetched with `limit + 1`) and, when more follow, the last of them."""
    page = rows[:limit]
    return page, (page[-1] if len(rows) > limit and page else None)


class Request(BaseModel):
    """Base of request bodies and query strings: unknown fields are an error."""

    model_config = ConfigDict(extra="forbid")


class ErrorLocation(BaseModel):
    """Where one invalid value is: a JSON pointer into the body, or a query parameter."""

    pointer: str | None = Field(None, description="RFC 6901 JSON pointer into the request body")
    parameter: str | None = Field(None, description="Name of the query parameter")
    detail: str


class ProblemDocument(BaseModel):
    """An RFC 9457 problem: what went wrong and where."""

    type: str = Field(description="URI identifying the problem type (about:blank or urn:aiguillage:problem:…)")
    title: str
    status: int
    detail: str
    instance: str | None = Field(None, description="The request path")
    errors: list[ErrorLocation] | None = Field(None, description="Every invalid value, for a 400")
    line: int | None = Field(None, description="Line in the document (XML, JSON), when known")
    column: int | None = Field(None, description="Column in the document, when known")
    pointer: str | None = Field(None, description="JSON pointer in a JSON invoice, when known")


class Health(BaseModel):
    """The service is up, its database answers and its schema is current."""

    status: Literal["ok"]
    database: Literal["ok"]
    schema_revision: str
    version: str


class PageQuery(Request):
    """Keyset paging: ask for `limit` items after the last one seen."""

    after: str | None = Field(None, max_length=300, description="Continue after this key (the previous page's `next`)")
    limit: int = Field(100, ge=1, le=500, description="Largest number of items to return")
