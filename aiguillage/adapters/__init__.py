"""Delivery channels: one module per channel behind one small interface (`base.Adapter`)."""

from aiguillage.adapters.base import (
    Adapter,
    AdapterConfig,
    ChannelSettings,
    Delivery,
    DeliveryError,
    DeliveryResult,
    DeliveryStatus,
    PermanentDeliveryError,
    PostalAddress,
    RenderedDocument,
    Route,
    TemporaryDeliveryError,
)
from aiguillage.adapters.registry import adapter_class, channels, create_adapter, register

__all__ = [
    "Adapter",
    "AdapterConfig",
    "ChannelSettings",
    "Delivery",
    "DeliveryError",
    "DeliveryResult",
    "DeliveryStatus",
    "PermanentDeliveryError",
    "PostalAddress",
    "RenderedDocument",
    "Route",
    "TemporaryDeliveryError",
    "adapter_class",
    "channels",
    "create_adapter",
    "register",
]
