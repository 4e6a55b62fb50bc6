"""Send one e-mail over SMTP (STARTTLS, login) and sort failures into retry or dead-letter.

Shared by the e-mail channel and the fax channel's e-mail-to-fax gateway.
SMTP says itself what is temporary: 4xx replies are, 5xx are not. Refused
or dropped connections and timeouts are temporary; refused credentials and
an untrusted certificate are permanent (an operator has to fix them).
"""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from aiguillage.adapters.base import DeliveryError, PermanentDeliveryError, TemporaryDeliveryError


class SmtpServer(BaseModel):
    """Where and how to submit mail (a relay or the gateway's submission port)."""

    model_config = ConfigDict(extra="forbid")

    host: str = "127.0.0.1"
    port: int = Field(default=587, ge=1, le=65535)
    starttls: bool = Field(default=True, description="Upgrade with STARTTLS; refuse to send if not offered")
    implicit_tls: bool = Field(default=False, description="TLS from the first byte (port 465)")
    username: str | None = None
    password: SecretStr | None = None
    ca_file: str | None = Field(default=None, description="CA bundle (or self-signed cert) to trust")
    verify: bool = Field(default=True, description="Check the server certificate and host name")
    local_hostname: str | None = Field(default=None, description="Name given in EHLO")


class _CaptureReply:
    """Keeps the reply to DATA: it usually carries the server's queue id, our evidence of hand-over."""

    data_reply: tuple[int, bytes] | None = None

    def data(self, msg):  # noqa: ANN001, ANN201 - smtplib's own signature
        reply = super().data(msg)  # type: ignore[misc]
        self.data_reply = reply
        return reply


class _Smtp(_CaptureReply, smtplib.SMTP):
    pass


class _SmtpTls(_CaptureReply, smtplib.SMTP_SSL):
    pass


def _tls_context(server: SmtpServer) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=server.ca_file)
    if not server.verify:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


def _by_code(code: int, message: str, detail: str) -> DeliveryError:
    if 400 <= code < 500:
        return TemporaryDeliveryError(message, detail=detail)
    return PermanentDeliveryError(message, detail=detail)


def _reply(raw: bytes | str) -> str:
    return raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)


def send_message(server: SmtpServer, message: EmailMessage, recipients: list[str], *, timeout: float) -> str:
    """Submit `message` to `recipients`; returns the server's final reply, raises a typed error otherwise."""
    where = f"SMTP {server.host}:{server.port}"
    try:
        if server.implicit_tls:
            client: _Smtp | _SmtpTls = _SmtpTls(server.host, server.port, timeout=timeout,
                                                    local_hostname=server.local_hostname,
                                                    context=_tls_context(server))
        else:
            client = _Smtp(server.host, server.port, timeout=timeout, local_hostname=server.local_hostname)
        with client:
            client.ehlo()
            if server.starttls and not server.implicit_tls:
                if not client.has_extn("starttls"):
                    raise PermanentDeliveryError(f"{where} does not offer STARTTLS; refusing to send in clear")
                client.starttls(context=_tls_context(server))
                client.ehlo()
            if server.username:
                password = server.password.get_secret_value() if server.password else ""
                client.login(server.username, password)
            refused = client.send_message(message, to_addrs=recipients)
            if refused:  # some but not all recipients refused: the message went, note who did not get it
                return "accepted except " + ", ".join(f"{rcpt} ({code} {_reply(text)})"
                                                       for rcpt, (code, text) in refused.items())
            code, text = client.data_reply or (250, b"")
            return f"{code} {_reply(text)}"
    except DeliveryError:
        raise
    except smtplib.SMTPAuthenticationError as exc:
        raise PermanentDeliveryError(f"{where} refused the credentials", detail=_reply(exc.smtp_error)) from exc
    except smtplib.SMTPRecipientsRefused as exc:
        codes = [code for code, _ in exc.recipients.values()]
        detail = "; ".join(f"{rcpt}: {code} {_reply(text)}" for rcpt, (code, text) in exc.recipients.items())
        if all(400 <= code < 500 for code in codes):
            raise TemporaryDeliveryError(f"{where} refused every recipient for now", detail=detail) from exc
        raise PermanentDeliveryError(f"{where} refused the recipients", detail=detail) from exc
    except smtplib.SMTPResponseException as exc:  # sender refused, data refused, other replies
        raise _by_code(exc.smtp_code, f"{where} answered {exc.smtp_code}", _reply(exc.smtp_error)) from exc
    except smtplib.SMTPNotSupportedError as exc:
        raise PermanentDeliveryError(f"{where}: {exc}") from exc
    except ssl.SSLCertVerificationError as exc:
        raise PermanentDeliveryError(f"{where}: TLS certificate not trusted: {exc.verify_message}") from exc
    except TimeoutError as exc:
        raise TemporaryDeliveryError(f"{where}: no answer within {timeout:g} s") from exc
    except (smtplib.SMTPException, OSError) as exc:  # refused, reset, server disconnected, TLS failure
        raise TemporaryDeliveryError(f"{where}: {type(exc).__name__}: {exc}") from exc
