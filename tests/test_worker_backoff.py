"""Pure parts of the dispatch: the retry policy (exponential, capped, jittered, limited) and the
outbox destination turned into an adapter's route and channel settings."""

from __future__ import annotations

import random
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from worker_helpers import SAMPLE

from aiguillage.adapters.base import ChannelSettings, PermanentDeliveryError, Route
from aiguillage.dispatch.backoff import RetryPolicy
from aiguillage.dispatch.destination import (
    build_delivery,
    destination_document,
    settings_from_customer,
)
from aiguillage.model.jsonio import read_json
from aiguillage.store.models import Customer
from aiguillage.store.repositories.claims import Claim

NOW = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)


def test_delays_double_up_to_the_cap_without_jitter():
    policy = RetryPolicy(base=timedelta(seconds=30), max_delay=timedelta(minutes=10), max_attempts=8, jitter=0)
    assert [policy.delay(n).total_seconds() for n in range(1, 8)] == [30, 60, 120, 240, 480, 600, 600]
    assert policy.next_attempt(2, NOW) == NOW + timedelta(seconds=60)
    assert policy.delay(10_000) == timedelta(minutes=10)  # no overflow however many attempts
    assert [policy.gives_up_after(n) for n in (7, 8, 9)] == [False, True, True]


def test_jitter_only_shortens_within_its_fraction_and_is_reproducible_with_a_seed():
    delays = [RetryPolicy(jitter=0.25, rng=random.Random(seed)).delay(3) for seed in range(200)]
    assert all(timedelta(seconds=90) <= d <= timedelta(seconds=120) for d in delays)
    assert len(set(delays)) > 150  # spread out, not all at the same moment
    assert RetryPolicy(rng=random.Random(1)).delay(2) == RetryPolicy(rng=random.Random(1)).delay(2)


@pytest.mark.parametrize("changes", [
    {"base": timedelta(0)}, {"base": timedelta(minutes=5), "max_delay": timedelta(minutes=1)},
    {"max_attempts": 0}, {"jitter": 1.5},
])
def test_nonsense_policies_are_refused(changes):
    with pytest.raises(ValueError):
        RetryPolicy(**changes)


def _claim(destination: dict) -> Claim:
    return Claim(entry_id=uuid.uuid4(), tenant_id=uuid.uuid4(), invoice_id=uuid.uuid4(), token=uuid.uuid4(),
                 attempt=1, round_attempt=1, channel="email", format="factur-x", destination=destination,
                 delivery_key="inv-1:email", created_at=NOW, claimed_until=NOW)


def test_a_destination_round_trips_into_the_adapters_delivery():
    settings = ChannelSettings(email="ap@acme.example", language="fr")
    document = destination_document({"channel": "email", "to": "boss@acme.example", "params": {"cc": 1},
                                     "source": "route line 3"}, settings)
    assert document == {"to": "boss@acme.example", "params": {"cc": 1}, "settings": settings.model_dump(mode="json")}
    invoice = read_json(SAMPLE.read_bytes())
    delivery = build_delivery(_claim(document), invoice, invoice_id="i-1", customer_code="ACME", customer=None)
    assert delivery.route == Route(channel="email", format="factur-x", to="boss@acme.example", params={"cc": 1})
    assert delivery.settings == settings and delivery.created_at == NOW  # the same bytes on every re-send
    assert (delivery.delivery_key, delivery.invoice_id, delivery.customer_id) == ("inv-1:email", "i-1", "ACME")


def test_a_stored_customer_becomes_channel_settings():
    customer = Customer(code="ACME", name="ACME SA", language="fr-BE", email="ap@acme.example",
                        peppol_participant_id="0009:1", edi_partner_id="3098765000017", edi_transport="mailbox",
                        fax_number="+33400000000", preferred_formats=["edifact", "facturx", "ubl"],
                        postal_address={"line_one": "1 place Bellecour", "city": "Lyon", "post_code": "69002",
                                        "country_code": "FR"})
    settings = settings_from_customer(customer)
    assert (settings.email, settings.language, settings.edi_transport, settings.attachment_formats) == (
        "ap@acme.example", "fr-BE", "folder", ["facturx", "ubl"])
    assert settings.postal_address.lines == ["1 place Bellecour"] and settings.postal_address.name == "ACME SA"
    bare = settings_from_customer(Customer(code="X", name="X", language="en", preferred_formats=[]))
    assert bare.attachment_formats == ["pdf"] and bare.edi_transport is None


@pytest.mark.parametrize("destination, message", [
    ({"email": "x@y.example"}, "unknown field"),
    ({"settings": {"email": "x@y.example", "colour": "blue"}}, "not usable"),
])
def test_an_unusable_destination_is_a_permanent_error(destination, message):
    with pytest.raises(PermanentDeliveryError, match=message):
        build_delivery(_claim(destination), read_json(SAMPLE.read_bytes()), invoice_id="i", customer_code=None,
                       customer=None)
