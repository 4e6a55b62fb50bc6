"""French and English: the user's choice (account, else cookie), else the browser's Accept-Language.

Messages are gettext catalogues under `translations/`: English source text,
French in `fr/LC_MESSAGES/messages.po`, compiled to the committed `.mo` with
`pybabel compile -d aiguillage/web/translations` (new strings: `pybabel
extract -F aiguillage/web/babel.cfg`, then `pybabel update`); a test checks
every string is translated and the `.mo` is current. Amounts and dates go
through Babel's locale data.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

from flask import Flask, g, request
from flask_babel import Babel, format_currency, format_date, format_datetime, format_decimal

LANGUAGES = ("en", "fr")
COOKIE = "aig_lang"
TRANSLATIONS = Path(__file__).parent / "translations"


def select_locale() -> str:
    user = g.get("web_user")
    if user is not None and user.language in LANGUAGES:
        return user.language
    chosen = request.cookies.get(COOKIE)
    if chosen in LANGUAGES:
        return chosen
    return request.accept_languages.best_match(LANGUAGES) or "en"


def init_app(app: Flask) -> None:
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = str(TRANSLATIONS)
    Babel(app, locale_selector=select_locale)
    app.jinja_env.filters.update(money=money, day=day, moment=moment)
    from aiguillage.web.mail import enabled

    app.jinja_env.globals.update(current_language=select_locale, LANGUAGES=LANGUAGES, mail_enabled=enabled)


def money(amount: Decimal | str | None, currency: str | None) -> str:
    if amount is None or amount == "":
        return "—"
    value = Decimal(str(amount))
    return format_currency(value, currency) if currency else format_decimal(value, format="#,##0.00")


def day(value: date | str | None) -> str:
    if not value:
        return "—"
    return format_date(date.fromisoformat(value) if isinstance(value, str) else value, "medium")


def moment(value: datetime | None) -> str:
    return "—" if value is None else format_datetime(value, "medium")
