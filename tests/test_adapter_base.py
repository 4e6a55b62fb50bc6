"""The adapter interface: registry, delivery helpers, configuration from environment, rendering errors, files."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_adapter_helpers import sample_invoice

from aiguillage.adapters import (
    Adapter,
    ChannelSettings,
    Delivery,
    DeliveryResult,
    DeliveryStatus,
    PermanentDeliveryError,
    RenderedDocument,
    Route,
    TemporaryDeliveryError,
    adapter_class,
    channels,
    create_adapter,
    register,
    registry,
)
from aiguillage.adapters.documents import DocumentRenderer
from aiguillage.adapters.files import atomic_create, atomic_write


def delivery(key: str = "tenant-1/invoice 42/email#1") -> Delivery:
    return Delivery(delivery_key=key, invoice=sample_invoice(), route=Route(channel="email"))


def test_every_channel_has_an_adapter_with_its_config() -> None:
    assert channels() == ["edi", "email", "fax", "pa", "peppol", "portal", "print"]
    for channel in channels():
        cls = adapter_class(channel)
        assert issubclass(cls, Adapter) and cls.channel == channel
        assert cls.config_class is not None


def test_unknown_channel_names_the_known_ones() -> None:
    with pytest.raises(KeyError, match="known: edi, email"):
        create_adapter("pigeon")


def test_register_a_custom_adapter(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(registry, "_registered", dict(registry._registered))  # leave no trace for other tests

    @register
    class Pigeon(Adapter):
        channel = "pigeon-test"

        def render(self, delivery: Delivery) -> list[RenderedDocument]:
            return [RenderedDocument(filename="n.txt", media_type="text/plain", content=b"coo", kind="text")]

        def send(self, delivery: Delivery, rendered: list[RenderedDocument]) -> DeliveryResult:
            return self.result(delivery, "p1", DeliveryStatus.DELIVERED, "flew")

    result = create_adapter("pigeon-test", {"timeout": 3}).deliver(delivery())
    assert (result.channel, result.delivery_id, result.status) == ("pigeon-test", "p1", DeliveryStatus.DELIVERED)


def test_nested_configuration_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIGUILLAGE_EMAIL_SMTP__HOST", "smtp.example")
    monkeypatch.setenv("AIGUILLAGE_EMAIL_SMTP__PORT", "2525")
    monkeypatch.setenv("AIGUILLAGE_EMAIL_SMTP__PASSWORD", "pw")
    monkeypatch.setenv("AIGUILLAGE_EMAIL_FROM_ADDRESS", "ar@supplier.example")
    email = create_adapter("email")
    assert (email.config.smtp.host, email.config.smtp.port) == ("smtp.example", 2525)
    assert email.config.smtp.password.get_secret_value() == "pw" and "pw" not in repr(email.config)
    assert email.config.from_address == "ar@supplier.example"


def test_unknown_config_key_is_refused() -> None:
    with pytest.raises(ValueError, match="hostname"):
        create_adapter("peppol", {"hostname": "x"})


def test_delivery_key_helpers_are_stable_and_safe() -> None:
    d = delivery()
    assert d.key_digest() == delivery().key_digest() and len(d.key_digest()) == 32
    safe = d.safe_key()
    assert safe.startswith("tenant-1_invoice_42_email_1-") and all(c.isalnum() or c in "._-" for c in safe)
    assert delivery("plain-key").safe_key() == "plain-key"


def test_route_accepts_the_engine_route_as_is() -> None:
    from aiguillage.engine.decision import Route as EngineRoute

    engine_route = EngineRoute(channel="email", format="factur-x", to="ap@acme.example", params={"x": 1}, source="r3")
    route = Route.model_validate(engine_route.model_dump())
    assert (route.channel, route.format, route.to, route.params) == ("email", "factur-x", "ap@acme.example", {"x": 1})


def test_channel_settings_are_plain_data() -> None:
    settings = ChannelSettings.model_validate({"email": "a@b.example", "language": "fr", "attachment_formats": ["pdf", "ubl"]})
    assert ChannelSettings.model_validate_json(settings.model_dump_json()) == settings
    with pytest.raises(ValueError):
        ChannelSettings.model_validate({"attachment_formats": ["docx"]})


def test_errors_say_whether_to_retry() -> None:
    assert TemporaryDeliveryError("x").temporary and not PermanentDeliveryError("x").temporary
    assert PermanentDeliveryError("refused", detail="550 no such user").detail == "550 no such user"


def test_renderer_turns_writer_failures_into_typed_errors() -> None:
    def broken(invoice: object, fmt: str) -> bytes:
        raise ValueError("no seller")

    def missing(invoice: object, fmt: str) -> bytes:
        raise ImportError("writer not installed")

    with pytest.raises(PermanentDeliveryError, match="no seller"):
        DocumentRenderer(writer=broken).syntax(sample_invoice(), "ubl")
    with pytest.raises(TemporaryDeliveryError, match="not installed"):
        DocumentRenderer(writer=missing).syntax(sample_invoice(), "ubl")
    with pytest.raises(PermanentDeliveryError, match="unknown document format"):
        DocumentRenderer().document(sample_invoice(), "docx")


def test_atomic_files(tmp_path: Path) -> None:
    target = tmp_path / "deep" / "a.txt"
    assert atomic_create(target, b"one") is True
    assert atomic_create(target, b"two") is False and target.read_bytes() == b"one"
    atomic_write(target, b"three")
    assert target.read_bytes() == b"three"
    assert [p.name for p in target.parent.iterdir()] == ["a.txt"]
