"""How an amount is shown: as written to the cent, however many zeros the database's NUMERIC(24, 6) adds."""

from __future__ import annotations

from decimal import Decimal

CENT = Decimal("0.01")


def shown(amount: Decimal) -> Decimal:
    """150.500000 → 150.50; 0.125000 → 0.125 (sub-cent values are kept, never rounded away)."""
    if amount == amount.quantize(CENT):
        return amount.quantize(CENT)
    return amount.normalize()
