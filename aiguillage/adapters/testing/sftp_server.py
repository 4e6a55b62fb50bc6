"""A real SFTP server on loopback (asyncssh): one user, a generated host key, a chrooted folder.

`fail_opens` makes the first N file opens fail with SSH_FX_FAILURE, for
retry-and-recover tests.
"""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path
from typing import Any


class LoopbackSftpServer:
    """`with LoopbackSftpServer(root, "edi", "pw") as server:` then connect to server.port trusting server.host_key."""

    def __init__(self, root: Path, username: str = "edi", password: str = "secret", *, fail_opens: int = 0) -> None:
        import asyncssh

        self.root = Path(root)
        self.username = username
        self.password = password
        self.fail_opens = fail_opens
        self.logins: list[str] = []
        self._key = asyncssh.generate_private_key("ssh-ed25519")
        #: The server's public key in OpenSSH form, to give the client as its trusted host key.
        self.host_key = self._key.export_public_key().decode().strip()
        self.port = 0
        self._loop = asyncio.new_event_loop()
        self._acceptor: Any = None
        self._connections: list[Any] = []
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="loopback-sftp", daemon=True)

    def _take_failure(self) -> bool:
        if self.fail_opens > 0:
            self.fail_opens -= 1
            return True
        return False

    async def _start(self) -> None:
        import asyncssh

        owner = self

        class Server(asyncssh.SSHServer):
            def connection_made(self, conn: Any) -> None:
                owner._connections.append(conn)

            def begin_auth(self, username: str) -> bool:
                return True

            def password_auth_supported(self) -> bool:
                return True

            def validate_password(self, username: str, password: str) -> bool:
                owner.logins.append(username)
                return username == owner.username and password == owner.password

        class Sftp(asyncssh.SFTPServer):
            def __init__(self, chan: Any) -> None:
                super().__init__(chan, chroot=str(owner.root).encode())

            def open(self, path: bytes, pflags: int, attrs: Any) -> Any:
                if owner._take_failure():
                    raise asyncssh.SFTPFailure("scripted failure: disk busy")
                return super().open(path, pflags, attrs)

        self._acceptor = await asyncssh.listen("127.0.0.1", 0, server_host_keys=[self._key],
                                               server_factory=Server, sftp_factory=Sftp, allow_scp=False)
        self.port = self._acceptor.get_port()

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        try:
            self._loop.run_until_complete(self._start())
        except BaseException as exc:
            self._error = exc
            self._ready.set()
            return
        self._ready.set()
        self._loop.run_forever()

    async def _stop(self) -> None:
        if self._acceptor is not None:
            self._acceptor.close()
            await self._acceptor.wait_closed()
        for conn in self._connections:
            conn.close()
        for conn in self._connections:
            await conn.wait_closed()

    def __enter__(self) -> LoopbackSftpServer:
        self.root.mkdir(parents=True, exist_ok=True)
        self._thread.start()
        if not self._ready.wait(10) or self._error:
            self.close()
            raise RuntimeError(f"SFTP server did not start: {self._error}")
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the listener and every connection, stop the loop, join the thread."""
        if self._thread.is_alive():
            if self._ready.is_set() and self._error is None:
                asyncio.run_coroutine_threadsafe(self._stop(), self._loop).result(10)
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10)
        if not self._loop.is_closed() and not self._loop.is_running():
            self._loop.close()
