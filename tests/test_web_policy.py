"""The console's role table agrees with the API's, and every page string has its French translation."""

from __future__ import annotations

from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from aiguillage.api import roles as api_roles
from aiguillage.store.vocabulary import Role
from aiguillage.web import roles as web_roles
from aiguillage.web.roles import Permission

WEB = Path(web_roles.__file__).parent
CATALOGUE = WEB / "translations" / "fr" / "LC_MESSAGES"


def _forms(value: object) -> tuple:
    """A message id or translation as a tuple of its (plural) forms; every form must be filled in."""
    return tuple(value) if isinstance(value, list | tuple) else (value,)


def test_each_person_role_has_exactly_the_api_admissions_of_its_api_role():
    checked = 0
    for permission in Permission:
        if permission is Permission.MANAGE_USERS:  # people management has no API endpoint: admins only
            assert [r for r in web_roles.POLICY if web_roles.allowed(r, permission)] == ["admin"]
            continue
        admitted = getattr(api_roles, permission.name)
        for person, api_role in web_roles.API_ROLE.items():
            assert web_roles.allowed(person, permission) == (Role(api_role) in admitted), (person, permission)
            checked += 1
    assert checked == 4 * (len(Permission) - 1)


def test_every_page_string_is_translated_and_the_compiled_catalogue_is_current():
    with (CATALOGUE / "messages.po").open("rb") as handle:
        po = read_po(handle)
    with (CATALOGUE / "messages.mo").open("rb") as handle:
        mo = read_mo(handle)
    extracted = {message[2] if isinstance(message[2], str) else message[2][0]
                 for message in extract_from_dir(str(WEB), method_map=[("**.py", "python"),
                                                                       ("**/templates/**.html", "jinja2")],
                                                 keywords={"_": None, "gettext": None, "ngettext": (1, 2)})}
    assert len(extracted) > 150
    missing = [source for source in extracted if not (po.get(source) and all(_forms(po.get(source).string)))]
    assert not missing, f"untranslated (run pybabel extract/update, translate, compile): {missing[:10]}"
    compiled = {_forms(m.id): _forms(m.string) for m in mo if m.id}
    stale = [m.id for m in po if m.id and compiled.get(_forms(m.id)) != _forms(m.string)]
    assert not stale, f"messages.mo is older than messages.po (pybabel compile): {stale[:5]}"
