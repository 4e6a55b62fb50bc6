"""A Core select compiled once per database, run on the driver's cursor: for the one statement a hot path needs.

SQLAlchemy's execution layer costs more than SQLite takes to answer an
indexed select: a `Connection` with its events and transaction, the
statement's cache key hashed again on every call (large for a UNION), the
result object. A statement that a server runs on every request, with the
same shape each time, need not pay that: it is compiled once per dialect,
and each call only binds the values (through each parameter's type, as
SQLAlchemy would), runs the SQL on a pooled DB-API connection, and converts
the columns (through each column's type: UUIDs kept as text on SQLite come
back as `uuid.UUID`).

Only for a statement that reads and is complete in itself: no transaction
is opened around it by us (one statement sees one consistent snapshot), and
the connection goes back to the pool, reset, as soon as the rows are read.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Dialect, Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql import Select


@dataclass(frozen=True)
class _Compiled:
    """The statement as one dialect runs it."""

    sql: str
    #: Parameter names in order, for a positional paramstyle (SQLite's `?`); None for named ones.
    positional: Sequence[str] | None
    names: tuple[str, ...]
    #: Values the statement carries itself (literals it compares with), by their name in the SQL.
    defaults: Mapping[str, Any]
    binds: Mapping[str, Callable[[Any], Any]]
    #: (column index, converter) for the columns whose type converts what the driver returns.
    columns: Sequence[tuple[int, Callable[[Any], Any]]]


def _compile(statement: Select, dialect: Dialect) -> _Compiled:
    compiled = statement.compile(dialect=dialect)
    binds = {}
    for name, bind in compiled.binds.items():
        processor = bind.type.dialect_impl(dialect).bind_processor(dialect)
        if processor is not None:
            binds[name] = processor
    columns = []
    for index, column in enumerate(statement.selected_columns):
        processor = column.type.dialect_impl(dialect).result_processor(dialect, None)
        if processor is not None:
            columns.append((index, processor))
    return _Compiled(
        sql=compiled.string,
        positional=tuple(compiled.positiontup or ()) if dialect.positional else None,
        names=tuple(compiled.binds),
        defaults={
            name: bind.effective_value for name, bind in compiled.binds.items() if not bind.required
        },
        binds=binds,
        columns=tuple(columns),
    )


class Prepared:
    """One select, compiled for each dialect it is run on, the first time."""

    def __init__(self, statement: Select) -> None:
        self.statement = statement
        self._compiled: dict[str, _Compiled] = {}

    def rows(self, engine: Engine, values: Mapping[str, Any]) -> list[tuple[Any, ...]]:
        """The statement's rows for these parameter values (parameters not given are NULL)."""
        compiled = self._compiled.get(engine.dialect.name)
        if compiled is None:
            compiled = self._compiled[engine.dialect.name] = _compile(
                self.statement, engine.dialect
            )
        params = {**compiled.defaults, **values}
        for name, processor in compiled.binds.items():
            params[name] = processor(params.get(name))
        if compiled.positional is not None:
            arguments: Any = [params.get(name) for name in compiled.positional]
        else:
            arguments = {name: params.get(name) for name in compiled.names}
        dialect = engine.dialect
        connection = engine.raw_connection()
        try:
            cursor = connection.cursor()
            try:
                cursor.execute(compiled.sql, arguments)
                found = cursor.fetchall()
            except dialect.loaded_dbapi.Error as exc:
                # As SQLAlchemy would: a lost connection is dropped from the pool, and the driver's
                # error becomes SQLAlchemy's (OperationalError …), which the API answers as usual (503).
                lost = dialect.is_disconnect(exc, connection.dbapi_connection, cursor)
                if lost:
                    connection.invalidate(exc)
                raise DBAPIError.instance(
                    compiled.sql,
                    arguments,
                    exc,
                    dialect.loaded_dbapi.Error,
                    connection_invalidated=lost,
                    dialect=dialect,
                ) from exc
            finally:
                cursor.close()
        finally:
            connection.close()
        if not compiled.columns:
            return [tuple(row) for row in found]
        out = []
        for row in found:
            converted = list(row)
            for index, processor in compiled.columns:
                converted[index] = processor(converted[index])
            out.append(tuple(converted))
        return out
