"""Server-rendered pages on the API's app: the customer portal (`/portal`) and the supplier's console (`/console`).

Jinja2 templates, no JavaScript, vendored CSS; French and English. Pages read
and act through `store/` repositories and `workflows/`, exactly as the API's
endpoints do (same role policy, same audit entries), never around them.
`init_app` is called by the app factory once the API's blueprints are in.
"""

from __future__ import annotations

from flask import Flask, redirect, url_for
from sqlalchemy.orm import Session, sessionmaker

# console_payments and pay are imported for the routes they add to the console's and portal's blueprints.
from aiguillage.web import console_payments, database, i18n, pay, security  # noqa: F401
from aiguillage.web.console import blueprint as console_blueprint
from aiguillage.web.portal import blueprint as portal_blueprint
from aiguillage.web.shared import blueprint as shared_blueprint
from aiguillage.web.workspace import blueprint as workspace_blueprint


def init_app(app: Flask, sessions: sessionmaker[Session]) -> None:
    """Install sessions, security, languages and the portal, console and shared blueprints."""
    database.init_app(app, sessions)
    security.init_app(app)
    i18n.init_app(app)
    for blueprint in (shared_blueprint, portal_blueprint, console_blueprint, workspace_blueprint):
        app.register_blueprint(blueprint)
    app.add_url_rule("/", "front", lambda: redirect(url_for("web.home")))
