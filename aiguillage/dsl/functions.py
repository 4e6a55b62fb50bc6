"""The built-in functions of the language: names, argument kinds, results.

One table shared by the checker (argument counts and types, did-you-mean on
names), the compiler (which runtime helper implements each) and the
language guide. Rules can call nothing else: there is no way to reach Python
from a ruleset.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Function:
    name: str
    #: Kinds of the parameters: number, text, date, any, or "values" (a list of values: a path
    #: through a repeating group, optionally filtered with `where`).
    params: tuple[str, ...]
    #: The result kind; "first" means the kind of the first argument.
    result: str
    doc: str
    #: How many trailing parameters may be left out.
    optional: int = 0
    #: The last parameter may repeat (concat, min and max of single values).
    variadic: bool = False
    #: The result is a list of values (split, distinct).
    many: bool = False
    #: Name of the helper in `aiguillage.engine.runtime` ("" when compiled inline).
    runtime: str = ""


_CHECKS = {
    "gln_valid": "GS1 Global Location Number (13 digits, mod 10 check digit)",
    "luhn_valid": "digits with a Luhn (mod 10) check digit",
    "mod11_valid": "digits with a mod 11 check digit (weights 2..7 from the right), as Peppol's u:mod11",
    "mod97_valid": "digits whose last two are 97 minus the rest mod 97",
    "iban_valid": "an IBAN (ISO 13616 mod 97)",
    "no_orgnr_valid": "Norwegian organisation number (9 digits, mod 11)",
    "dk_cvr_valid": "Danish CVR number (8 digits, mod 11 with weights 2 7 6 5 4 3 2 1)",
    "se_orgnr_valid": "Swedish organisation number (10 digits, Luhn)",
    "be_enterprise_valid": "Belgian enterprise number (10 digits, mod 97)",
    "it_codice_fiscale_valid": "Italian codice fiscale (16 characters with check letter, or 11 digits)",
    "it_partita_iva_valid": "Italian partita IVA (11 digits, Luhn-style check digit)",
    "it_codice_fiscale_format_valid": "Italian codice fiscale in the form Peppol checks (16-character pattern without check letter, or an 11-digit number)",
    "it_ipa_code_valid": "Italian IPA office code (exactly 6 letters or digits)",
    "abn_valid": "Australian Business Number (11 digits, mod 89)",
    "gr_tin_valid": "Greek tax number AFM (9 digits, powers of 2 mod 11)",
    "fr_siren_valid": "French SIREN (9 digits with its Luhn check key; scheme 0002)",
    "fr_siret_valid": "French SIRET (14 digits: the SIREN, the NIC and the check key; scheme 0009)",
}

FUNCTIONS: dict[str, Function] = {
    f.name: f
    for f in [
        # ---- over lists of values
        Function("count", ("values",), "number", "How many values (or occurrences) there are; 0 when none."),
        Function("sum", ("values",), "number", "The total of the numbers; 0 when none.", runtime="sum_values"),
        Function("min", ("values",), "first", "The smallest value (numbers or dates); min(a, b, ...) also works.", variadic=True, runtime="min_values"),
        Function("max", ("values",), "first", "The largest value (numbers or dates); max(a, b, ...) also works.", variadic=True, runtime="max_values"),
        Function("distinct", ("values",), "first", "The values without repeats, in order of first appearance.", many=True, runtime="distinct"),
        Function("first", ("values",), "first", "The first value present (in document order); missing when none.", runtime="first_value"),
        # ---- numbers
        Function("round", ("number", "number"), "number", "Rounded half away from zero, to 2 decimals unless told.", optional=1, runtime="round_half_up"),
        Function("round_half_ceiling", ("number", "number"), "number", "Rounded half toward positive infinity (-2.345 → -2.34), as XPath round(), to 2 decimals unless told.", optional=1, runtime="round_half_ceiling"),
        Function("abs", ("number",), "number", "The value without its sign.", runtime="abs_"),
        Function("decimals", ("number",), "number", "How many decimals the value was written with (100.50 → 2).", runtime="decimals"),
        Function("number", ("text",), "number", "The number written in a text; missing if it is not one.", runtime="to_number"),
        # ---- text
        Function("text", ("any",), "text", "The value as text (dates as YYYY-MM-DD).", runtime="to_text"),
        Function("length", ("text",), "number", "Number of characters; 0 when missing.", runtime="length"),
        Function("upper", ("text",), "text", "In capitals.", runtime="upper"),
        Function("lower", ("text",), "text", "In small letters.", runtime="lower"),
        Function("trim", ("text",), "text", "Without spaces at either end, inner runs of spaces made one.", runtime="trim"),
        Function("substring", ("text", "number", "number"), "text", "Part of a text: substring(t, start, length), counting from 1.", optional=1, runtime="substring"),
        Function("before", ("text", "text"), "text", "The text before the first separator (empty if none).", runtime="before"),
        Function("after", ("text", "text"), "text", "The text after the first separator (empty if none).", runtime="after"),
        Function("replace", ("text", "text", "text"), "text", "Every occurrence of a text replaced by another.", runtime="replace"),
        Function("concat", ("any",), "text", "The texts joined; missing parts count as empty.", variadic=True, runtime="concat"),
        Function("split", ("text", "text"), "text", "The pieces of a text between separators.", many=True, runtime="split"),
        Function("part", ("text", "text", "number"), "text", "The n-th piece (from 1) of a text split by a separator.", runtime="part"),
        Function("vat_scheme", ("text", "bool"), "bool", "True when a tax scheme value denotes VAT: missing (the model keeps exactly \"VAT\" as missing) or \"VAT\" in any case; when the second argument is false (UBL's normalize-space), also with spaces at the ends or repeated inside. The second argument names the reading binding, e.g. vat_scheme(line.vat.tax_scheme, cii_input).", runtime="vat_scheme"),
        # ---- dates
        Function("date", ("text",), "date", "The date written YYYY-MM-DD in a text; missing if not a real date.", runtime="to_date"),
        Function("days_between", ("date", "date"), "number", "Days from the first date to the second (negative if earlier).", runtime="days_between"),
        Function("add_days", ("date", "number"), "date", "The date a number of days later (earlier if negative).", runtime="add_days"),
        Function("year", ("date",), "number", "The year of a date.", runtime="year"),
        Function("month", ("date",), "number", "The month of a date (1-12).", runtime="month"),
        Function("day", ("date",), "number", "The day of the month.", runtime="day"),
        # ---- payment references
        Function("creditor_reference", ("text",), "text", "The ISO 11649 creditor reference (RF + check digits) made from a text's letters and digits, e.g. fill payment_instructions.remittance_information = creditor_reference(number).", runtime="creditor_reference"),
        # ---- check digits
        *[Function(name, ("text",), "bool", f"True when the value is a valid {doc}; false when missing.", runtime=name) for name, doc in _CHECKS.items()],
    ]
}

#: Functions whose first argument is a list of values and may carry a `where` filter.
AGGREGATES = frozenset({"count", "sum", "min", "max", "distinct", "first"})
