"""E-mail adapter against a real SMTP server on loopback (aiosmtpd, STARTTLS, AUTH): message, bodies, attachments, failures."""

from __future__ import annotations

import io
import socket
from datetime import UTC, datetime
from pathlib import Path

import pytest
from lxml import etree
from pypdf import PdfReader
from test_adapter_helpers import make_renderer, sample_invoice

from aiguillage.adapters import (
    ChannelSettings,
    Delivery,
    DeliveryStatus,
    PermanentDeliveryError,
    Route,
    TemporaryDeliveryError,
)
from aiguillage.adapters.email import EmailAdapter
from aiguillage.adapters.testing.smtp_server import LoopbackSmtpServer


def delivery(key: str = "dlv-mail-1", route_format: str | None = None, params: dict | None = None,
             **settings: object) -> Delivery:
    values = {"email": "ap@acme-retail.example", **settings}
    return Delivery(delivery_key=key, invoice=sample_invoice(),
                    route=Route(channel="email", format=route_format, params=params or {}),
                    settings=ChannelSettings(**values), created_at=datetime(2026, 11, 20, 9, 30, tzinfo=UTC))


def adapter(server: LoopbackSmtpServer | None, *, port: int | None = None, user: str = "aiguillage",
            password: str = "secret", timeout: float = 10, **extra: object) -> EmailAdapter:
    smtp = {"host": "127.0.0.1", "port": port or server.port, "username": user, "password": password,
            "ca_file": str(server.cert) if server else None}
    return EmailAdapter({"smtp": smtp, "from_address": "factures@atelier-lumiere.example", "timeout": timeout,
                         **extra}, renderer=make_renderer())


def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def test_message_with_starttls_auth_bodies_and_attachments(tmp_path: Path) -> None:
    with LoopbackSmtpServer(tmp_path) as server:
        d = delivery(email_cc=["compta@acme-retail.example"], attachment_formats=["pdf", "cii"])
        result = adapter(server).deliver(d)
        [mail] = server.received
    assert result.status is DeliveryStatus.DELIVERED and result.channel == "email"
    assert "queued as Q0001" in result.receipt
    assert mail.tls and mail.authenticated_as == "aiguillage"
    assert mail.mail_from == "factures@atelier-lumiere.example"
    assert sorted(mail.rcpt_tos) == ["ap@acme-retail.example", "compta@acme-retail.example"]
    message = mail.message
    assert message["Message-ID"] == result.delivery_id
    assert message["Subject"] == "Invoice F2026-0042 from Atelier Lumière"
    assert message["To"] == "ap@acme-retail.example" and message["Cc"] == "compta@acme-retail.example"
    assert "Atelier Lumière SAS" in message["From"]
    assert message["X-Aiguillage-Delivery-Key"] == "dlv-mail-1"
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert "invoice F2026-0042 of 2026-11-20 for 652.75 EUR" in text
    assert "FR7630006000011234567890189" in text
    assert "<p>" in html and "652.75 EUR" in html
    attachments = {part.get_filename(): part for part in message.iter_attachments()}
    assert list(attachments) == ["F2026-0042.pdf", "F2026-0042-cii.xml"]
    assert attachments["F2026-0042.pdf"].get_content_type() == "application/pdf"
    assert "F2026-0042" in pdf_text(attachments["F2026-0042.pdf"].get_content())
    cii = etree.fromstring(attachments["F2026-0042-cii.xml"].get_content())
    assert cii.tag.endswith("CrossIndustryInvoice")
    assert "F2026-0042" in etree.tostring(cii).decode()


def test_french_customer_gets_french_bodies(tmp_path: Path) -> None:
    with LoopbackSmtpServer(tmp_path) as server:
        adapter(server).deliver(delivery(language="fr"))
        message = server.received[0].message
    assert message["Subject"] == "Facture F2026-0042 de Atelier Lumière"
    assert message.get_body(("plain",))["Content-Language"] == "fr"
    text = message.get_body(("plain",)).get_content()
    assert "Veuillez trouver ci-joint notre facture F2026-0042 du 20/11/2026" in text
    assert "652,75 EUR" in text and "Échéance de paiement : 20/12/2026" in text
    assert "<p>Veuillez trouver ci-joint notre facture F2026-0042 du 20/11/2026, d'un montant de 652,75" in \
        message.get_body(("html",)).get_content()


def test_route_format_and_recipient_win_over_the_profile(tmp_path: Path) -> None:
    with LoopbackSmtpServer(tmp_path) as server:
        d = delivery(route_format="factur-x", params={"to": "invoices@acme.example"}, attachment_formats=["ubl"])
        adapter(server).deliver(d)
        [mail] = server.received
    assert mail.rcpt_tos == ["invoices@acme.example"]
    [attachment] = list(mail.message.iter_attachments())
    assert attachment.get_filename() == "F2026-0042-facturx.pdf"
    assert attachment.get_content().startswith(b"%PDF")


def test_message_id_is_the_same_on_a_resend(tmp_path: Path) -> None:
    with LoopbackSmtpServer(tmp_path) as server:
        email = adapter(server)
        first = email.deliver(delivery("same-key"))
        second = email.deliver(delivery("same-key"))
        other = email.deliver(delivery("other-key"))
        ids = [mail.message["Message-ID"] for mail in server.received]
    assert first.delivery_id == second.delivery_id == ids[0] == ids[1] != ids[2] == other.delivery_id
    assert ids[0].endswith("@atelier-lumiere.example>")


def test_refused_credentials_are_permanent(tmp_path: Path) -> None:
    with LoopbackSmtpServer(tmp_path) as server, pytest.raises(PermanentDeliveryError, match="credentials"):
        adapter(server, password="wrong").deliver(delivery())
    assert not server.received and set(server.auth_attempts) == {"aiguillage"}  # tried PLAIN, then LOGIN


def test_untrusted_certificate_is_permanent(tmp_path: Path) -> None:
    with LoopbackSmtpServer(tmp_path) as server:
        email = adapter(server)
        email.config.smtp.ca_file = None  # the system store does not know the self-signed cert
        with pytest.raises(PermanentDeliveryError, match="certificate"):
            email.deliver(delivery())


def test_no_starttls_offered_refuses_to_send_in_clear(tmp_path: Path) -> None:
    with LoopbackSmtpServer(tmp_path, tls=False) as server, pytest.raises(PermanentDeliveryError, match="STARTTLS"):
        adapter(server).deliver(delivery())
    assert not server.received


def test_connection_refused_is_temporary() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(TemporaryDeliveryError):
        adapter(None, port=port, timeout=2).deliver(delivery())


def test_silent_server_times_out_as_temporary() -> None:
    with socket.socket() as silent:  # accepts the connection, never greets
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)
        with pytest.raises(TemporaryDeliveryError, match="no answer|timed out"):
            adapter(None, port=silent.getsockname()[1], timeout=0.5).deliver(delivery())


def test_mailbox_busy_then_accepted(tmp_path: Path) -> None:
    with LoopbackSmtpServer(tmp_path, reject_rcpt=(450, "mailbox busy"), failures=1) as server:
        email = adapter(server)
        with pytest.raises(TemporaryDeliveryError) as caught:
            email.deliver(delivery())
        assert "450" in caught.value.detail
        assert email.deliver(delivery()).status is DeliveryStatus.DELIVERED
        assert len(server.received) == 1


def test_unknown_mailbox_is_permanent(tmp_path: Path) -> None:
    with LoopbackSmtpServer(tmp_path, reject_rcpt=(550, "no such user"), failures=5) as server, \
            pytest.raises(PermanentDeliveryError, match="refused the recipients"):
        adapter(server).deliver(delivery())


def test_data_refused_temporarily_is_temporary(tmp_path: Path) -> None:
    with LoopbackSmtpServer(tmp_path, fail_data=(451, "try again later"), failures=1) as server:
        email = adapter(server)
        with pytest.raises(TemporaryDeliveryError, match="451"):
            email.deliver(delivery())
        assert email.deliver(delivery()).status is DeliveryStatus.DELIVERED


def test_no_address_and_bad_address_are_permanent(tmp_path: Path) -> None:
    email = EmailAdapter({}, renderer=make_renderer())
    with pytest.raises(PermanentDeliveryError, match="no e-mail address"):
        email.render(delivery(email=None)) and email.recipients(delivery(email=None))
    with pytest.raises(PermanentDeliveryError, match="not an e-mail address"):
        email.recipients(delivery(email="ap at acme"))


def test_unknown_attachment_format_is_permanent() -> None:
    with pytest.raises(PermanentDeliveryError, match="cannot attach"):
        EmailAdapter({}, renderer=make_renderer()).render(delivery(route_format="docx"))
