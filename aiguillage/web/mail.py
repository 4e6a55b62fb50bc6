"""E-mailing a one-time sign-in link, through the same SMTP client as the e-mail channel.

Configured by `WEB_SMTP` (the e-mail channel's `SmtpServer` settings, e.g.
`AIGUILLAGE_WEB_SMTP='{"host": "smtp.example", "port": 587, "username": …}'`)
and `WEB_MAIL_FROM`; without them the pages do not offer "e-mail me a link".
"""

from __future__ import annotations

from email.message import EmailMessage

from flask import current_app
from flask_babel import gettext as _

from aiguillage.adapters.smtpclient import SmtpServer, send_message


def enabled() -> bool:
    return bool(current_app.config.get("WEB_SMTP")) and bool(current_app.config.get("WEB_MAIL_FROM"))


def send_link(to: str, link: str) -> None:
    """Send the link in the page's language; raises `DeliveryError` when the server refuses it."""
    message = EmailMessage()
    message["From"] = current_app.config["WEB_MAIL_FROM"]
    message["To"] = to
    message["Subject"] = _("Your sign-in link")
    message.set_content(_("Sign in with this link; it works once, within 24 hours:") + f"\n\n{link}\n\n"
                        + _("If you did not ask for it, ignore this message."))
    server = SmtpServer.model_validate(current_app.config["WEB_SMTP"])
    send_message(server, message, [to], timeout=float(current_app.config.get("WEB_SMTP_TIMEOUT", 20)))
