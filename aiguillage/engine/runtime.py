"""The small functions compiled rules call.

Generated code inlines what is cheap (attribute access, None tests,
comparisons) and calls these for the rest. Every helper follows the
language's rule for missing values: a missing input gives a missing result
(None), which then makes any comparison false, exactly as an empty node-set
does in the official Schematron. Money stays `Decimal`; rounding is half away
from zero ("half-up" as EN 16931 rounds amounts).
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import ROUND_HALF_DOWN, ROUND_HALF_UP, Decimal, InvalidOperation
from functools import lru_cache
from typing import Any

from aiguillage.engine.checkdigits import (  # noqa: F401  (re-exported for generated code)
    abn_valid,
    be_enterprise_valid,
    creditor_reference,
    dk_cvr_valid,
    fr_siren_valid,
    fr_siret_valid,
    gln_valid,
    gr_tin_valid,
    iban_valid,
    it_codice_fiscale_format_valid,
    it_codice_fiscale_valid,
    it_ipa_code_valid,
    it_partita_iva_valid,
    luhn_valid,
    mod11_valid,
    mod97_valid,
    no_orgnr_valid,
    se_orgnr_valid,
)

D0 = Decimal(0)
#: Longest text a regular expression is run on; longer input is an error, not a slow rule.
REGEX_INPUT_LIMIT = 10_000
_QUANTS: dict[Any, Decimal] = {n: Decimal(1).scaleb(-n) for n in range(0, 11)}
_QUANTS.update({Decimal(n): q for n, q in list(_QUANTS.items())})


class RegexInputTooLong(ValueError):
    """A text too long to match safely; the rule becomes an engine-error finding."""


# --------------------------------------------------------------------------- aggregates


def count(values: list[Any]) -> int:
    """How many values are present (an int: counts compare and add with Decimals exactly)."""
    return sum(1 for v in values if v is not None)


def sum_values(values: list[Any]) -> Decimal:
    """Total of the present values; 0 when there are none (as XPath sum())."""
    total = D0
    for v in values:
        if v is not None:
            total += v
    return total


def min_values(values: list[Any]) -> Any:
    present = [v for v in values if v is not None]
    return min(present) if present else None


def max_values(values: list[Any]) -> Any:
    present = [v for v in values if v is not None]
    return max(present) if present else None


def distinct(values: list[Any]) -> list[Any]:
    return list(dict.fromkeys(v for v in values if v is not None))


def first_value(values: list[Any]) -> Any:
    """The first present value, as XPath's `$values[1]`; None when there is none."""
    for v in values:
        if v is not None:
            return v
    return None


def tally(values: list[Any]) -> dict[Any, int]:
    """How many times each present value occurs (compiled counts by key read from it)."""
    counts: dict[Any, int] = {}
    for v in values:
        if v is not None:
            if v.__class__ is not str and isinstance(v, str):
                # a (str, Enum) member hashes by its name: count it by its text, as `=` compares it
                v = str.__str__(v)
            counts[v] = counts.get(v, 0) + 1
    return counts


def retally(counts: dict[Any, int], normalize: tuple[Any, ...]) -> dict[Any, int]:
    """A tally by normalized value (functions applied in order), from the tally of the values as written.

    Each distinct value is normalized once: twenty lines in two VAT categories cost two trim() calls.
    """
    out: dict[Any, int] = {}
    for v, n in counts.items():
        for fn in normalize:
            v = fn(v)
        out[v] = out.get(v, 0) + n
    return out


def any_present(values: list[Any]) -> bool:
    return any(v is not None for v in values)


# --------------------------------------------------------------------------- numbers


def round_half_up(value: Decimal | int | None, places: Decimal | int | None = 2) -> Decimal | None:
    """Round half away from zero (2.345 → 2.35, -2.345 → -2.35)."""
    if value is None or places is None:
        return None
    if type(value) is int:
        value = Decimal(value)
    quantum = _QUANTS.get(places) or Decimal(1).scaleb(-int(places))  # type: ignore[call-overload]
    return value.quantize(quantum, rounding=ROUND_HALF_UP)  # type: ignore[union-attr]


def round_half_ceiling(value: Decimal | int | None, places: Decimal | int | None = 2) -> Decimal | None:
    """Round half toward positive infinity, as XPath round() (2.345 → 2.35, -2.345 → -2.34)."""
    if value is None or places is None:
        return None
    if type(value) is int:
        value = Decimal(value)
    quantum = _QUANTS.get(places) or Decimal(1).scaleb(-int(places))  # type: ignore[call-overload]
    rounding = ROUND_HALF_UP if value >= 0 else ROUND_HALF_DOWN  # type: ignore[operator]
    return value.quantize(quantum, rounding=rounding)  # type: ignore[union-attr]


def div(left: Decimal | int, right: Decimal | int) -> Decimal:
    """Division in Decimal even when both sides are counts (ints)."""
    return Decimal(left) / right if type(left) is int else left / right


def abs_(value: Decimal | None) -> Decimal | None:
    return None if value is None else abs(value)


def decimals(value: Decimal | None) -> int | None:
    """Decimals as written: Decimal keeps "100.50" as two decimals."""
    if value is None:
        return None
    text = str(value)
    if "E" in text:
        exponent = value.as_tuple().exponent
        return -exponent if isinstance(exponent, int) and exponent < 0 else 0
    point = text.find(".")
    return 0 if point < 0 else len(text) - point - 1


def to_number(value: str | None) -> Decimal | None:
    if value is None:
        return None
    text = value.strip()
    if not re.fullmatch(r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)", text):
        return None
    try:
        return Decimal(text)
    except InvalidOperation:  # pragma: no cover - the pattern rules it out
        return None


# --------------------------------------------------------------------------- text


def to_text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def length(value: str | None) -> int:
    return 0 if value is None else len(value)


def upper(value: str | None) -> str | None:
    return None if value is None else value.upper()


def lower(value: str | None) -> str | None:
    return None if value is None else value.lower()


def trim(value: str | None) -> str | None:
    """As XPath normalize-space: no spaces at the ends, inner runs made one space."""
    return None if value is None else " ".join(value.split())


def vat_scheme(scheme: str | None, cii: bool | None) -> bool:
    """The tax scheme is VAT under the reading binding: CII ignores case only, UBL also normalises spaces.

    One condition the EN 16931 rules repeat per line, allowance, charge and breakdown, said once;
    `cii` comes from the rule file (`cii_input`) so the binding difference stays visible there.
    """
    if scheme is None:
        return True
    if scheme.upper() == "VAT":
        return True
    return not cii and " ".join(scheme.split()).upper() == "VAT"


def is_blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def substring(value: str | None, start: Decimal | None, size: Decimal | None = None) -> str | None:
    """Characters from `start` (counting from 1), `size` of them or to the end."""
    if value is None or start is None:
        return None
    first = max(int(start) - 1, 0)
    if size is None:
        return value[first:]
    return value[first : first + max(int(size), 0)]


def before(value: str | None, sep: str | None) -> str | None:
    if value is None or sep is None:
        return None
    head, found, _ = value.partition(sep)
    return head if found else ""


def after(value: str | None, sep: str | None) -> str | None:
    if value is None or sep is None:
        return None
    _, found, tail = value.partition(sep)
    return tail if found else ""


def replace(value: str | None, old: str | None, new: str | None) -> str | None:
    if value is None or old is None or new is None or old == "":
        return value
    return value.replace(old, new)


def concat(*values: Any) -> str:
    return "".join(to_text(v) or "" for v in values)


def split(value: str | None, sep: str | None) -> list[str]:
    if value is None or not sep:
        return []
    return value.split(sep)


def part(value: str | None, sep: str | None, n: Decimal | None) -> str | None:
    """The n-th piece (from 1) of `value` split by `sep`; missing when there is no such piece."""
    if value is None or not sep or n is None:
        return None
    pieces = value.split(sep)
    index = int(n)
    return pieces[index - 1] if 1 <= index <= len(pieces) else None


@lru_cache(maxsize=1024)
def regex(pattern: str, flags: str = "") -> re.Pattern[str]:
    """Compiled once per (pattern, flags) for the whole process; the checker vetted the pattern."""
    return re.compile(pattern, re.IGNORECASE if "i" in flags else 0)


def matches(pattern: re.Pattern[str], value: str) -> bool:
    if len(value) > REGEX_INPUT_LIMIT:
        raise RegexInputTooLong(f"text of {len(value)} characters is too long to match (limit {REGEX_INPUT_LIMIT})")
    return pattern.search(value) is not None


# --------------------------------------------------------------------------- dates


def to_date(value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        return None


def days_between(first: date | None, second: date | None) -> Decimal | None:
    if first is None or second is None:
        return None
    return Decimal((second - first).days)


def add_days(day: date | None, n: Decimal | None) -> date | None:
    if day is None or n is None:
        return None
    return day + timedelta(days=int(n))


def year(day: date | None) -> Decimal | None:
    return None if day is None else Decimal(day.year)


def month(day: date | None) -> Decimal | None:
    return None if day is None else Decimal(day.month)


def day(value: date | None) -> Decimal | None:
    return None if value is None else Decimal(value.day)


# --------------------------------------------------------------------------- explain


def rec(store: dict[str, Any], key: str, value: Any) -> Any:
    """Explain mode: remember a value that decided a rule, and pass it on."""
    store[key] = list(value) if isinstance(value, list) else value
    return value


# --------------------------------------------------------------------------- messages


_MISSING = {"en": "(missing)", "fr": "(absent)", "de": "(fehlt)"}


def show(value: Any, lang: str) -> str:
    """A value as a message shows it."""
    if value is None:
        return _MISSING.get(lang, _MISSING["en"])
    if isinstance(value, bool):
        return {"fr": ("vrai", "faux")}.get(lang, ("true", "false"))[0 if value else 1]
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, list):
        return ", ".join(show(v, lang) for v in value)
    return str(value)


def render(parts: tuple[Any, ...], args: tuple[Any, ...], lang: str) -> str:
    """Fill a template: `parts` are texts and argument positions (ints)."""
    return "".join(p if isinstance(p, str) else show(args[p], lang) for p in parts)


#: Names generated code can call, bound into its namespace with the `_rt_` prefix.
EXPORTS = [
    name
    for name, value in list(globals().items())
    if callable(value) and not name.startswith("_") and getattr(value, "__module__", "").startswith("aiguillage.engine") and name not in ("RegexInputTooLong",)
]
