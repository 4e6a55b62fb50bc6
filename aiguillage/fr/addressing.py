"""BT-49 electronic addresses in France (scheme 0225): SIREN, SIREN_SIRET, SIREN_SIRET_routing-code, SIREN_suffix.

The directory's addressing identifier names where a buyer receives
invoices: the legal unit (SIREN), one facility (SIRET, whose first nine
digits are the SIREN), a routing code inside a facility (a service), or a
suffix that is attached to no facility. An address that does not parse, or
whose SIRET is not of its SIREN, makes the buyer's PA refuse the invoice.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

SCHEME = "0225"
_SIREN = re.compile(r"^\d{9}$")
_SIRET = re.compile(r"^\d{14}$")
_ROUTING = re.compile(r"^[-/A-Za-z0-9]{1,100}$")
_SUFFIX = re.compile(r"^[-/A-Za-z0-9]{1,100}$")


class AddressError(ValueError):
    """An addressing identifier that is not one of the four French forms; the message says which part is wrong."""


@dataclass(frozen=True)
class Address:
    siren: str
    siret: str | None = None
    routing_code: str | None = None
    suffix: str | None = None

    @property
    def kind(self) -> str:
        if self.routing_code:
            return "SIREN_SIRET_routing-code"
        if self.siret:
            return "SIREN_SIRET"
        if self.suffix:
            return "SIREN_suffix"
        return "SIREN"

    def __str__(self) -> str:
        return "_".join(part for part in (self.siren, self.siret, self.routing_code, self.suffix) if part)


def parse(identifier: str) -> Address:
    """The address's parts; `AddressError` if it is none of the four forms."""
    parts = identifier.strip().split("_")
    siren = parts[0]
    if not _SIREN.match(siren):
        raise AddressError(f"{identifier!r}: the address must start with a 9-digit SIREN, not {siren!r}")
    if len(parts) == 1:
        return Address(siren)
    second = parts[1]
    if _SIRET.match(second):
        if second[:9] != siren:
            raise AddressError(f"{identifier!r}: SIRET {second} is not a facility of SIREN {siren}")
        if len(parts) == 2:
            return Address(siren, siret=second)
        if len(parts) == 3 and _ROUTING.match(parts[2]):
            return Address(siren, siret=second, routing_code=parts[2])
        raise AddressError(f"{identifier!r}: after SIREN_SIRET only a routing code (letters, digits, - /) may follow")
    if len(parts) == 2 and _SUFFIX.match(second):
        return Address(siren, suffix=second)
    raise AddressError(f"{identifier!r}: expected SIREN, SIREN_SIRET, SIREN_SIRET_routing-code or SIREN_suffix")


def problem(identifier: str | None, scheme: str | None) -> str | None:
    """Why a BT-49 cannot address a French buyer (None when it can)."""
    if not identifier:
        return "the buyer has no electronic address (BT-49)"
    if scheme != SCHEME:
        return f"the buyer's electronic address has scheme {scheme or '(none)'}, not {SCHEME}"
    try:
        parse(identifier)
    except AddressError as exc:
        return str(exc)
    return None
