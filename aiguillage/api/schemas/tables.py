"""Reference-data table bodies: layout, rows of text, revisions."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, RootModel

from aiguillage.api.schemas.common import PageQuery, Request

#: Table and column names: what a ruleset can refer to.
Identifier = Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,99}$")]

#: One row: column name → text (or null). Numbers are written as text ("12.50") so they stay exact.
RowValues = dict[str, str | None]


class TableCreate(Request):
    """A new table with its layout and, optionally, its first rows."""

    name: Identifier = Field(description="The name rulesets use (letters, digits, '_')")
    key: Identifier = Field(description="The column rows are looked up by; one of `columns`")
    columns: list[Identifier] = Field(min_length=1, max_length=200)
    description: str | None = Field(None, max_length=2000)
    rows: list[RowValues] = Field(default_factory=list)


class TablePatch(Request):
    """What can change on a table without replacing it: its description."""

    description: str | None = Field(None, max_length=2000)


class RowsReplace(Request):
    """Every row of the table, replacing the current ones in one step."""

    rows: list[RowValues]


class Row(RootModel[RowValues]):
    """One row, column name → text or null."""


class Table(BaseModel):
    """A table's layout and state (rows are read page by page from `/rows`)."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    name: str
    key: str
    columns: list[str]
    description: str | None
    revision: int = Field(description="Bumped by every change to the table or its rows")
    row_count: int
    created_at: datetime
    updated_at: datetime


class TableQuery(Request):
    """Filter tables by name."""

    name: str | None = Field(None, max_length=100)


class TableList(BaseModel):
    """The tenant's tables, by name."""

    items: list[Table]


class RowPage(BaseModel):
    """A page of rows, by key."""

    items: list[RowValues]
    next: str | None = Field(description="Pass as `after` for the next page; null on the last page")


class RowQuery(PageQuery):
    """Page through rows by key."""
