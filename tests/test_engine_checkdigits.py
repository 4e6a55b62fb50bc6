"""Check-digit functions, on numbers from the official Peppol test sets and public references."""

from __future__ import annotations

import pytest

from aiguillage.engine import checkdigits as cd


@pytest.mark.parametrize(
    ("function", "good", "bad"),
    [
        (cd.gln_valid, ["9429041098400", "5790000435975", "4012345000009"], ["9429041098401", "ABC", "", None]),
        (cd.luhn_valid, ["79927398713"], ["79927398710", "7992739871x", None]),
        (cd.mod11_valid, ["974760673"], ["974760672"]),
        (cd.no_orgnr_valid, ["974760673"], ["97476067", "974760672"]),
        (cd.dk_cvr_valid, ["13585628"], ["12345678", "1358562", "DK13585628"]),
        (cd.se_orgnr_valid, ["2021005489"], ["2021005480", "556622-1100", "SE5566221100"]),
        (cd.be_enterprise_valid, ["0739484052"], ["0739484059", "07399999484052"]),
        (cd.mod97_valid, ["0739484052"], ["0739484053"]),
        (cd.it_partita_iva_valid, ["02985591201"], ["02985591202", "IT02985591201", "ABC"]),
        (cd.it_codice_fiscale_valid, ["RSSMRA85T10A562S", "97735020584", "rssmra85t10a562s"], ["RSSMRA85T10A562T", "ABC", "9773502058497735020584"]),
        (cd.abn_valid, ["51824753556"], ["51824753550", "ERR51824753556"]),
        (cd.iban_valid, ["FR7630006000011234567890189", "GB82 WEST 1234 5698 7654 32"], ["FR7630006000011234567890188", "XX00"]),
        (cd.gr_tin_valid, ["094259216"], ["094259217", "09425921"]),
        (cd.fr_siren_valid, ["732829320", "552100554"], ["732829321", "73282932", " 732829320", "FR732829320", None]),
        (cd.fr_siret_valid, ["73282932000074", "35600000000048"], ["73282932000075", "7328293200007", "732829320 00074", None]),
    ],
)
def test_check_digits(function, good: list[str], bad: list) -> None:  # noqa: ANN001
    for value in good:
        assert function(value), value
    for value in bad:
        assert not function(value), value
