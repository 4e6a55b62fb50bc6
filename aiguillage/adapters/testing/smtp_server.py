"""A real SMTP server on loopback (aiosmtpd) with STARTTLS and AUTH LOGIN/PLAIN, keeping what it receives.

Scripted failures let tests see retries: `reject_rcpt` answers RCPT with a
given reply (e.g. "450 mailbox busy") for the first N messages, `fail_data`
does the same at DATA. `hold_replies`, an event, keeps each accepted message
but withholds the 250 until the event is set: the sender has no
acknowledgement for a message the receiver already has, the window in which
a crash or a timeout leads to a re-send.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
import threading
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any


@dataclass
class ReceivedMail:
    """One accepted message: envelope and the parsed message."""

    mail_from: str
    rcpt_tos: list[str]
    content: bytes = field(repr=False)
    authenticated_as: str | None = None
    tls: bool = False

    @property
    def message(self) -> EmailMessage:
        return message_from_bytes(self.content, policy=policy.default)  # type: ignore[return-value]


class LoopbackSmtpServer:
    """`with LoopbackSmtpServer(tmp_path, users={"app": "pw"}) as server:` then submit to server.port, trusting server.cert."""

    def __init__(self, folder: Path, users: dict[str, str] | None = None, *, tls: bool = True,
                 auth_required: bool = True, reject_rcpt: tuple[int, str] | None = None,
                 fail_data: tuple[int, str] | None = None, failures: int = 1,
                 hold_replies: threading.Event | None = None, hold_timeout: float = 60.0) -> None:
        from aiosmtpd.controller import Controller
        from aiosmtpd.smtp import AuthResult, LoginPassword

        from aiguillage.adapters.testing.certs import self_signed

        self.users = dict(users or {"aiguillage": "secret"})
        self.received: list[ReceivedMail] = []
        self.auth_attempts: list[str] = []
        self.reject_rcpt, self.fail_data, self.failures = reject_rcpt, fail_data, failures
        self.hold_replies, self.hold_timeout = hold_replies, hold_timeout
        self.cert, key = self_signed(folder, "smtp")
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.cert, key)
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        # Answer each line at once, as real mail servers do: aiosmtpd writes multi-line replies (EHLO)
        # line by line, and with Nagle's algorithm each such reply stalls ~40 ms on the client's delayed ACK.
        self._sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._sock.bind(("127.0.0.1", 0))
        self.port = self._sock.getsockname()[1]
        owner = self

        def authenticator(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> Any:
            if not isinstance(data, LoginPassword):
                return AuthResult(success=False, handled=False)
            login, password = data.login.decode(), data.password.decode()
            owner.auth_attempts.append(login)
            if owner.users.get(login) != password:
                return AuthResult(success=False, handled=False)  # let aiosmtpd answer 535
            return AuthResult(success=True, auth_data=login)

        class Handler:
            async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str,  # noqa: N802
                                  options: list[str]) -> str:
                if owner.reject_rcpt and owner.failures > 0:
                    owner.failures -= 1
                    return f"{owner.reject_rcpt[0]} {owner.reject_rcpt[1]}"
                envelope.rcpt_tos.append(address)
                return "250 OK"

            async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
                if owner.fail_data and owner.failures > 0:
                    owner.failures -= 1
                    return f"{owner.fail_data[0]} {owner.fail_data[1]}"
                owner.received.append(ReceivedMail(
                    envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content or envelope.content,
                    session.auth_data, session.ssl is not None))
                number = len(owner.received)
                if owner.hold_replies is not None:  # waits off the event loop: other sessions go on
                    await asyncio.to_thread(owner.hold_replies.wait, owner.hold_timeout)
                return f"250 OK queued as Q{number:04d}"

        class BoundController(Controller):
            def _create_server(self) -> Any:  # serve on the socket bound above (port chosen by the OS)
                return self.loop.create_server(self._factory_invoker, sock=owner._sock, ssl=self.ssl_context)

        self._controller = BoundController(
            Handler(), hostname="127.0.0.1", port=self.port, server_hostname="loopback.test",
            tls_context=context if tls else None, require_starttls=tls, auth_required=auth_required and tls,
            auth_require_tls=tls, authenticator=authenticator, decode_data=False, ready_timeout=10,
        )

    def __enter__(self) -> LoopbackSmtpServer:
        self._controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Stop the server thread and release the port."""
        try:
            self._controller.stop(no_assert=True)
        finally:
            self._sock.close()
