"""Check-digit algorithms for identifiers Peppol and national rules verify.

Each function takes the identifier as written and returns True only when it
has the expected form and its check digit(s) are right; anything else
(missing, letters where digits belong, wrong length) is False. The
algorithms are written from their public specifications (GS1, the national
registries) and cross-checked in the tests against numbers the official
Peppol test sets use.
"""

from __future__ import annotations

import re

_DIGITS = re.compile(r"[0-9]+")


def _digits(value: str | None, length: int | None = None) -> list[int] | None:
    # fullmatch: "$" would also accept a trailing newline
    if value is None or not _DIGITS.fullmatch(value) or (length is not None and len(value) != length):
        return None
    return [ord(c) - 48 for c in value]


def gln_valid(value: str | None) -> bool:
    """GS1 GLN/GTIN family: weights 3,1,3,1… from the right on the body; check digit makes a multiple of 10.

    As Peppol's u:gln (PEPPOL-COMMON-R040): any number of digits with a valid
    GS1 check digit, so a lone "0" (empty body, check digit 0) passes.
    """
    digits = _digits(value)
    if not digits:
        return False
    body, check = digits[:-1], digits[-1]
    total = sum(d * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    return (10 - total % 10) % 10 == check


def luhn_valid(value: str | None) -> bool:
    """Luhn (ISO/IEC 7812 mod 10): double every second digit from the right."""
    digits = _digits(value)
    if not digits or len(digits) < 2:
        return False
    total = 0
    for i, d in enumerate(reversed(digits)):
        if i % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def mod11_valid(value: str | None) -> bool:
    """Peppol's u:mod11: weights 2,3,4,5,6,7,2,… from the right on the body; (sum + check) mod 11 = 0.

    As u:mod11, the number must be above zero (all zeros would otherwise pass).
    """
    digits = _digits(value)
    if not digits or len(digits) < 2 or not any(digits):
        return False
    body, check = digits[:-1], digits[-1]
    total = sum(d * (i % 6 + 2) for i, d in enumerate(reversed(body)))
    return (total + check) % 11 == 0


def mod97_valid(value: str | None) -> bool:
    """The last two digits are 97 minus (the other digits mod 97) (Belgian enterprise numbers and similar)."""
    digits = _digits(value)
    if not digits or len(digits) < 3:
        return False
    body = int(value[:-2])  # type: ignore[index]
    return 97 - body % 97 == int(value[-2:])  # type: ignore[index]


def iban_valid(value: str | None) -> bool:
    """ISO 13616: move the first four characters to the end, letters to numbers, mod 97 = 1."""
    if value is None:
        return False
    compact = value.replace(" ", "").upper()
    if not re.match(r"^[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}$", compact):
        return False
    rearranged = compact[4:] + compact[:4]
    number = "".join(str(int(c, 36)) for c in rearranged)
    return int(number) % 97 == 1


def no_orgnr_valid(value: str | None) -> bool:
    """Norwegian organisation number: 9 digits, mod 11 (weights 3 2 7 6 5 4 3 2)."""
    return _digits(value, 9) is not None and mod11_valid(value)


def dk_cvr_valid(value: str | None) -> bool:
    """Danish CVR: 8 digits, weights 2 7 6 5 4 3 2 1, sum divisible by 11."""
    digits = _digits(value, 8)
    if digits is None or digits[0] == 0:
        return False
    return sum(d * w for d, w in zip(digits, (2, 7, 6, 5, 4, 3, 2, 1), strict=True)) % 11 == 0


def se_orgnr_valid(value: str | None) -> bool:
    """Swedish organisation number: 10 digits, Luhn."""
    return _digits(value, 10) is not None and luhn_valid(value)


def be_enterprise_valid(value: str | None) -> bool:
    """Belgian enterprise number: 10 digits, the last two being 97 - (first eight mod 97)."""
    return _digits(value, 10) is not None and mod97_valid(value)


def it_partita_iva_valid(value: str | None) -> bool:
    """Italian partita IVA: 11 digits; odd positions summed, even positions doubled (minus 9 if over 9)."""
    return _digits(value, 11) is not None and luhn_valid(value)


_CF_ODD = {
    **{str(d): v for d, v in zip(range(10), (1, 0, 5, 7, 9, 13, 15, 17, 19, 21), strict=True)},
    **dict(zip("ABCDEFGHIJKLMNOPQRSTUVWXYZ", (1, 0, 5, 7, 9, 13, 15, 17, 19, 21, 2, 4, 18, 20, 11, 3, 6, 8, 12, 14, 16, 10, 22, 25, 24, 23), strict=True)),
}
_CF_PATTERN = re.compile(r"^[A-Z]{6}[0-9LMNPQRSTUV]{2}[ABCDEHLMPRST][0-9LMNPQRSTUV]{2}[A-Z][0-9LMNPQRSTUV]{3}[A-Z]$")


def it_codice_fiscale_valid(value: str | None) -> bool:
    """Italian codice fiscale: 16 characters with a check letter (omocodia letters allowed), or 11 digits (a company's)."""
    if value is None:
        return False
    code = value.strip().upper()
    if len(code) == 11:
        return it_partita_iva_valid(code)
    if not _CF_PATTERN.match(code):
        return False
    total = 0
    for i, ch in enumerate(code[:15]):
        if i % 2 == 0:  # 1st, 3rd, … (odd positions counting from 1)
            total += _CF_ODD[ch]
        else:
            total += int(ch) if ch.isdigit() else ord(ch) - 65
    return chr(65 + total % 26) == code[15]


_XS_INTEGER = re.compile(r"[ \t\r\n]*[+-]?[0-9]+[ \t\r\n]*")


def _xs_integer(text: str) -> bool:
    """XPath `castable as xs:integer`: optional sign, digits, surrounding XML whitespace allowed."""
    return _XS_INTEGER.fullmatch(text) is not None


_ASCII_LETTERS = re.compile(r"[A-Za-z]*")


def it_codice_fiscale_format_valid(value: str | None) -> bool:
    """Italian codice fiscale as Peppol checks its form (u:checkCF, PEPPOL-COMMON-R045/R046), no check letter.

    16 characters: 6 letters, a 2-character integer, a letter, a 2-character
    integer, 3 characters of any kind, a digit, a letter; or 11 characters that
    make an integer (a company's number). Letters are ASCII, either case.
    """
    if value is None:
        return False
    if len(value) == 11:
        return _xs_integer(value)
    if len(value) != 16:
        return False
    return (
        _ASCII_LETTERS.fullmatch(value[0:6]) is not None
        and _xs_integer(value[6:8])
        and _ASCII_LETTERS.fullmatch(value[8]) is not None
        and _xs_integer(value[9:11])
        and _xs_integer(value[14])
        and _ASCII_LETTERS.fullmatch(value[15]) is not None
    )


def it_ipa_code_valid(value: str | None) -> bool:
    """Italian IPA code (Codice Univoco Ufficio, PEPPOL-COMMON-R044): exactly 6 ASCII letters or digits."""
    return value is not None and len(value) == 6 and re.fullmatch(r"[A-Za-z0-9]{6}", value) is not None


def abn_valid(value: str | None) -> bool:
    """Australian Business Number: 11 digits; subtract 1 from the first, weights 10 1 3 5 … 19, mod 89 = 0."""
    digits = _digits(value, 11)
    if digits is None:
        return False
    digits[0] -= 1
    weights = (10, 1, 3, 5, 7, 9, 11, 13, 15, 17, 19)
    return sum(d * w for d, w in zip(digits, weights, strict=True)) % 89 == 0


def gr_tin_valid(value: str | None) -> bool:
    """Greek AFM: 9 digits; sum of the first eight times 2^(8-i), mod 11, mod 10 equals the ninth."""
    digits = _digits(value, 9)
    if digits is None:
        return False
    total = sum(d * 2 ** (8 - i) for i, d in enumerate(digits[:8]))
    return total % 11 % 10 == digits[8]


def fr_siren_valid(value: str | None) -> bool:
    """French SIREN: exactly 9 digits with a Luhn check key (python-stdnum's fr.siren)."""
    return _digits(value, 9) is not None and _stdnum_fr("siren").is_valid(value)


def fr_siret_valid(value: str | None) -> bool:
    """French SIRET: exactly 14 digits, the SIREN then the NIC, with its check key (stdnum fr.siret).

    stdnum knows La Poste's establishments, whose SIRETs use a different key.
    """
    return _digits(value, 14) is not None and _stdnum_fr("siret").is_valid(value)


def _stdnum_fr(name: str):  # noqa: ANN202  (a module)
    """stdnum.fr.siren / stdnum.fr.siret, imported on first use (stdnum imports lazily too)."""
    import importlib

    return importlib.import_module(f"stdnum.fr.{name}")


def creditor_reference(value: str | None) -> str | None:
    """ISO 11649 structured creditor reference ("RF" + 2 check digits + up to 21 letters or digits) for a text.

    Made from the text's letters and digits (the last 21 kept), so an invoice
    number gives the reference a customer's bank carries back with the
    transfer; missing when the text has none. Check digits from python-stdnum.
    """
    from stdnum.iso7064 import mod_97_10

    body = re.sub(r"[^0-9A-Z]", "", (value or "").upper())[-21:]
    return "RF" + mod_97_10.calc_check_digits(body + "RF") + body if body else None
