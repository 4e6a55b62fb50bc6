"""The worker's adapters: one per channel, made on first use and kept for the worker's life.

Configuration comes from the environment (`AIGUILLAGE_<CHANNEL>_…`, see
docs/channels.md) unless a dict is given per channel (tests, benchmarks).
Adapters are shared by the worker's threads: each send opens its own
connection, so they hold no per-send state.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from typing import Any

from aiguillage.adapters.base import Adapter
from aiguillage.adapters.registry import create_adapter

#: Makes the adapter for a channel from its configuration (None: from the environment).
AdapterFactory = Callable[[str, dict[str, Any] | None], Adapter]


class AdapterPool:
    """`pool.get("email")` → the worker's e-mail adapter."""

    def __init__(self, configs: Mapping[str, dict[str, Any]] | None = None,
                 factory: AdapterFactory = create_adapter) -> None:
        self._configs = dict(configs or {})
        self._factory = factory
        self._adapters: dict[str, Adapter] = {}
        self._lock = threading.Lock()
        self._sessions: Any = None

    def use_store(self, sessions: Any) -> None:
        """Give adapters with per-tenant accounts in the store (the PA channel) the worker's sessions."""
        self._sessions = sessions

    def get(self, channel: str) -> Adapter:
        """The adapter for `channel`, made now if this is its first delivery."""
        with self._lock:
            adapter = self._adapters.get(channel)
            if adapter is None:
                adapter = self._factory(channel, self._configs.get(channel))
                if channel == "pa" and self._sessions is not None:
                    from aiguillage.fr.accounts import StoreAccounts

                    adapter.accounts = StoreAccounts(self._sessions, adapter.config.timeout)  # type: ignore[attr-defined]
                self._adapters[channel] = adapter
            return adapter

    def idle(self) -> list[str]:
        """Let every adapter made so far finish batched work (print batches); what they did, for the log."""
        with self._lock:
            adapters = list(self._adapters.values())
        done: list[str] = []
        for adapter in adapters:
            done.extend(adapter.idle())
        return done
