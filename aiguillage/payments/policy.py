"""A customer's allocation policy: how much difference to accept, in which order to pay, what to write off.

Written in the customer's ruleset, checked by `aiguillage check` like an approval's settings:

    allocation with (tolerance = 0.50, order = "oldest", write_off = 1.00)

- `tolerance`: a payment within this of what is open still settles it (bank fees, rounding);
- `order`: which open items a payment without a reference pays first: "oldest" (issue date) or "due" (due date);
- `write_off`: a shortfall up to this amount is written off (an allocation of kind write_off) so the invoice
  is paid; above it the invoice stays partially paid.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

ORDERS = ("oldest", "due")


@dataclass(frozen=True)
class AllocationPolicy:
    tolerance: Decimal = Decimal("0")
    order: str = "oldest"
    write_off: Decimal = Decimal("0")


DEFAULT_POLICY = AllocationPolicy()


class PolicyError(ValueError):
    """A policy value that cannot be used (the checker reports these at the ruleset's line)."""


def _amount(name: str, value: Any) -> Decimal:
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation:
        raise PolicyError(f"{name} takes an amount such as 0.50, not {value!r}") from None
    if not amount.is_finite() or amount < 0:
        raise PolicyError(f"{name} takes an amount of zero or more, not {value!r}")
    return amount


def policy_from_params(params: dict[str, Any]) -> AllocationPolicy:
    """The policy the settings give; unknown names and bad values raise PolicyError."""
    unknown = set(params) - {"tolerance", "order", "write_off"}
    if unknown:
        raise PolicyError(f"unknown allocation parameter '{sorted(unknown)[0]}' (use tolerance, order, write_off)")
    order = str(params.get("order", "oldest"))
    if order not in ORDERS:
        raise PolicyError(f"order takes \"oldest\" or \"due\", not {order!r}")
    return AllocationPolicy(
        tolerance=_amount("tolerance", params.get("tolerance", "0")),
        order=order,
        write_off=_amount("write_off", params.get("write_off", "0")),
    )
