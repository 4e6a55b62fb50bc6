"""EDI adapter: INVOIC D.96A parsed back with pydifact, delivered to a real SFTP server on loopback and to a folder."""

from __future__ import annotations

import socket
import threading
import warnings
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from pydifact.segmentcollection import Interchange
from test_adapter_helpers import sample_invoice

from aiguillage.adapters import (
    ChannelSettings,
    Delivery,
    DeliveryStatus,
    PermanentDeliveryError,
    Route,
    TemporaryDeliveryError,
)
from aiguillage.adapters.edi import EdiAdapter
from aiguillage.adapters.edifact import control_reference
from aiguillage.adapters.testing.sftp_server import LoopbackSftpServer

SELLER_GLN, BUYER_GLN, DELIVERY_GLN = "3012345000010", "3098765000017", "3098765000024"


def delivery(key: str = "dlv-edi-1", **settings: object) -> Delivery:
    values = {"edi_partner_id": BUYER_GLN, **settings}
    return Delivery(delivery_key=key, invoice=sample_invoice(), route=Route(channel="edi", format="edifact"),
                    settings=ChannelSettings(**values), created_at=datetime(2026, 11, 20, 9, 30, tzinfo=UTC))


def parse(data: bytes) -> Interchange:
    with warnings.catch_warnings():  # pydifact warns that it has no D.96A directory to validate against
        warnings.simplefilter("ignore")
        return Interchange.from_str(data.decode("latin-1"))


def sftp_adapter(server: LoopbackSftpServer, password: str | None = None, timeout: float = 10) -> EdiAdapter:
    return EdiAdapter({"transport": "sftp", "timeout": timeout, "sftp": {
        "host": "127.0.0.1", "port": server.port, "username": server.username,
        "password": password or server.password, "host_key": server.host_key, "remote_dir": "/inbound"}})


def money(segment: object) -> tuple[str, Decimal]:
    qualifier, amount = segment.elements[0][:2]
    return qualifier, Decimal(amount)


def test_interchange_has_envelope_parties_lines_and_totals(tmp_path: Path) -> None:
    [document] = EdiAdapter({"folder": tmp_path}).render(delivery())
    text = document.content.decode("latin-1")
    assert text.startswith("UNA:+.? 'UNB+UNOC:3+")
    interchange = parse(document.content)
    assert interchange.sender == [SELLER_GLN, "14"]
    assert interchange.recipient == [BUYER_GLN, "14"]
    assert interchange.control_reference == control_reference("dlv-edi-1")
    assert interchange.timestamp == datetime(2026, 11, 20, 9, 30)
    [message] = list(interchange.get_messages())
    assert message.identifier == ["INVOIC", "D", "96A", "UN", "EAN008"]
    segments = message.segments
    assert segments[0].tag == "BGM" and segments[0].elements == ["380", "F2026-0042", "9"]
    nads = {s.elements[0]: s for s in segments if s.tag == "NAD"}
    assert nads["SE"].elements[1] == [SELLER_GLN, "", "9"]
    assert nads["BY"].elements[1] == [BUYER_GLN, "", "9"]
    assert nads["DP"].elements[1] == [DELIVERY_GLN, "", "9"]
    assert nads["SE"].elements[3] == "Atelier Lumière SAS" and nads["BY"].elements[8] == "FR"
    assert ["VA", "FR61521987654"] in [s.elements[0] for s in segments if s.tag == "RFF"]
    assert ["ON", "PO-204518"] in [s.elements[0] for s in segments if s.tag == "RFF"]
    assert next(s for s in segments if s.tag == "CUX").elements[0] == ["2", "EUR", "4"]
    assert next(s for s in segments if s.tag == "DTM").elements[0] == ["137", "20261120", "102"]
    # lines
    lins = [s for s in segments if s.tag == "LIN"]
    assert [s.elements[0] for s in lins] == ["1", "2", "3"]
    assert lins[0].elements[2] == ["03012345000102", "SRV"]
    assert [s.elements[2][3] for s in segments if s.tag == "IMD"] == [
        "Lampe de bureau Orsay", "Ampoule LED E27 806 lm", "Livre « Éclairer un intérieur »"]
    assert [s.elements[0] for s in segments if s.tag == "QTY"] == [["47", "10", "H87"], ["47", "4", "H87"], ["47", "2", "H87"]]
    assert [money(s) for s in segments if s.tag == "MOA" and s.elements[0][0] == "203"] == [
        ("203", Decimal("450.00")), ("203", Decimal("30.00")), ("203", Decimal("50.00"))]
    assert [s.elements[0] for s in segments if s.tag == "PRI"] == [["AAA", "45.00"], ["AAB", "50.00"], ["AAA", "7.50"], ["AAA", "25.00"]]
    # document charge, then summary after UNS
    alc = next(s for s in segments if s.tag == "ALC")
    assert alc.elements[0] == "C" and alc.elements[4] == ["FC", "", "", "Transport"]
    uns = next(i for i, s in enumerate(segments) if s.tag == "UNS")
    summary = dict(money(s) for s in segments[uns:] if s.tag == "MOA" and s.elements[0][0] in {"79", "259", "125", "176", "77", "9"}
                   and segments[segments.index(s) - 1].tag != "TAX")
    assert summary == {"79": Decimal("530.00"), "259": Decimal("20.00"), "125": Decimal("550.00"),
                       "176": Decimal("102.75"), "77": Decimal("652.75"), "9": Decimal("652.75")}
    rates = [s.elements[4][3] for s in segments[uns:] if s.tag == "TAX"]
    assert rates == ["20", "5.5"]
    assert next(s for s in segments if s.tag == "CNT").elements[0] == ["2", "3"]


def test_control_counts_in_unt_and_unz(tmp_path: Path) -> None:
    [document] = EdiAdapter({"folder": tmp_path}).render(delivery())
    interchange = parse(document.content)
    unh = next(i for i, s in enumerate(interchange.segments) if s.tag == "UNH")
    unt = next(i for i, s in enumerate(interchange.segments) if s.tag == "UNT")
    assert interchange.segments[unt].elements == [str(unt - unh + 1), "1"]
    unz = document.content.decode("latin-1").rstrip("'").rsplit("'", 1)[-1]
    assert unz == f"UNZ+1+{control_reference('dlv-edi-1')}"


def test_escaping_survives_the_round_trip(tmp_path: Path) -> None:
    d = delivery()
    d.invoice.buyer.name = "O'Neil + Fils: ?quoi"
    [document] = EdiAdapter({"folder": tmp_path}).render(d)
    nad = next(s for s in parse(document.content).segments if s.tag == "NAD" and s.elements[0] == "BY")
    assert nad.elements[3] == "O'Neil + Fils: ?quoi"


def test_same_delivery_key_same_reference_and_bytes(tmp_path: Path) -> None:
    edi = EdiAdapter({"folder": tmp_path})
    first, second = edi.render(delivery("k")), edi.render(delivery("k"))
    assert first[0].content == second[0].content and first[0].filename == second[0].filename
    assert edi.render(delivery("other"))[0].filename != first[0].filename


def test_reference_from_the_route_is_checked(tmp_path: Path) -> None:
    d = delivery()
    d.route.params["interchange_reference"] = "000042"
    assert parse(EdiAdapter({"folder": tmp_path}).render(d)[0].content).control_reference == "000042"
    d.route.params["interchange_reference"] = "far-too-long-reference"
    with pytest.raises(PermanentDeliveryError, match="1-14"):
        EdiAdapter({"folder": tmp_path}).render(d)


def test_missing_partner_id_is_permanent(tmp_path: Path) -> None:
    with pytest.raises(PermanentDeliveryError, match="partner id"):
        EdiAdapter({"folder": tmp_path}).render(delivery(edi_partner_id=None))


def test_folder_transport_writes_atomically_once(tmp_path: Path) -> None:
    edi = EdiAdapter({"transport": "folder", "folder": tmp_path / "out"})
    result = edi.deliver(delivery(edi_path="acme"))
    assert result.status is DeliveryStatus.QUEUED
    files = list((tmp_path / "out" / "acme").iterdir())
    assert [f.name for f in files] == [Path(result.delivery_id).name]  # no temp file left behind
    assert parse(files[0].read_bytes()).recipient == [BUYER_GLN, "14"]
    again = edi.deliver(delivery(edi_path="acme"))
    assert again.status is DeliveryStatus.DUPLICATE
    assert len(list((tmp_path / "out" / "acme").iterdir())) == 1


def test_folder_path_cannot_escape(tmp_path: Path) -> None:
    with pytest.raises(PermanentDeliveryError, match="inside"):
        EdiAdapter({"folder": tmp_path}).deliver(delivery(edi_path="../elsewhere"))


def test_sftp_delivery_to_a_real_server(tmp_path: Path) -> None:
    (tmp_path / "sftp" / "inbound").mkdir(parents=True)
    with LoopbackSftpServer(tmp_path / "sftp") as server:
        result = sftp_adapter(server).deliver(delivery())
        assert result.status is DeliveryStatus.DELIVERED
        assert server.logins == ["edi"]
        [received] = list((tmp_path / "sftp" / "inbound").iterdir())
        assert result.delivery_id.endswith("/inbound/" + received.name)
        interchange = parse(received.read_bytes())
        assert interchange.sender == [SELLER_GLN, "14"]
        [message] = list(interchange.get_messages())
        assert any(s.tag == "MOA" and s.elements[0] == ["77", "652.75"] for s in message.segments)
        # a re-send finds the file and sends nothing
        assert sftp_adapter(server).deliver(delivery()).status is DeliveryStatus.DUPLICATE
        assert len(list((tmp_path / "sftp" / "inbound").iterdir())) == 1


def test_sftp_partner_subfolder(tmp_path: Path) -> None:
    (tmp_path / "sftp" / "inbound" / "acme").mkdir(parents=True)
    with LoopbackSftpServer(tmp_path / "sftp") as server:
        sftp_adapter(server).deliver(delivery(edi_path="acme"))
    assert len(list((tmp_path / "sftp" / "inbound" / "acme").iterdir())) == 1


def test_sftp_wrong_password_is_permanent(tmp_path: Path) -> None:
    with LoopbackSftpServer(tmp_path / "sftp") as server, pytest.raises(PermanentDeliveryError, match="login refused"):
        sftp_adapter(server, password="wrong").deliver(delivery())


def test_sftp_unknown_host_key_is_permanent(tmp_path: Path) -> None:
    with LoopbackSftpServer(tmp_path / "sftp") as server, LoopbackSftpServer(tmp_path / "other") as impostor:
        edi = sftp_adapter(server)
        edi.config.sftp.host_key = impostor.host_key
        with pytest.raises(PermanentDeliveryError, match="host key"):
            edi.deliver(delivery())


def test_sftp_missing_folder_is_permanent(tmp_path: Path) -> None:
    with LoopbackSftpServer(tmp_path / "sftp") as server, pytest.raises(PermanentDeliveryError):
        sftp_adapter(server).deliver(delivery())  # /inbound does not exist


def test_sftp_connection_refused_is_temporary() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    edi = EdiAdapter({"transport": "sftp", "timeout": 3, "sftp": {"port": port, "password": "x", "host_key": None}})
    with pytest.raises(TemporaryDeliveryError, match="cannot connect"):
        edi.deliver(delivery())


def test_sftp_server_that_never_answers_times_out(tmp_path: Path) -> None:
    with socket.socket() as silent:  # accepts TCP, never says its SSH banner
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)
        edi = EdiAdapter({"transport": "sftp", "timeout": 0.5,
                          "sftp": {"port": silent.getsockname()[1], "password": "x"}})
        with pytest.raises(TemporaryDeliveryError):
            edi.deliver(delivery())


def test_sftp_fails_then_recovers(tmp_path: Path) -> None:
    (tmp_path / "sftp" / "inbound").mkdir(parents=True)
    with LoopbackSftpServer(tmp_path / "sftp", fail_opens=1) as server:
        edi = sftp_adapter(server)
        with pytest.raises(TemporaryDeliveryError, match="disk busy"):
            edi.deliver(delivery())
        assert edi.deliver(delivery()).status is DeliveryStatus.DELIVERED
    assert [p.name for p in (tmp_path / "sftp" / "inbound").iterdir() if not p.name.startswith(".")]


def test_sftp_from_a_thread_with_a_running_loop(tmp_path: Path) -> None:
    import asyncio

    (tmp_path / "sftp" / "inbound").mkdir(parents=True)
    with LoopbackSftpServer(tmp_path / "sftp") as server:
        edi = sftp_adapter(server)

        async def inside_a_loop() -> DeliveryStatus:
            return edi.deliver(delivery()).status

        box: list[DeliveryStatus] = []
        thread = threading.Thread(target=lambda: box.append(asyncio.run(inside_a_loop())))
        thread.start()
        thread.join(30)
        assert box == [DeliveryStatus.DELIVERED]
