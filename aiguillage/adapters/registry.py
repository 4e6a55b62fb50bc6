"""Adapters by channel name, so a worker turns a route's channel into an adapter without knowing the modules.

Built-in adapters are named by import path and imported on first use: a
worker that only e-mails never imports asyncssh or pypdfium2.
"""

from __future__ import annotations

import importlib
from typing import Any

from aiguillage.adapters.base import Adapter, AdapterConfig

_BUILTIN: dict[str, str] = {
    "peppol": "aiguillage.adapters.peppol:PeppolAdapter",
    "edi": "aiguillage.adapters.edi:EdiAdapter",
    "email": "aiguillage.adapters.email:EmailAdapter",
    "print": "aiguillage.adapters.print:PrintAdapter",
    "fax": "aiguillage.adapters.fax:FaxAdapter",
    "portal": "aiguillage.adapters.portal:PortalAdapter",
    "pa": "aiguillage.adapters.pa:PaAdapter",
}

_registered: dict[str, type[Adapter]] = {}


def register(cls: type[Adapter]) -> type[Adapter]:
    """Class decorator: make `cls` the adapter for `cls.channel` (replaces a built-in of that name)."""
    _registered[cls.channel] = cls
    return cls


def channels() -> list[str]:
    """Every channel name an adapter exists for."""
    return sorted(set(_BUILTIN) | set(_registered))


def adapter_class(channel: str) -> type[Adapter]:
    """The adapter class for `channel`; `KeyError` names the known channels."""
    if channel in _registered:
        return _registered[channel]
    try:
        target = _BUILTIN[channel]
    except KeyError:
        raise KeyError(f"no adapter for channel {channel!r}; known: {', '.join(channels())}") from None
    module_name, _, class_name = target.partition(":")
    cls = getattr(importlib.import_module(module_name), class_name)
    _registered[channel] = cls
    return cls


def create_adapter(channel: str, config: AdapterConfig | dict[str, Any] | None = None) -> Adapter:
    """An adapter for `channel`, configured from `config` or, when None, from the environment."""
    return adapter_class(channel)(config)
