"""Put one file on a partner's SFTP server, atomically and at most once per name.

The file is uploaded under a hidden temporary name and renamed into place,
so the partner's poller never reads half an interchange. A file already
present under the final name means an earlier attempt got through (the name
is derived from the delivery key): nothing is sent twice.

asyncssh is asynchronous; `upload` runs it to completion for the worker,
which is synchronous, in a thread of its own when the caller has a loop.
"""

from __future__ import annotations

import asyncio
import posixpath
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from aiguillage.adapters.base import PermanentDeliveryError, TemporaryDeliveryError

T = TypeVar("T")


class SftpServer(BaseModel):
    """A partner's SFTP server and our account on it."""

    model_config = ConfigDict(extra="forbid")

    host: str = "127.0.0.1"
    port: int = Field(default=22, ge=1, le=65535)
    username: str = "aiguillage"
    password: SecretStr | None = None
    client_key: str | None = Field(default=None, description="Path of our private key, when not a password")
    host_key: str | None = Field(default=None, description="The server's public key, OpenSSH form, to trust")
    known_hosts: str | None = Field(default=None, description="A known_hosts file, when host_key is not given")
    remote_dir: str = "/"


def run_sync(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run `coroutine` to completion from synchronous code, even when this thread already runs a loop."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coroutine)
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["value"] = asyncio.run(coroutine)
        except BaseException as exc:  # handed back to the caller's thread
            box["error"] = exc

    thread = threading.Thread(target=target, name="aiguillage-sftp")
    thread.start()
    thread.join()
    if "error" in box:
        raise box["error"]
    return box["value"]


def _known_hosts(server: SftpServer) -> Any:
    import asyncssh

    if server.host_key:
        return ([asyncssh.import_public_key(server.host_key)], [], [])
    return server.known_hosts or ()  # () = asyncssh's default, ~/.ssh/known_hosts


async def _upload(server: SftpServer, folder: str, name: str, data: bytes, timeout: float) -> bool:
    import asyncssh

    async with asyncssh.connect(
        server.host, server.port, username=server.username,
        password=server.password.get_secret_value() if server.password else None,
        client_keys=[server.client_key] if server.client_key else None,
        agent_path=None, known_hosts=_known_hosts(server), connect_timeout=timeout, login_timeout=timeout,
    ) as connection, connection.start_sftp_client() as sftp:
        final = posixpath.join(folder, name)
        if await sftp.exists(final):
            return False
        temp = posixpath.join(folder, f".{name}.part")
        async with sftp.open(temp, "wb") as handle:
            await handle.write(data)
        try:
            await sftp.posix_rename(temp, final)
        except asyncssh.SFTPOpUnsupported:
            await sftp.rename(temp, final)
        return True


def upload(server: SftpServer, name: str, data: bytes, *, timeout: float, subfolder: str | None = None) -> bool:
    """Upload `data` as `name` into the remote folder; False when it was already there.

    Raises `TemporaryDeliveryError` for what may pass (refused or dropped
    connections, timeouts, server-side failures) and `PermanentDeliveryError`
    for what will not (refused login, unknown host key, no such folder,
    permission denied).
    """
    import asyncssh

    folder = posixpath.join(server.remote_dir, subfolder) if subfolder else server.remote_dir
    where = f"SFTP {server.username}@{server.host}:{server.port}{folder}"

    async def bounded() -> bool:
        return await asyncio.wait_for(_upload(server, folder, name, data, timeout), timeout)

    try:
        return run_sync(bounded())
    except asyncssh.PermissionDenied as exc:
        raise PermanentDeliveryError(f"{where}: login refused", detail=exc.reason) from exc
    except asyncssh.HostKeyNotVerifiable as exc:
        raise PermanentDeliveryError(f"{where}: host key not trusted", detail=exc.reason) from exc
    except (asyncssh.SFTPPermissionDenied, asyncssh.SFTPNoSuchFile, asyncssh.SFTPNoSuchPath,
            asyncssh.SFTPNotADirectory, asyncssh.SFTPWriteProtect) as exc:
        raise PermanentDeliveryError(f"{where}: {exc.reason}", detail=exc.reason) from exc
    except asyncssh.SFTPError as exc:
        raise TemporaryDeliveryError(f"{where}: {exc.reason}", detail=exc.reason) from exc
    except asyncssh.Error as exc:  # disconnects, protocol errors
        raise TemporaryDeliveryError(f"{where}: {exc.reason}", detail=exc.reason) from exc
    except TimeoutError as exc:
        raise TemporaryDeliveryError(f"{where}: no answer within {timeout:g} s") from exc
    except OSError as exc:
        raise TemporaryDeliveryError(f"{where}: cannot connect: {exc}") from exc
