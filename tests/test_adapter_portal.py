"""Portal adapter: publication records and documents through the PortalPublisher protocol (folder implementation)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from test_adapter_helpers import make_renderer, sample_invoice

from aiguillage.adapters import (
    ChannelSettings,
    Delivery,
    DeliveryStatus,
    RenderedDocument,
    Route,
    create_adapter,
)
from aiguillage.adapters.portal import (
    FolderPublisher,
    PortalAdapter,
    PortalPublisher,
    Publication,
    PublishOutcome,
)
from aiguillage.model.jsonio import read_json


def delivery(key: str = "dlv-portal-1", **route_params: object) -> Delivery:
    return Delivery(delivery_key=key, invoice=sample_invoice(), route=Route(channel="portal", params=route_params),
                    settings=ChannelSettings(language="fr"), customer_id="ACME-FR-001", invoice_id="inv-42",
                    created_at=datetime(2026, 11, 20, 9, 30, tzinfo=UTC))


def test_folder_publication_has_record_and_documents(tmp_path: Path) -> None:
    portal = PortalAdapter({"folder": tmp_path, "base_url": "https://portal.example/i/"}, renderer=make_renderer())
    result = portal.deliver(delivery())
    assert result.status is DeliveryStatus.PUBLISHED and result.channel == "portal"
    [folder] = list((tmp_path / "ACME-FR-001").iterdir())
    assert result.delivery_id == f"https://portal.example/i/{folder.name}"
    record = Publication.model_validate_json((folder / "publication.json").read_bytes())
    assert record.invoice_number == "F2026-0042" and record.amount_due == Decimal("652.75")
    assert record.customer_id == "ACME-FR-001" and record.invoice_id == "inv-42" and record.language == "fr"
    assert [d.filename for d in record.documents] == ["F2026-0042.pdf", "F2026-0042.json"]
    assert (folder / "F2026-0042.pdf").read_bytes().startswith(b"%PDF")
    assert read_json((folder / "F2026-0042.json").read_bytes()).number == "F2026-0042"
    assert record.documents[0].size == (folder / "F2026-0042.pdf").stat().st_size
    assert not [p for p in (tmp_path / "ACME-FR-001").iterdir() if p.name.endswith(".part")]


def test_publishing_twice_is_a_duplicate(tmp_path: Path) -> None:
    portal = PortalAdapter({"folder": tmp_path}, renderer=make_renderer())
    first = portal.deliver(delivery("same"))
    second = portal.deliver(delivery("same"))
    assert second.status is DeliveryStatus.DUPLICATE and second.delivery_id == first.delivery_id
    assert len(list((tmp_path / "ACME-FR-001").iterdir())) == 1
    assert portal.deliver(delivery("another")).status is DeliveryStatus.PUBLISHED


def test_interrupted_publication_is_redone(tmp_path: Path) -> None:
    portal = PortalAdapter({"folder": tmp_path}, renderer=make_renderer())
    d = delivery()
    publication_id = portal.publication(d, []).publication_id
    leftover = tmp_path / "ACME-FR-001" / f".{publication_id}.part"
    leftover.mkdir(parents=True)
    (leftover / "half.pdf").write_bytes(b"%PDF-1.7 trunc")
    assert portal.deliver(d).status is DeliveryStatus.PUBLISHED
    assert not leftover.exists()
    assert not (tmp_path / "ACME-FR-001" / publication_id / "half.pdf").exists()


def test_route_can_choose_the_documents(tmp_path: Path) -> None:
    portal = PortalAdapter({"folder": tmp_path}, renderer=make_renderer())
    portal.deliver(delivery(formats=["ubl"]))
    [folder] = list((tmp_path / "ACME-FR-001").iterdir())
    assert sorted(p.name for p in folder.iterdir()) == ["F2026-0042-ubl.xml", "publication.json"]


class MemoryPublisher:
    """Another implementation of the protocol, as the store's will be."""

    def __init__(self) -> None:
        self.records: dict[str, tuple[Publication, list[RenderedDocument]]] = {}

    def publish(self, publication: Publication, documents: list[RenderedDocument]) -> PublishOutcome:
        created = publication.publication_id not in self.records
        self.records.setdefault(publication.publication_id, (publication, documents))
        return PublishOutcome(publication_id=publication.publication_id, location="memory", created=created)


def test_any_publisher_implementing_the_protocol() -> None:
    publisher = MemoryPublisher()
    assert isinstance(publisher, PortalPublisher) and isinstance(FolderPublisher(Path(".")), PortalPublisher)
    portal = PortalAdapter({}, publisher=publisher, renderer=make_renderer())
    result = portal.deliver(delivery())
    [(record, documents)] = publisher.records.values()
    assert result.delivery_id == record.publication_id
    assert json.loads(result.receipt) == {"location": "memory"}
    assert [d.kind for d in documents] == ["pdf", "json"]


def test_registry_knows_the_portal(tmp_path: Path) -> None:
    assert isinstance(create_adapter("portal", {"folder": str(tmp_path)}), PortalAdapter)
