"""Invoices' content hash (`model_sha256`) leaves out what a syntax binding said and empty values.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-03

"The same invoice again" (a repeat without Idempotency-Key, the same seller and number) compares
this hash. It used to hash every model field but provenance and syntax facts, so binding fields the
model gained (a VAT total as each syntax groups it, a charge indicator as written) made the same
invoice in UBL and in CII differ, and every optional term the model gains (an empty list) would
have made a resubmission of an invoice stored before it a "different content" (409). The hash is now
of the business terms alone, empty values left out (aiguillage.store.repositories.invoices.
business_hash); this recomputes it for the stored invoices from their stored model.

Frozen like 0001: the rule is written out here with the binding fields as of this revision, and
nothing is imported from the models.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_NON_BUSINESS = frozenset({"provenance", "syntax_facts"})
_BINDINGS = frozenset(
    {
        "tax_scheme", "vat_tax_scheme", "object_reference_type_code", "gross_base_quantity_unit_code",
        "other_tax_category_code", "repeated_categories", "tax_totals", "start_date_text", "end_date_text",
        "start_date_blank", "end_date_blank", "charge_indicator", "discount_charge_indicator",
        "repeated_amount", "self_reference", "document_references",
    }
)
_BATCH = 500


def _business(value: Any) -> Any:
    if isinstance(value, dict):
        kept = {}
        for k, v in value.items():
            if k not in _BINDINGS:
                v = _business(v)
                if v not in (None, [], {}):
                    kept[k] = v
        return kept
    if isinstance(value, list):
        return [_business(v) for v in value]
    return value


def _hash(model: dict[str, Any]) -> str:
    content = _business({k: v for k, v in model.items() if k not in _NON_BUSINESS})
    text = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def upgrade() -> None:
    json_doc = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
    invoices = sa.table("invoices", sa.column("id", sa.Uuid()), sa.column("model", json_doc), sa.column("model_sha256", sa.String(64)))
    bind = op.get_bind()
    last = None
    while True:
        query = sa.select(invoices.c.id, invoices.c.model).order_by(invoices.c.id).limit(_BATCH)
        if last is not None:
            query = query.where(invoices.c.id > last)
        rows = bind.execute(query).all()
        if not rows:
            return
        bind.execute(
            invoices.update().where(invoices.c.id == sa.bindparam("row_id")).values(model_sha256=sa.bindparam("digest")),
            [{"row_id": row.id, "digest": _hash(row.model)} for row in rows],
        )
        last = rows[-1].id


def downgrade() -> None:
    """The former hash cannot be told from this one without the former model: kept as it is."""
