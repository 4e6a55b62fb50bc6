"""The national directory, cached per tenant as two reference tables the rules language already reads.

`fr_directory` (key `siren`) says whether a buyer is registered, at which
kind of platform, and its default address; `fr_directory_lines` (key
`address`) holds every addressing identifier (BT-49, scheme 0225) the
directory knows, with its status. A ruleset declares them like any
reference table (`table fr_directory key siren`) and asks
`fr_directory[substring(buyer.legal_registration_identifier, 1, 9)]` to
route a registered buyer to `pa`, or `fr_directory_lines[buyer.electronic_address]`
to warn before the PA refuses a wrong address. Filled from the Directory
service (XP Z12-013, `POST /v1/directory-line/search`) or from an export
(JSON list of directory lines as the service returns them, or CSV).
"""

from __future__ import annotations

import csv
import io
import json
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from aiguillage.adapters.httpclient import request
from aiguillage.fr.addressing import AddressError, parse
from aiguillage.store.actor import Actor
from aiguillage.store.repositories.reference import ReferenceTables

SIRENS = "fr_directory"
LINES = "fr_directory_lines"
SIREN_COLUMNS = ["siren", "name", "registered", "platform_type", "default_address", "addresses"]
LINE_COLUMNS = ["address", "siren", "siret", "routing_code", "suffix", "status", "platform_type"]


class DirectoryError(ValueError):
    """A directory export or answer that cannot be used; says which line or row."""


@dataclass(frozen=True)
class DirectoryService:
    """A Directory service endpoint (`base_url` ends before `/v1`) and its token (never shown)."""

    base_url: str
    token: str
    timeout: float = 30.0

    def __repr__(self) -> str:
        return f"DirectoryService(base_url={self.base_url!r}, token='***')"

    def lines_of(self, siren: str, page: int = 100) -> list[dict[str, Any]]:
        """Every directory line of a SIREN (`POST /v1/directory-line/search`, paged with `ignore`)."""
        lines: list[dict[str, Any]] = []
        while True:
            body = {"filters": {"siren": {"op": "strict", "value": siren}}, "include": ["siren"],
                    "limit": page, "ignore": len(lines)}
            answer = request("POST", self.base_url.rstrip("/") + "/v1/directory-line/search", json.dumps(body).encode(),
                             content_type="application/json", timeout=self.timeout,
                             headers={"Authorization": f"Bearer {self.token}", "Accept": "application/json"})
            try:
                results = json.loads(answer.body).get("results") or []
            except (ValueError, AttributeError):
                raise DirectoryError("the directory answered something that is not a search result") from None
            lines.extend(results)
            if len(results) < page:
                return lines


def _line_row(line: dict[str, Any], where: str) -> dict[str, str | None]:
    address = str(line.get("addressingIdentifier") or "").strip()
    if not address:
        raise DirectoryError(f"{where}: a directory line without addressingIdentifier")
    try:
        parsed = parse(address)
    except AddressError as exc:
        raise DirectoryError(f"{where}: {exc}") from None
    return {"address": address, "siren": str(line.get("siren") or parsed.siren),
            "siret": line.get("siret") or parsed.siret, "routing_code": line.get("routingIdentifier") or parsed.routing_code,
            "suffix": line.get("addressingSuffix") or parsed.suffix,
            "status": str(line.get("directoryLineStatus") or "Enabled"), "platform_type": line.get("platformType")}


def read_export(data: bytes, source: str) -> list[dict[str, Any]]:
    """Directory lines from an export: a JSON list (or `{"results": [...]}`) or a CSV with the line columns."""
    text = data.decode("utf-8-sig")
    if text.lstrip().startswith(("[", "{")):
        try:
            parsed = json.loads(text)
        except ValueError as exc:
            raise DirectoryError(f"{source}: not valid JSON: {exc}") from None
        lines = parsed.get("results") if isinstance(parsed, dict) else parsed
        if not isinstance(lines, list) or not all(isinstance(x, dict) for x in lines):
            raise DirectoryError(f"{source}: expected a list of directory lines")
        return lines
    reader = csv.DictReader(io.StringIO(text))
    missing = {"address"} - set(reader.fieldnames or [])
    if missing:
        raise DirectoryError(f"{source}: the CSV needs an 'address' column (has {', '.join(reader.fieldnames or [])})")
    return [{"addressingIdentifier": row.get("address"), "siren": row.get("siren") or None,
             "siret": row.get("siret") or None, "routingIdentifier": row.get("routing_code") or None,
             "addressingSuffix": row.get("suffix") or None, "directoryLineStatus": row.get("status") or "Enabled",
             "platformType": row.get("platform_type") or None,
             "legalUnit": {"businessName": row.get("name")} if row.get("name") else None}
            for row in reader]


def store_lines(session: Session, tenant_id: uuid.UUID, lines: Iterable[dict[str, Any]], actor: Actor, *,
                source: str = "directory", replace: bool = False) -> tuple[int, int]:
    """Write directory lines into the tenant's cache tables; returns (SIRENs, lines) now cached."""
    rows: dict[str, dict[str, str | None]] = {}
    names: dict[str, str] = {}
    for index, line in enumerate(lines, 1):
        row = _line_row(line, f"{source} line {index}")
        rows[row["address"] or ""] = row
        legal = line.get("legalUnit") or {}
        if isinstance(legal, dict) and legal.get("businessName"):
            names[str(row["siren"])] = str(legal["businessName"])
    tables = ReferenceTables(session, tenant_id)
    line_table = tables.find(LINES) or tables.create(LINES, "address", LINE_COLUMNS, actor,
                                                      description="French directory lines (BT-49, scheme 0225)")
    siren_table = tables.find(SIRENS) or tables.create(SIRENS, "siren", SIREN_COLUMNS, actor,
                                                        description="French directory: registered buyers by SIREN")
    if replace:
        tables.replace_rows(line_table.id, list(rows.values()), actor)
    else:
        for address, row in rows.items():
            tables.put_row(line_table.id, address, row, actor)
    all_lines = [dict(r.data) for r in _all_rows(tables, line_table.id)] if not replace else list(rows.values())
    by_siren: dict[str, list[dict[str, Any]]] = {}
    for row in all_lines:
        by_siren.setdefault(str(row["siren"]), []).append(row)
    existing = {r.key: dict(r.data) for r in _all_rows(tables, siren_table.id)}
    summary = []
    for siren, its_lines in sorted(by_siren.items()):
        enabled = [r for r in its_lines if r.get("status") == "Enabled"]
        default = next((r["address"] for r in enabled if r["address"] == siren), None) or \
            (sorted(r["address"] for r in enabled)[0] if enabled else None)
        summary.append({"siren": siren, "name": names.get(siren) or existing.get(siren, {}).get("name"),
                        "registered": "true" if enabled else "false",
                        "platform_type": next((r.get("platform_type") for r in enabled if r.get("platform_type")), None),
                        "default_address": default,
                        "addresses": " ".join(sorted(str(r["address"]) for r in enabled)) or None})
    tables.replace_rows(siren_table.id, summary, actor)
    return len(summary), len(all_lines)


def _all_rows(tables: ReferenceTables, table_id: uuid.UUID) -> list[Any]:
    rows: list[Any] = []
    while True:
        page = tables.rows(table_id, after=rows[-1].key if rows else None, limit=1000)
        rows.extend(page)
        if not page:
            return rows


def refresh(session: Session, tenant_id: uuid.UUID, service: DirectoryService, sirens: Iterable[str],
            actor: Actor) -> tuple[int, int]:
    """Ask the Directory service for each SIREN's lines and cache them (a SIREN with none is cached as unregistered)."""
    lines: list[dict[str, Any]] = []
    asked = sorted(set(sirens))
    for siren in asked:
        found = service.lines_of(siren)
        lines.extend(found or [{"addressingIdentifier": siren, "siren": siren, "directoryLineStatus": "Disabled"}])
    return store_lines(session, tenant_id, lines, actor, source="directory service")
