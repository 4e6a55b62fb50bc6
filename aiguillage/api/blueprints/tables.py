"""Reference-data tables: `/v1/tables` and their rows under `/v1/tables/{id}/rows`."""

from __future__ import annotations

import uuid

from flask import Blueprint, url_for

from aiguillage.api import database
from aiguillage.api.auth import current_principal
from aiguillage.api.endpoint import endpoint
from aiguillage.api.roles import DELETE_MASTER_DATA, READ_MASTER_DATA, WRITE_MASTER_DATA
from aiguillage.api.schemas.common import one_page
from aiguillage.api.schemas.tables import (
    Row,
    RowPage,
    RowQuery,
    RowsReplace,
    Table,
    TableCreate,
    TableList,
    TablePatch,
    TableQuery,
)
from aiguillage.store.models import ReferenceTable
from aiguillage.store.repositories.reference import ReferenceTables

blueprint = Blueprint("tables", __name__, url_prefix="/v1/tables")


def _repository() -> ReferenceTables:
    return ReferenceTables(database.session(), current_principal().tenant_id)


def _table(repository: ReferenceTables, table: ReferenceTable, row_count: int | None = None) -> Table:
    if row_count is None:
        row_count = repository.row_counts([table.id])[table.id]
    return Table(
        id=table.id,
        name=table.name,
        key=table.key_column,
        columns=table.columns,
        description=table.description,
        revision=table.revision,
        row_count=row_count,
        created_at=table.created_at,
        updated_at=table.updated_at,
    )


@blueprint.get("")
@endpoint(summary="List tables", roles=READ_MASTER_DATA, query=TableQuery, responses={200: TableList})
def list_tables(query: TableQuery) -> TableList:
    repository = _repository()
    tables = repository.all(name=query.name)
    counts = repository.row_counts([t.id for t in tables])
    return TableList(items=[_table(repository, t, counts[t.id]) for t in tables])


@blueprint.post("")
@endpoint(summary="Create a table", roles=WRITE_MASTER_DATA, body=TableCreate, responses={201: Table})
def create_table(body: TableCreate) -> tuple[Table, int, dict[str, str]]:
    repository = _repository()
    table = repository.create(
        body.name, body.key, body.columns, current_principal().actor, description=body.description, rows=body.rows
    )
    location = url_for("tables.get_table", table_id=table.id)
    return _table(repository, table, len(body.rows)), 201, {"Location": location}


@blueprint.get("/<uuid:table_id>")
@endpoint(summary="Read a table's layout and state", roles=READ_MASTER_DATA, responses={200: Table})
def get_table(table_id: uuid.UUID) -> Table:
    repository = _repository()
    return _table(repository, repository.get(table_id))


@blueprint.patch("/<uuid:table_id>")
@endpoint(summary="Change a table's description", roles=WRITE_MASTER_DATA, body=TablePatch, responses={200: Table})
def update_table(table_id: uuid.UUID, body: TablePatch) -> Table:
    repository = _repository()
    return _table(repository, repository.describe(table_id, body.description, current_principal().actor))


@blueprint.delete("/<uuid:table_id>")
@endpoint(summary="Delete a table and its rows", roles=DELETE_MASTER_DATA, responses={204: None})
def delete_table(table_id: uuid.UUID) -> None:
    _repository().delete(table_id, current_principal().actor)


@blueprint.get("/<uuid:table_id>/rows")
@endpoint(summary="Page through a table's rows", roles=READ_MASTER_DATA, query=RowQuery, responses={200: RowPage})
def list_rows(table_id: uuid.UUID, query: RowQuery) -> RowPage:
    rows = _repository().rows(table_id, after=query.after, limit=query.limit + 1)
    rows, last = one_page(rows, query.limit)
    return RowPage(items=[row.data for row in rows], next=last.key if last is not None else None)


@blueprint.put("/<uuid:table_id>/rows")
@endpoint(summary="Replace every row", roles=WRITE_MASTER_DATA, body=RowsReplace, responses={200: Table})
def replace_rows(table_id: uuid.UUID, body: RowsReplace) -> Table:
    repository = _repository()
    count = repository.replace_rows(table_id, body.rows, current_principal().actor)
    return _table(repository, repository.get(table_id), count)


@blueprint.get("/<uuid:table_id>/rows/<path:key>")
@endpoint(summary="Read one row by key", roles=READ_MASTER_DATA, responses={200: Row})
def get_row(table_id: uuid.UUID, key: str) -> Row:
    return Row(_repository().row(table_id, key).data)


@blueprint.put("/<uuid:table_id>/rows/<path:key>")
@endpoint(
    summary="Create or replace one row",
    description="The key column may be left out of the body; it is taken from the URL.",
    roles=WRITE_MASTER_DATA,
    body=Row,
    responses={200: Row, 201: Row},
)
def put_row(table_id: uuid.UUID, key: str, body: Row) -> tuple[Row, int]:
    row, created = _repository().put_row(table_id, key, body.root, current_principal().actor)
    return Row(row.data), 201 if created else 200


@blueprint.delete("/<uuid:table_id>/rows/<path:key>")
@endpoint(summary="Delete one row", roles=DELETE_MASTER_DATA, responses={204: None})
def delete_row(table_id: uuid.UUID, key: str) -> None:
    _repository().delete_row(table_id, key, current_principal().actor)
