"""Reference data a ruleset declares: code lists and tables.

Both are read when a ruleset is checked, so that a typo in a code list name,
a missing CSV column or a row that breaks the declared shape is reported
before any invoice is evaluated, with the file and row that are wrong.
Tables are validated row by row with jsonschema against the shape the
ruleset declares (or a schema file), then converted to the language's values
(Decimal, date, text, true/false).
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import jsonschema

#: Column types a `shape` block may use → the language's kind of value.
COLUMN_TYPES = {
    "text": "text",
    "code": "text",
    "identifier": "text",
    "number": "number",
    "amount": "number",
    "quantity": "number",
    "percentage": "number",
    "date": "date",
    "boolean": "bool",
}

_NUMBER_PATTERN = r"^-?[0-9]+(\.[0-9]+)?$"
_DATE_PATTERN = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
_TRUE = {"true", "yes", "1"}
_FALSE = {"false", "no", "0"}


class RefDataError(ValueError):
    """Reference data that cannot be used; the message names the file (and row)."""


@dataclass(frozen=True, slots=True)
class Codelist:
    """A named set of codes, e.g. ISO-4217 currency codes."""

    name: str
    path: str
    values: frozenset[str]
    source: str = ""


@dataclass(slots=True)
class Table:
    """Rows of reference data by key, with each column's kind (text, number, date, bool)."""

    name: str
    path: str
    key: str
    columns: dict[str, str]
    rows: dict[Any, dict[str, Any]] = field(default_factory=dict)


def load_codelist(name: str, path: Path) -> Codelist:
    """Read `{"name": ..., "source": ..., "values": [...]}` (a bare JSON list of codes is accepted too)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise RefDataError(f"cannot read code list file {path}: {exc.strerror}") from None
    except ValueError as exc:
        raise RefDataError(f"code list file {path} is not valid JSON: {exc}") from None
    values = data.get("values") if isinstance(data, dict) else data
    if not isinstance(values, list) or not all(isinstance(v, str | int) for v in values):
        raise RefDataError(f'code list file {path} must hold {{"name": ..., "values": ["code", ...]}}')
    source = data.get("source", "") if isinstance(data, dict) else ""
    return Codelist(name, str(path), frozenset(str(v) for v in values), str(source))


def load_table(name: str, path: Path, key: str, columns: dict[str, tuple[str, bool]] | None, schema_path: Path | None) -> Table:
    """Read a CSV or JSON table, check every row against its shape, convert values, index by key.

    `columns` maps a column to (type name, required) from a `shape` block;
    `schema_path` names a JSON Schema for one row instead.
    """
    is_csv = path.suffix.lower() == ".csv"
    raw_rows = _read_rows(path, is_csv)
    if schema_path is not None:
        try:
            schema = json.loads(schema_path.read_text(encoding="utf-8"))
        except OSError as exc:
            raise RefDataError(f"cannot read schema file {schema_path}: {exc.strerror}") from None
        except ValueError as exc:
            raise RefDataError(f"schema file {schema_path} is not valid JSON: {exc}") from None
        kinds = _kinds_from_schema(schema, schema_path)
    else:
        kinds = {col: COLUMN_TYPES[type_name] for col, (type_name, _) in (columns or {}).items()}
        schema = _schema_from_shape(columns or {}, is_csv)
    return _build_table(name, str(path), path.name, key, kinds, schema, raw_rows)


@dataclass(frozen=True, slots=True)
class ReferenceData:
    """A tenant's reference table as the service stores it: every value text (or null), like CSV.

    `version` identifies this exact content (table id and revision): it goes
    into the ruleset's hash, so a compiled ruleset never outlives the data it
    was compiled with.
    """

    name: str
    key: str
    columns: list[str]
    rows: list[dict[str, str | None]]
    version: str


def reference_table(data: ReferenceData, key: str, columns: dict[str, tuple[str, bool]] | None) -> Table:
    """A stored reference table checked against the shape a ruleset declares, as for a CSV file.

    Without a `shape` every column of the stored table is text; with one, only
    the shape's columns are visible to the rules (as for a file), each row is
    validated with jsonschema and its values converted (Decimal, date, bool).
    """
    if columns is None:
        columns = {col: ("text", False) for col in data.columns}
    kinds = {col: COLUMN_TYPES[type_name] for col, (type_name, _) in columns.items()}
    schema = _schema_from_shape(columns, True)
    raw_rows = [
        (f"row {row.get(data.key)!r}" if row.get(data.key) else f"row {i}", {k: v for k, v in row.items() if v not in (None, "")})
        for i, row in enumerate(data.rows, 1)
    ]
    return _build_table(data.name, f"reference table {data.name}", f"reference table {data.name}", key, kinds, schema, raw_rows)


def _build_table(name: str, origin: str, shown: str, key: str, kinds: dict[str, str], schema: dict[str, Any], raw_rows: list[tuple[str, dict[str, Any]]]) -> Table:
    """Validate rows against the schema, convert them and index them by key; `shown` names the source in messages."""
    if key not in kinds:
        raise RefDataError(f"table {name}: key column '{key}' is not among its columns ({', '.join(kinds) or 'none'})")
    import jsonschema  # here, not at the top: ~0.05 s that rulesets without tables never pay

    try:
        validator = jsonschema.Draft202012Validator(schema)
    except jsonschema.SchemaError as exc:
        raise RefDataError(f"table {name}: invalid schema: {exc.message}") from None
    table = Table(name, origin, key, kinds)
    first_row: dict[Any, str] = {}
    for where, raw in raw_rows:
        error = next(iter(sorted(validator.iter_errors(raw), key=lambda e: list(e.path))), None)
        if error is not None:
            column = ".".join(str(p) for p in error.path)
            subject = f"column {column}: " if column else ""
            raise RefDataError(f"{shown} {where}: {subject}{_schema_message(error)}")
        row = {col: _convert(raw.get(col), kind, shown, where, col) for col, kind in kinds.items()}
        value = row[key]
        if value is None:
            raise RefDataError(f"{shown} {where}: the key column '{key}' is empty")
        if value in first_row:
            raise RefDataError(f"{shown} {where}: duplicate key {value!s} (first at {first_row[value]})")
        first_row[value] = where
        table.rows[value] = row
    return table


def _read_rows(path: Path, is_csv: bool) -> list[tuple[str, dict[str, Any]]]:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise RefDataError(f"cannot read table file {path}: {exc.strerror}") from None
    except UnicodeDecodeError as exc:
        raise RefDataError(f"table file {path} is not UTF-8 text ({exc.reason})") from None
    if is_csv:
        reader = csv.DictReader(text.splitlines())
        rows = []
        for record in reader:
            rows.append((f"line {reader.line_num}", {k: v for k, v in record.items() if k is not None and v not in (None, "")}))
        return rows
    try:
        data = json.loads(text, parse_float=Decimal, parse_int=Decimal)
    except ValueError as exc:
        raise RefDataError(f"table file {path} is not valid JSON: {exc}") from None
    if isinstance(data, dict) and isinstance(data.get("rows"), list):
        data = data["rows"]
    if not isinstance(data, list) or not all(isinstance(r, dict) for r in data):
        raise RefDataError(f"table file {path} must hold a list of objects (one per row)")
    return [(f"row {i}", {k: v for k, v in r.items() if v is not None}) for i, r in enumerate(data, 1)]


def _schema_from_shape(columns: dict[str, tuple[str, bool]], is_csv: bool) -> dict[str, Any]:
    properties: dict[str, Any] = {}
    for col, (type_name, _) in columns.items():
        kind = COLUMN_TYPES[type_name]
        if kind == "number":
            properties[col] = {"type": "string", "pattern": _NUMBER_PATTERN} if is_csv else {"type": ["number", "string"], "pattern": _NUMBER_PATTERN}
        elif kind == "date":
            properties[col] = {"type": "string", "pattern": _DATE_PATTERN}
        elif kind == "bool":
            properties[col] = {"enum": sorted(_TRUE | _FALSE)} if is_csv else {"type": "boolean"}
        else:
            properties[col] = {"type": "string"} if is_csv else {"type": ["string", "number"]}
    return {
        "type": "object",
        "properties": properties,
        "required": [col for col, (_, required) in columns.items() if required],
    }


def _kinds_from_schema(schema: Any, where: Path) -> dict[str, str]:
    properties = schema.get("properties") if isinstance(schema, dict) else None
    if not isinstance(properties, dict):
        raise RefDataError(f"schema file {where} must describe one row: an object schema with 'properties'")
    kinds: dict[str, str] = {}
    for col, spec in properties.items():
        spec = spec if isinstance(spec, dict) else {}
        types = spec.get("type")
        types = set(types) if isinstance(types, list) else {types}
        if types & {"number", "integer"}:
            kinds[col] = "number"
        elif "boolean" in types:
            kinds[col] = "bool"
        elif spec.get("format") == "date":
            kinds[col] = "date"
        else:
            kinds[col] = "text"
    return kinds


def _schema_message(error: jsonschema.ValidationError) -> str:
    if error.validator == "required":
        return error.message.replace("is a required property", "is required")
    if error.validator == "pattern":
        return f"{error.instance!r} is not a valid value"
    return error.message


def _convert(value: Any, kind: str, shown: str, where: str, col: str) -> Any:
    if value is None:
        return None
    try:
        if kind == "number":
            return value if isinstance(value, Decimal) else Decimal(str(value))
        if kind == "date":
            return date.fromisoformat(str(value))
        if kind == "bool":
            if isinstance(value, bool):
                return value
            return str(value).lower() in _TRUE
    except (InvalidOperation, ValueError):
        raise RefDataError(f"{shown} {where}: column {col}: {value!r} is not a valid {kind}") from None
    return str(value)
