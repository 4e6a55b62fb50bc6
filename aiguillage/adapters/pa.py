"""PA: a French invoice handed to the supplier's approved platform through the Flow service (XP Z12-013).

The invoice goes as UBL, CII or Factur-X (the route's format; CII unless
told), `POST /v1/flows` with a `flowInfo` naming its syntax, profile and a
`trackingId` (our invoice id, so a re-send after a lost answer is the same
flow at the PA and a status can be tied back to the invoice). The PA's
`flowId` becomes the delivery id. What happens next (acknowledgement,
lifecycle statuses) comes back by webhook or polling (`fr.tracking`).

Each tenant has its own PA account (URL, token): `accounts` resolves it by
tenant (the worker gives the store's), else the deployment's configuration
(env `AIGUILLAGE_PA_*`) serves every tenant. Tokens are `SecretStr` and
never appear in results, errors or logs.
"""

from __future__ import annotations

import hashlib
from typing import Any, Protocol

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from aiguillage.adapters.base import (
    Adapter,
    AdapterConfig,
    Delivery,
    DeliveryResult,
    DeliveryStatus,
    PermanentDeliveryError,
    RenderedDocument,
)
from aiguillage.adapters.flowapi import FlowService

#: Route format → (document format of the renderer, the Flow API's flowSyntax).
_FORMATS: dict[str, tuple[str, str]] = {
    "cii": ("cii", "CII"),
    "ubl": ("ubl", "UBL"),
    "factur-x": ("facturx", "Factur-X"),
    "facturx": ("facturx", "Factur-X"),
}


class PaConfig(AdapterConfig):
    """The deployment's default PA account (env `AIGUILLAGE_PA_*`); tenants' own accounts win."""

    model_config = SettingsConfigDict(env_prefix="AIGUILLAGE_PA_")

    base_url: str | None = Field(default=None, description="The Flow service, up to (not including) /v1")
    token: SecretStr | None = Field(default=None, description="Bearer token (JWT or OAuth2 access token)")
    organization_id: str | None = Field(default=None, description="Organization-Id header, when the PA wants it")
    default_format: str = Field(default="cii", description="Syntax when the route names none: cii, ubl, factur-x")
    flow_profile: str = Field(default="CIUS", description="flowProfile: Basic, CIUS or Extended-CTC-FR")


class PaAccounts(Protocol):
    """Per-tenant PA accounts, and where the adapter reports each flow it created."""

    def service(self, tenant_id: str) -> FlowService | None: ...

    def flow_submitted(self, tenant_id: str, invoice_id: str | None, flow: dict[str, Any]) -> None: ...


class PaAdapter(Adapter):
    """Submits the invoice as one flow and keeps the PA's flow id."""

    channel = "pa"
    config_class = PaConfig
    config: PaConfig
    #: Set by the worker (`dispatch.channels`) to the store's accounts; None = the configuration only.
    accounts: PaAccounts | None = None

    def _service(self, delivery: Delivery) -> FlowService:
        if self.accounts is not None and delivery.tenant_id:
            service = self.accounts.service(delivery.tenant_id)
            if service is not None:
                return service
        if self.config.base_url and self.config.token:
            return FlowService(self.config.base_url, self.config.token.get_secret_value(), self.config.timeout,
                               self.config.organization_id)
        raise PermanentDeliveryError("no PA account: set the tenant's PA account (aiguillage pa account) "
                                     "or AIGUILLAGE_PA_BASE_URL and AIGUILLAGE_PA_TOKEN")

    def render(self, delivery: Delivery) -> list[RenderedDocument]:
        """The invoice in the route's syntax (one file: a flow is a single-invoice file)."""
        route_format = (delivery.route.format or self.config.default_format).lower()
        if route_format not in _FORMATS:
            raise PermanentDeliveryError(f"a PA takes CII, UBL or Factur-X, not {route_format!r}")
        fmt, _ = _FORMATS[route_format]
        document = self.renderer.document(delivery.invoice, fmt, delivery.settings.language)
        return [document]

    def send(self, delivery: Delivery, rendered: list[RenderedDocument]) -> DeliveryResult:
        """POST /v1/flows; the flow id is the delivery id, the PA's FullFlowInfo the receipt."""
        document = rendered[0]
        syntax = {"cii": "CII", "ubl": "UBL", "facturx": "Factur-X"}[document.kind]
        tracking = delivery.invoice_id or delivery.key_digest(64)
        info: dict[str, Any] = {
            "trackingId": tracking[:64],
            "name": document.filename[:255],
            "flowSyntax": syntax,
            "flowProfile": self.config.flow_profile,
            "sha256": hashlib.sha256(document.content).hexdigest(),
        }
        processing_rule = delivery.route.params.get("processing_rule")
        if processing_rule:
            info["processingRule"] = str(processing_rule)
        service = self._service(delivery)
        answer = service.submit(info, document.filename, document.media_type, document.content)
        flow_id = answer.get("flowId")
        if not isinstance(flow_id, str) or not flow_id:
            raise PermanentDeliveryError("the PA accepted the flow but gave no flowId")
        if self.accounts is not None and delivery.tenant_id:
            self.accounts.flow_submitted(delivery.tenant_id, delivery.invoice_id, dict(answer, trackingId=tracking))
        return self.result(delivery, flow_id, DeliveryStatus.QUEUED,
                           f"PA accepted flow {flow_id} ({syntax}); acknowledgement pending",
                           receipt=_receipt(answer))


def _receipt(answer: dict[str, Any]) -> str:
    import json

    return json.dumps({key: answer[key] for key in ("flowId", "submittedAt", "trackingId", "sha256") if key in answer})
