"""Customer bodies: identity, language, channel addresses, preferred formats."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from aiguillage.api.schemas.common import PageQuery, Request

Code = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,63}$", description="The supplier's customer number")]
Language = Annotated[str, Field(pattern=r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$", description="BCP 47 language tag (fr, de-CH)")]
Email = Annotated[str, Field(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$", max_length=320)]
PeppolId = Annotated[
    str, Field(pattern=r"^[0-9]{4}:\S{1,190}$", description="Peppol participant id as scheme:value, e.g. 0009:12345678901234")
]
FaxNumber = Annotated[str, Field(pattern=r"^\+[1-9][0-9]{6,14}$", description="E.164, e.g. +33400000000")]
Format = Literal["ubl", "cii", "facturx", "pdf", "edifact"]
EdiTransport = Literal["sftp", "mailbox"]


class PostalAddress(BaseModel):
    """Where paper invoices go."""

    model_config = ConfigDict(extra="forbid")

    line_one: str | None = Field(None, max_length=200)
    line_two: str | None = Field(None, max_length=200)
    line_three: str | None = Field(None, max_length=200)
    city: str | None = Field(None, max_length=100)
    post_code: str | None = Field(None, max_length=20)
    country_subdivision: str | None = Field(None, max_length=100)
    country_code: str = Field(pattern=r"^[A-Z]{2}$", description="ISO 3166-1 alpha-2")


class CustomerCreate(Request):
    """A new customer."""

    code: Code
    name: str = Field(min_length=1, max_length=300)
    language: Language = "en"
    vat_identifier: str | None = Field(None, max_length=64)
    legal_identifier: str | None = Field(None, max_length=64)
    email: Email | None = None
    peppol_participant_id: PeppolId | None = None
    edi_partner_id: str | None = Field(None, max_length=64)
    edi_transport: EdiTransport | None = None
    fax_number: FaxNumber | None = None
    postal_address: PostalAddress | None = None
    preferred_formats: list[Format] = Field(default_factory=list, max_length=5)


class CustomerPatch(Request):
    """Fields to change; fields not sent stay as they are, `null` clears an optional one."""

    code: Code | None = None
    name: str | None = Field(None, min_length=1, max_length=300)
    language: Language | None = None
    vat_identifier: str | None = Field(None, max_length=64)
    legal_identifier: str | None = Field(None, max_length=64)
    email: Email | None = None
    peppol_participant_id: PeppolId | None = None
    edi_partner_id: str | None = Field(None, max_length=64)
    edi_transport: EdiTransport | None = None
    fax_number: FaxNumber | None = None
    postal_address: PostalAddress | None = None
    preferred_formats: list[Format] | None = Field(None, max_length=5)


#: Fields a customer must always have: a PATCH cannot set them to null.
REQUIRED_FIELDS = ("code", "name", "language", "preferred_formats")


class Customer(BaseModel):
    """A customer as stored."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    code: str
    name: str
    language: str
    vat_identifier: str | None
    legal_identifier: str | None
    email: str | None
    peppol_participant_id: str | None
    edi_partner_id: str | None
    edi_transport: str | None
    fax_number: str | None
    postal_address: PostalAddress | None
    preferred_formats: list[str]
    created_at: datetime
    updated_at: datetime


class CustomerQuery(PageQuery):
    """Filter customers by code; page by code."""

    code: str | None = Field(None, max_length=64, description="Only the customer with this code")


class CustomerPage(BaseModel):
    """A page of customers, by code."""

    items: list[Customer]
    next: str | None = Field(description="Pass as `after` for the next page; null on the last page")
