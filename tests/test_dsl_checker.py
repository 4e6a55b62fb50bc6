"""The checker: every error it reports, with its exact FILE:LINE:COL.

Each case is a small ruleset and the first line of every diagnostic it gives,
file shortened to its name. Data files (tables) are written by the fixture.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from test_engine_support import problems

V = 'ruleset "t"\ncodelist ISO-4217\nvalidate\n'
T = 'ruleset "t"\ntable orders from "orders.csv" key ref\n  shape\n    ref text required\n    po text\n'

CASES = [
    pytest.param(V + '  rule A-1 eror "m"\n    assert true\n', ["t.rules:4:12: unknown severity 'eror'; did you mean error? (use fatal, error, warning, info)"], id='severity'),
    pytest.param(V + '  rule A-1 error "m"\n    assert seller.vat_id exists\n', ["t.rules:5:12: seller has no field 'vat_id'; did you mean seller.vat_identifier?"], id='field_nested'),
    pytest.param(V + '  rule A-1 error "m"\n    assert total_with_vat > 5\n', ["t.rules:5:12: unknown field 'total_with_vat'; did you mean totals.amount_with_vat?"], id='field_top'),
    pytest.param(V + '  rule A-1 error "m"\n    for each line in lines\n    assert line.net_amout > 0\n', ["t.rules:6:12: line has no field 'net_amout'; did you mean line.net_amount?"], id='field_scope'),
    pytest.param(V + '  rule A-1 error "m"\n    assert BT-999 exists\n', ['t.rules:5:12: unknown business term BT-999'], id='bt_unknown'),
    pytest.param(V + '  rule A-1 error "m"\n    assert issue_date > totals.amount_with_vat\n', ['t.rules:5:12: cannot compare a date with a number'], id='compare_kinds'),
    pytest.param(V + '  rule A-1 error "m"\n    assert type_code = 380\n', ['t.rules:5:12: cannot compare a text with a number; codes are texts: write them in quotes, e.g. "380"'], id='code_number'),
    pytest.param(V + '  rule A-1 error "m"\n    assert issue_date = "2026-01-01"\n', ['t.rules:5:12: cannot compare a date with a text; write dates without quotes, e.g. 2024-01-31'], id='text_date'),
    pytest.param(V + '  rule A-1 error "m"\n    assert lines.net_amount > 0\n', ["t.rules:5:12: cannot compare a list of numbers with '>' (one per line); use sum(...), count(...), any/every or 'for each'"], id='many_compare'),
    pytest.param(V + '  rule A-1 error "m"\n    assert true\n  rule A-1 error "m"\n    assert true\n', ['t.rules:6:3: duplicate rule id A-1 (first defined at t.rules:4)'], id='dup_rule'),
    pytest.param(V + '  rule A-1 error "m"\n    assert currency_code in codelist ISO-4127\n', ['t.rules:5:38: unknown code list ISO-4127; did you mean ISO-4217?'], id='codelist_unknown'),
    pytest.param(V + '  rule A-1 error "m"\n    assert type_code in codelist UNCL-1001\n', ['t.rules:5:34: unknown code list UNCL-1001; declare it with: codelist UNCL-1001'], id='codelist_undeclared'),
    pytest.param(V + '  rule A-1 error "m"\n    assert orders[buyer_reference] exists\n', ['t.rules:5:12: unknown table orders'], id='table_unknown'),
    pytest.param(V + '  rule A-1 error "m"\n    assert sm(lines.net_amount) > 0\n', ['t.rules:5:12: unknown function sm(); did you mean sum?'], id='function_unknown'),
    pytest.param(V + '  rule A-1 error "m"\n    assert round() > 0\n', ['t.rules:5:12: round() takes 1 to 2 arguments, not 0'], id='function_arity'),
    pytest.param(V + '  rule A-1 error "m"\n    assert length(issue_date) > 0\n', ['t.rules:5:19: length() needs a text, but this is a date'], id='function_arg'),
    pytest.param(V + '  rule A-1 error "m"\n    assert sum(lines.net_amount) + 1\n', ["t.rules:5:12: 'assert' must be a condition (true or false), but this is a number (add a comparison, e.g. '> 0', or 'exists')"], id='assert_not_bool'),
    pytest.param(V + '  rule A-1 error "m"\n    when true\n', ["t.rules:4:3: rule A-1 has no 'assert': say what must be true"], id='no_assert'),
    pytest.param(V + '  rule A-1 error\n    assert true\n', ["t.rules:4:3: rule A-1 has no message: write one after the severity, or a 'message' clause"], id='no_message'),
    pytest.param(V + '  rule A-1 error\n    message eng "m"\n    assert true\n', ["t.rules:5:13: 'eng' is not a language code (two letters, e.g. en, fr)"], id='bad_lang'),
    pytest.param(V + '  rule A-1 error "m"\n    message en "n"\n    assert true\n', ["t.rules:5:13: rule A-1 has two messages in 'en'"], id='dup_lang'),
    pytest.param(V + '  rule A-1 error "m {lines.net_amount}"\n    assert true\n', ['t.rules:4:22: a placeholder shows one value, but this is a list of numbers'], id='placeholder_many'),
    pytest.param(V + '  rule A-1 error "m {selle.name}"\n    assert true\n', ["t.rules:4:22: unknown field 'selle.name'; did you mean seller.name?"], id='placeholder_unknown'),
    pytest.param(V + '  rule A-1 error "m"\n    assert number matches /(ab/\n', ['t.rules:5:27: invalid regular expression: missing ), unterminated subpattern'], id='regex_invalid'),
    pytest.param(V + '  rule A-1 error "m"\n    assert number matches /^(a+)+$/\n', ['t.rules:5:27: this regular expression repeats a repetition (like (a+)+) and can take exponential time; simplify it'], id='regex_slow'),
    pytest.param(V + '  rule A-1 error "m"\n    assert true\n    assert false\n', ['t.rules:6:5: rule A-1 has this clause twice'], id='dup_clause'),
    pytest.param(V + '  rule A-1 error "m"\n    assert issue_date + 30 > due_date\n', ["t.rules:5:12: cannot use '+' with dates; use days_between(a, b) or add_days(date, n)"], id='date_arith'),
    pytest.param(V + '  rule A-1 error "m"\n    assert number + "x" = "y"\n', ['t.rules:5:12: cannot add texts; use concat(a, b)'], id='text_add'),
    pytest.param(V + '  rule A-1 error "m"\n    assert (if true then 1 else "a") = 1\n', ["t.rules:5:13: both branches of 'if' must be the same kind of value, but 'then' gives a number and 'else' gives a text"], id='if_branches'),
    pytest.param(V + '  rule A-1 error "m"\n    assert totals.amount_with_vat is empty\n', ["t.rules:5:12: 'is empty' applies to texts and groups, not to a number; use 'is missing'"], id='empty_number'),
    pytest.param(V + '  rule A-1 error "m"\n    assert sum(lines.identifier) > 0\n', ['t.rules:5:16: sum() adds numbers, but this is a list of texts'], id='sum_text'),
    pytest.param(V + '  rule A-1 error "m"\n    assert seller = buyer\n', ["t.rules:5:12: cannot compare a group of fields; compare one of its fields, or test it with 'exists'"], id='compare_group'),
    pytest.param(V + '  rule A-1 error "m"\n    assert not has errors\n', ["t.rules:5:16: 'has errors' can only be used in the route section, once validation is done"], id='has_outside_route'),
    pytest.param(V + '  rule A-1 error "m"\n    for each s in seller\n    assert true\n', ["t.rules:5:19: 's in seller' needs something that repeats, but seller occurs at most once"], id='scope_not_repeating'),
    pytest.param(V + '  rule A-1 error "m"\n    for each l in lines\n    for each l in l.allowances\n    assert true\n', ["t.rules:6:19: the name 'l' is already in use here; choose another"], id='scope_var_in_use'),
    pytest.param(V + '  rule A-1 error "m"\n    assert count(seller.name where true) = 1\n', ["t.rules:5:18: 'where' needs something that repeats, but seller.name occurs at most once"], id='where_not_repeating'),
    pytest.param(V + '  rule A-1 error "m"\n    assert length(number where true) = 1\n', ["t.rules:5:32: 'where' can only filter the values given to count, sum, min, max, distinct or first"], id='where_not_aggregate'),
    pytest.param(V + '  override A-2 severity warning\n', ['t.rules:4:3: cannot override unknown rule A-2'], id='override_unknown'),
    pytest.param(V + '  rule A-1 error "m"\n    assert true\n  override A-1 severity fatl\n', ["t.rules:6:3: warning: rule A-1 is defined in this ruleset; change it there instead of using 'override'", "t.rules:6:25: unknown severity 'fatl'; did you mean fatal? (use fatal, error, warning, info)"], id='override_severity'),
    pytest.param(V + '  disable BR-01\n', ['t.rules:4:11: cannot disable unknown rule BR-01'], id='disable_unknown'),
    pytest.param(V + '  disable BR-01 when currency_code = "EUR"\n', ['t.rules:4:11: cannot disable unknown rule BR-01'], id='disable_when_unknown'),
    pytest.param(V + '  rule A-1 error "m"\n    assert true\n  disable A-1 when currency_code\n',
                 ["t.rules:6:11: warning: rule A-1 is defined in this ruleset; change it there instead of using 'disable'",
                  "t.rules:6:20: the 'when' of 'disable' must be a condition (true or false), but this is a text (add a comparison, e.g. '> 0', or 'exists')"], id='disable_when_not_bool'),
    pytest.param(V + '  rule A-1 error "m"\n    assert true\n  disable A-1 when line.net_amount > 0\n',
                 ["t.rules:6:11: warning: rule A-1 is defined in this ruleset; change it there instead of using 'disable'",
                  "t.rules:6:20: unknown field 'line.net_amount'; did you mean lines.net_amount?"], id='disable_when_no_scope'),
    pytest.param('ruleset "t"\nlet x = 1\nlet x = 2\n', ["t.rules:3:1: 'x' is already defined by an earlier let"], id='let_dup'),
    pytest.param('ruleset "t"\nlet number = 1\n', ["t.rules:2:1: 'number' is a field of the invoice; give the let another name"], id='let_field'),
    pytest.param('ruleset "t"\nlet x = lines.net_amount\n', ['t.rules:2:9: a let must be one value, but this is a list of numbers'], id='let_many'),
    pytest.param('validate\n  rule A-1 error "m"\n    assert true\n', ['t.rules:1:1: a ruleset file starts with its name: ruleset "name"'], id='no_header'),
    pytest.param('ruleset "t" version 1\nversion 2\n', ["t.rules:2:1: 'version' is given twice (first on line 1)"], id='dup_version'),
    pytest.param('ruleset "t"\ninclude "nope.rules"\n', ['t.rules:2:1: included file not found: nope.rules'], id='include_missing'),
    pytest.param('ruleset "t"\ncodelist NOPE-1\n', ['t.rules:2:1: code list file not found: NOPE-1.json'], id='codelist_missing'),
    pytest.param('ruleset "t"\nextends "en16931"\n', ['t.rules:2:1: cannot extend "en16931": no ruleset folder is known here'], id='extends_unknown'),
    pytest.param('ruleset "t"\nroute\n  otherwise -> emial\n', ["t.rules:3:16: unknown channel 'emial'; did you mean email?"], id='channel_unknown'),
    pytest.param('ruleset "t"\nroute\n  otherwise -> email as facturx\n', ["t.rules:3:25: unknown format 'facturx'; did you mean factur-x?"], id='format_unknown'),
    pytest.param('ruleset "t"\nroute\n  otherwise -> print with (copies = 1, copies = 2)\n', ["t.rules:3:16: parameter 'copies' is given twice"], id='param_dup'),
    pytest.param('ruleset "t"\nroute\n  otherwise -> print\n  when has errors -> fax\n', ["t.rules:4:3: this route can never match: it comes after 'otherwise' (line 3)"], id='after_otherwise'),
    pytest.param('ruleset "t"\nroute\n  when has errors -> print\n  when has errors -> fax\n', ['t.rules:4:3: this route can never match: the same condition is on line 3'], id='same_condition'),
    pytest.param('ruleset "t"\nroute\n  when 1 > 2 -> print\n', ['t.rules:3:3: this route can never match: its condition is always false'], id='always_false'),
    pytest.param('ruleset "t"\nroute\n  when true -> print\n  when has errors -> fax\n', ['t.rules:4:3: this route can never match: the route on line 3 always matches'], id='after_always_true'),
    pytest.param('ruleset "t"\nroute\n  otherwise -> print\n  otherwise -> fax\n', ["t.rules:4:3: this 'otherwise' can never be used: there is already one on line 3"], id='two_otherwise'),
    pytest.param('ruleset "t"\nroute\n  decision first match\n    | currency_code | number | -> outcome\n    | "EUR" | -> print\n', ['t.rules:5:5: this row has 1 cell but the table has 2 columns'], id='row_cells'),
    pytest.param('ruleset "t"\nroute\n  decision first match\n    | currency_code | -> outcome\n    | any | -> print\n    | "EUR" | -> fax\n', ['t.rules:6:5: this row can never match: the row on line 5 matches everything before it'], id='row_after_catch_all'),
    pytest.param('ruleset "t"\nroute\n  decision all matches\n    | currency_code | -> outcome\n    | "EUR" | -> print\n    | "EUR" | -> fax\n', ['t.rules:6:5: this row can never match: it repeats the row on line 5'], id='row_duplicate'),
    pytest.param('ruleset "t"\nroute\n  decision first match\n    | currency_code | -> outcome\n    | > 5 | -> print\n', ['t.rules:5:9: this column is a text, but the cell holds a number'], id='cell_type'),
    pytest.param('ruleset "t"\nroute\n  when has finding BR-99 -> print\n', ['t.rules:3:8: unknown rule BR-99'], id='has_finding_unknown'),
    pytest.param('ruleset "t"\nenrich\n  rule E-1\n    set seller = buyer\n', ['t.rules:4:9: seller is a group of fields; set its fields one by one'], id='set_group'),
    pytest.param('ruleset "t"\nenrich\n  rule E-1\n    set lines.note = "x"\n', ["t.rules:4:9: lines.note repeats (one per line); set it inside 'for each'"], id='set_repeating'),
    pytest.param('ruleset "t"\nenrich\n  rule E-1\n    set due_date = "2026-01-01"\n', ['t.rules:4:20: due_date is a date, but the new value is a text'], id='set_type'),
    pytest.param('ruleset "t"\nenrich\n  rule E-1\n    set provenance.syntax = "ubl"\n', ['t.rules:4:9: provenance.syntax describes how the invoice was read and cannot be set'], id='set_provenance'),
    pytest.param('ruleset "t"\nlet x = 1\nenrich\n  rule E-1\n    set x = 2\n', ["t.rules:5:9: 'x' is not a field of the invoice; only invoice fields can be set"], id='set_let'),
    pytest.param(T + 'validate\n  rule A-1 error "m"\n    assert orders[buyer_reference].po_nmber exists\n', ["t.rules:8:12: table orders has no column 'po_nmber' (columns: ref, po)"], id='lookup_column'),
    pytest.param(T + 'validate\n  rule A-1 error "m"\n    assert orders[issue_date] exists\n', ['t.rules:8:19: table orders is keyed by a text, but this is a date'], id='lookup_key_type'),
    pytest.param('ruleset "t"\ntable t from "missing.csv" key ref\n  shape\n    ref text\n', ['t.rules:2:1: table file not found: missing.csv'], id='table_missing_file'),
    pytest.param('ruleset "t"\ntable bad from "bad.csv" key ref\n  shape\n    ref text required\n    limit amount\n', ["t.rules:2:1: table bad: bad.csv line 2: column limit: '12x' is not a valid value"], id='table_bad_row'),
    pytest.param('ruleset "t"\ntable dup from "dup.csv" key ref\n  shape\n    ref text required\n', ['t.rules:2:1: table dup: dup.csv line 3: duplicate key R1 (first at line 2)'], id='table_dup_key'),
    pytest.param('ruleset "t"\ntable orders from "orders.csv" key ref\n  shape\n    ref txt required\n', ["t.rules:4:5: unknown column type 'txt'; did you mean text?"], id='table_column_type'),
    pytest.param('ruleset "t"\ntable orders from "orders.csv" key nope\n  shape\n    ref text required\n', ["t.rules:2:1: the key column 'nope' is not in the shape"], id='table_key_not_in_shape'),
    pytest.param(V + '  rule A-1 error "m"\n    assert min(lines.identifier) = "1"\n', ['t.rules:5:16: min() needs numbers or dates, but this is a list of texts'], id='min_text'),
    pytest.param(V + '  rule A-1 error "m"\n    assert type_code in (380, 381)\n', ['t.rules:5:26: the list holds a number, but the value tested is a text', 't.rules:5:31: the list holds a number, but the value tested is a text'], id='in_list_type'),
    pytest.param(V + '  rule A-1 error "m"\n    assert not number\n', ["t.rules:5:16: what follows 'not' must be a condition (true or false), but this is a text (add a comparison, e.g. '> 0', or 'exists')"], id='not_condition'),
    pytest.param(V + '  rule A-1 error "m"\n    assert every s in seller satisfies s.name exists\n', ["t.rules:5:23: 's in seller' needs something that repeats, but seller occurs at most once"], id='quant_not_repeating'),
]


@pytest.fixture()
def folder(tmp_path: Path) -> Path:
    (tmp_path / "orders.csv").write_text("ref,po\nR1,PO-1\n", encoding="utf-8")
    (tmp_path / "bad.csv").write_text("ref,limit\nR1,12x\n", encoding="utf-8")
    (tmp_path / "dup.csv").write_text("ref\nR1\nR1\n", encoding="utf-8")
    return tmp_path


@pytest.mark.parametrize(("text", "expected"), CASES)
def test_checker_errors(folder: Path, text: str, expected: list[str]) -> None:
    got = [p.split(" (looked in")[0] for p in problems(folder, text)]
    assert got == expected


def test_every_case_reports_something() -> None:
    assert all(case.values[1] for case in CASES)


def test_diagnostic_shows_the_line_and_a_caret(folder: Path) -> None:
    from test_engine_support import program

    from aiguillage.dsl.diagnostics import RulesError

    with pytest.raises(RulesError) as info:
        program(folder, V + '  rule A-1 error "m"\n    assert seller.vat_id exists\n')
    head, line, caret = info.value.render().splitlines()
    assert head.endswith("t.rules:5:12: seller has no field 'vat_id'; did you mean seller.vat_identifier?")
    assert line == "        assert seller.vat_id exists"
    assert caret == "               ^~~~~~~~~~~~~"


def test_all_problems_are_reported_at_once(folder: Path) -> None:
    text = V + '  rule A-1 eror "m"\n    assert selr.name exists\n  rule A-2 error "m"\n    assert type_code = 380\n'
    assert len(problems(folder, text)) == 3


def test_includes_report_in_their_own_file(folder: Path) -> None:
    (folder / "part.rules").write_text('validate\n  rule P-1 error "m"\n    assert nmber exists\n', encoding="utf-8")
    assert problems(folder, 'ruleset "t"\ninclude "part.rules"\n') == ["part.rules:3:12: unknown field 'nmber'; did you mean number?"]


def test_duplicate_rule_across_includes(folder: Path) -> None:
    (folder / "part.rules").write_text('validate\n  rule P-1 error "m"\n    assert true\n', encoding="utf-8")
    text = 'ruleset "t"\ninclude "part.rules"\nvalidate\n  rule P-1 error "m"\n    assert true\n'
    assert problems(folder, text) == ["t.rules:4:3: duplicate rule id P-1 (first defined at part.rules:2)"]


def test_included_file_cannot_have_a_header(folder: Path) -> None:
    (folder / "part.rules").write_text('ruleset "p"\n', encoding="utf-8")
    assert problems(folder, 'ruleset "t"\ninclude "part.rules"\n') == ["part.rules:1:1: an included file cannot have 'ruleset': headers belong to the including ruleset"]


def test_include_cycle(folder: Path) -> None:
    (folder / "a.rules").write_text('include "b.rules"\n', encoding="utf-8")
    (folder / "b.rules").write_text('include "a.rules"\n', encoding="utf-8")
    assert problems(folder, 'ruleset "t"\ninclude "a.rules"\n') == ["b.rules:1:1: include cycle: t.rules → a.rules → b.rules → a.rules"]


def test_a_clean_ruleset_has_no_problem(folder: Path) -> None:
    text = V + '  rule A-1 error "m {number}"\n    for each line in lines\n    assert line.net_amount >= 0\n'
    assert problems(folder, text) == []


# ---- approval settings: `approval by "finance" with (escalate_after = "48h", escalate_to = "cfo")`

R = 'ruleset "t"\nroute\n  otherwise -> approval by "finance" with '


@pytest.mark.parametrize(("params", "expected"), [
    pytest.param('(escalate_after = "48h", escalate_to = "cfo")', [], id='ok'),
    pytest.param('(escalate_after = "7d", escalate_to = "cfo")', [], id='ok_days'),
    pytest.param('escalate_after = 48', [], id='ok_bare_hours'),
    pytest.param('(escalate_after = "48 hours")',
                 ['t.rules:3:61: escalate_after takes a duration such as "48h" or "7d" (units s, m, h, d, w), '
                  'not "48 hours"'], id='bad_duration_text'),
    pytest.param('(escalate_after = 1.5)',
                 ['t.rules:3:61: escalate_after takes a duration such as "48h" or "7d" (units s, m, h, d, w), '
                  'not 1.5'], id='bad_duration_number'),
    pytest.param('(escalate_after = "{number}h")',
                 ['t.rules:3:61: escalate_after takes a duration such as "48h" or "7d" (units s, m, h, d, w), '
                  'not "{number}h"'], id='duration_placeholder'),
    pytest.param('(escalate_afer = "48h")',
                 ["t.rules:3:60: unknown approval parameter 'escalate_afer'; did you mean escalate_after?"],
                 id='unknown_name'),
    pytest.param('(escalate_to = "")', ['t.rules:3:58: escalate_to needs a role, e.g. escalate_to = "cfo"'],
                 id='empty_role'),
    pytest.param('(escalate_to = 3)', ['t.rules:3:58: escalate_to takes a role in quotes, e.g. escalate_to = "cfo"'],
                 id='role_number'),
    pytest.param('(escalate_to = "cfo", escalate_to = "ceo")', ["t.rules:3:79: parameter 'escalate_to' is given twice"],
                 id='twice'),
])
def test_approval_parameters_are_checked(folder: Path, params: str, expected: list[str]) -> None:
    assert problems(folder, R + params + "\n") == expected
