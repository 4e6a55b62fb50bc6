"""Reference-data tables: keyed rows of text that rulesets look values up in.

A table declares its columns (like a CSV header) and which one is the key;
every value is text or null, exactly as given, so amounts keep their digits.
Each change bumps the table's `revision`, so a decision can record which
data it saw.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError

from aiguillage.dsl.refdata import ReferenceData
from aiguillage.store.actor import Actor
from aiguillage.store.base import utcnow
from aiguillage.store.errors import Conflict, Invalid, NotFound
from aiguillage.store.models import ReferenceRow, ReferenceTable
from aiguillage.store.repositories.audit import AuditLog
from aiguillage.store.repositories.base import TenantScoped, page_size

#: Table and column names are the names rulesets use: identifiers.
IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,99}")


def check_layout(name: str, key_column: str, columns: list[str]) -> None:
    """Refuse a table name or column list a ruleset could not refer to."""
    if not IDENTIFIER.fullmatch(name):
        raise Invalid(f"invalid table name {name!r}: use letters, digits and '_'", pointer="/name")
    if not columns:
        raise Invalid("a table needs at least one column", pointer="/columns")
    seen: set[str] = set()
    for index, column in enumerate(columns):
        if not isinstance(column, str) or not IDENTIFIER.fullmatch(column):
            raise Invalid(f"invalid column name {column!r}: use letters, digits and '_'", pointer=f"/columns/{index}")
        if column in seen:
            raise Invalid(f"column {column!r} is listed twice", pointer=f"/columns/{index}")
        seen.add(column)
    if key_column not in seen:
        raise Invalid(f"the key column {key_column!r} is not one of the columns", pointer="/key")


def check_row(row: Mapping[str, Any], columns: list[str], key_column: str, where: str = "") -> str:
    """Validate one row against the layout; returns its key. `where` prefixes error pointers."""
    if not isinstance(row, Mapping):
        raise Invalid("a row must be an object of column values", pointer=where or "/")
    for column, value in row.items():
        if column not in columns:
            raise Invalid(f"unknown column {column!r}; the table has {', '.join(columns)}", pointer=f"{where}/{column}")
        if value is not None and not isinstance(value, str):
            raise Invalid(
                f"column {column!r} must be text or null (write numbers as text: \"12.50\")",
                pointer=f"{where}/{column}",
            )
    key = row.get(key_column)
    if not key:
        raise Invalid(f"the key column {key_column!r} must be present and not empty", pointer=f"{where}/{key_column}")
    if len(key) > 300:
        raise Invalid("a key is at most 300 characters", pointer=f"{where}/{key_column}")
    return key


class ReferenceTables(TenantScoped):
    """A tenant's reference-data tables and their rows."""

    noun = "table"

    # ------------------------------------------------------------------ tables

    def create(
        self,
        name: str,
        key_column: str,
        columns: list[str],
        actor: Actor,
        *,
        description: str | None = None,
        rows: Iterable[Mapping[str, Any]] = (),
    ) -> ReferenceTable:
        """A new table, with its first rows; `Conflict` if the name is taken."""
        check_layout(name, key_column, columns)
        if self.find(name) is not None:
            raise Conflict(f"a table named {name!r} already exists")
        table = ReferenceTable(
            tenant_id=self.tenant_id, name=name, key_column=key_column, columns=list(columns), description=description
        )
        self.session.add(table)
        try:
            self.session.flush()
        except IntegrityError:
            raise Conflict(f"a table named {name!r} already exists") from None
        count = self._insert_rows(table, rows, where="/rows")
        self._audit(actor, "table.create", table, {"name": name, "rows": count})
        return table

    def get(self, table_id: uuid.UUID | str) -> ReferenceTable:
        """The table with that id, or `NotFound`."""
        return self._get(ReferenceTable, table_id)

    def find(self, name: str) -> ReferenceTable | None:
        """The table with that name, if any."""
        return self.session.scalars(
            select(ReferenceTable).where(ReferenceTable.tenant_id == self.tenant_id, ReferenceTable.name == name)
        ).one_or_none()

    def all(self, *, name: str | None = None) -> list[ReferenceTable]:
        """The tenant's tables by name."""
        query = select(ReferenceTable).where(ReferenceTable.tenant_id == self.tenant_id)
        if name is not None:
            query = query.where(ReferenceTable.name == name)
        return list(self.session.scalars(query.order_by(ReferenceTable.name)))

    def row_counts(self, table_ids: list[uuid.UUID]) -> dict[uuid.UUID, int]:
        """How many rows each table has (one query for a whole listing)."""
        if not table_ids:
            return {}
        query = (
            select(ReferenceRow.table_id, func.count())
            .where(ReferenceRow.tenant_id == self.tenant_id, ReferenceRow.table_id.in_(table_ids))
            .group_by(ReferenceRow.table_id)
        )
        counts: dict[uuid.UUID, int] = {table_id: count for table_id, count in self.session.execute(query)}
        return {table_id: counts.get(table_id, 0) for table_id in table_ids}

    def describe(self, table_id: uuid.UUID | str, description: str | None, actor: Actor) -> ReferenceTable:
        """Change the table's description (its layout is fixed: create a new table to change it)."""
        table = self.get(table_id)
        if table.description != description:
            table.description = description
            self._touch(table)
            self._audit(actor, "table.update", table, {"fields": ["description"]})
        return table

    def delete(self, table_id: uuid.UUID | str, actor: Actor) -> None:
        """Remove the table and all its rows."""
        table = self.get(table_id)
        self.session.execute(
            delete(ReferenceRow).where(ReferenceRow.tenant_id == self.tenant_id, ReferenceRow.table_id == table.id)
        )
        self.session.delete(table)
        self.session.flush()
        self._audit(actor, "table.delete", table, {"name": table.name})

    # ------------------------------------------------------------------ rows

    def rows(self, table_id: uuid.UUID | str, *, after: str | None = None, limit: int | None = None) -> list[ReferenceRow]:
        """A page of rows by key; `after` (a key) continues from the previous page."""
        table = self.get(table_id)
        query = select(ReferenceRow).where(ReferenceRow.tenant_id == self.tenant_id, ReferenceRow.table_id == table.id)
        if after is not None:
            query = query.where(ReferenceRow.key > after)
        return list(self.session.scalars(query.order_by(ReferenceRow.key).limit(page_size(limit))))

    def row(self, table_id: uuid.UUID | str, key: str) -> ReferenceRow:
        """One row by key, or `NotFound`."""
        table = self.get(table_id)
        row = self._find_row(table, key)
        if row is None:
            raise NotFound(f"table {table.name!r} has no row with key {key!r}")
        return row

    def replace_rows(self, table_id: uuid.UUID | str, rows: Iterable[Mapping[str, Any]], actor: Actor) -> int:
        """Replace every row at once (a fresh order book, say); returns the new row count."""
        table = self.get(table_id)
        self.session.execute(
            delete(ReferenceRow).where(ReferenceRow.tenant_id == self.tenant_id, ReferenceRow.table_id == table.id)
        )
        count = self._insert_rows(table, rows, where="/rows")
        self._touch(table)
        self._audit(actor, "table.rows.replace", table, {"rows": count})
        return count

    def put_row(self, table_id: uuid.UUID | str, key: str, values: Mapping[str, Any], actor: Actor) -> tuple[ReferenceRow, bool]:
        """Create or replace the row with that key; returns (row, created)."""
        table = self.get(table_id)
        values = dict(values)
        values.setdefault(table.key_column, key)
        row_key = check_row(values, table.columns, table.key_column)
        if row_key != key:
            raise Invalid(f"the row's {table.key_column!r} is {row_key!r}, not the key {key!r} it is put at", pointer=f"/{table.key_column}")
        data = _full_row(values, table.columns)
        row = self._find_row(table, key)
        created = row is None
        if row is None:
            row = ReferenceRow(tenant_id=self.tenant_id, table_id=table.id, key=key, data=data)
            self.session.add(row)
        else:
            row.data = data
        try:
            self._touch(table)
        except IntegrityError:
            raise Conflict(f"row {key!r} was written concurrently; try again") from None
        self._audit(actor, "table.row.put", table, {"key": key, "created": created})
        return row, created

    def delete_row(self, table_id: uuid.UUID | str, key: str, actor: Actor) -> None:
        """Remove one row, or `NotFound`."""
        row = self.row(table_id, key)
        table = self.get(table_id)
        self.session.delete(row)
        self._touch(table)
        self._audit(actor, "table.row.delete", table, {"key": key})

    def lookup(self, name: str) -> tuple[int, dict[str, dict[str, str | None]]]:
        """The whole table by name as {key: row}, with its revision: what the engine reads."""
        table = self.find(name)
        if table is None:
            raise NotFound(f"no table named {name!r}")
        rows = self.session.scalars(
            select(ReferenceRow).where(ReferenceRow.tenant_id == self.tenant_id, ReferenceRow.table_id == table.id)
        )
        return table.revision, {row.key: row.data for row in rows}

    # ------------------------------------------------------------------ for rulesets (engine.stored.References)

    @property
    def scope(self) -> str:
        """The tenant: a compiled ruleset with reference data is cached per tenant, never shared."""
        return str(self.tenant_id)

    def versions(self, names: Iterable[str]) -> dict[str, str | None]:
        """Each named table's content version (id and revision), None if missing: one cheap query per request."""
        wanted = list(names)
        found = self.session.execute(
            select(ReferenceTable.name, ReferenceTable.id, ReferenceTable.revision).where(
                ReferenceTable.tenant_id == self.tenant_id, ReferenceTable.name.in_(wanted)
            )
        ).all()
        by_name = {row.name: f"{row.id}:{row.revision}" for row in found}
        return {name: by_name.get(name) for name in wanted}

    def reference(self, name: str) -> ReferenceData | None:
        """The whole table for a ruleset's `table NAME key COL`, rows by key order; None if there is none."""
        table = self.find(name)
        if table is None:
            return None
        rows = self.session.scalars(
            select(ReferenceRow)
            .where(ReferenceRow.tenant_id == self.tenant_id, ReferenceRow.table_id == table.id)
            .order_by(ReferenceRow.key)
        )
        return ReferenceData(table.name, table.key_column, list(table.columns), [dict(r.data) for r in rows],
                             f"{table.id}:{table.revision}")

    # ------------------------------------------------------------------ helpers

    def _find_row(self, table: ReferenceTable, key: str) -> ReferenceRow | None:
        return self.session.scalars(
            select(ReferenceRow).where(
                ReferenceRow.tenant_id == self.tenant_id, ReferenceRow.table_id == table.id, ReferenceRow.key == key
            )
        ).one_or_none()

    def _insert_rows(self, table: ReferenceTable, rows: Iterable[Mapping[str, Any]], *, where: str) -> int:
        seen: dict[str, int] = {}
        batch = []
        for index, values in enumerate(rows):
            key = check_row(values, table.columns, table.key_column, where=f"{where}/{index}")
            if key in seen:
                raise Invalid(
                    f"key {key!r} appears twice (rows {seen[key]} and {index})",
                    pointer=f"{where}/{index}/{table.key_column}",
                )
            seen[key] = index
            batch.append({"id": uuid.uuid4(), "tenant_id": self.tenant_id, "table_id": table.id, "key": key,
                          "data": _full_row(values, table.columns)})
        if batch:
            self.session.execute(ReferenceRow.__table__.insert(), batch)
        return len(batch)

    def _touch(self, table: ReferenceTable) -> None:
        table.revision += 1
        table.updated_at = utcnow()
        self.session.flush()

    def _audit(self, actor: Actor, action: str, table: ReferenceTable, detail: dict[str, Any]) -> None:
        AuditLog(self.session, self.tenant_id).append(actor, action, "table", table.id, detail)


def _full_row(values: Mapping[str, Any], columns: list[str]) -> dict[str, str | None]:
    """The row with every column present, in column order (missing ones are null)."""
    return {column: values.get(column) for column in columns}
