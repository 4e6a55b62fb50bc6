"""Tables of the web pages (issue 13): people who sign in, their one-time links and their sessions.

API keys are for machines; these are for people. A tenant user has a role
(admin, analyst, approver, ar); a customer user is bound to one customer
of the tenant and sees nothing else. Secrets are never stored: passwords
as argon2id hashes, one-time links and session cookies as SHA-256 of the
random token (a stolen database gives no way in).
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    ForeignKeyConstraint,
    Integer,
    LargeBinary,
    String,
    UniqueConstraint,
    Uuid,
)
from sqlalchemy.orm import Mapped, mapped_column

from aiguillage.store.base import Base, UtcDateTime, new_id, utcnow

#: Roles a person can have; "customer" is the portal's, the others the console's.
USER_ROLES = ("admin", "analyst", "approver", "ar", "customer")
_ROLES_SQL = ", ".join(f"'{role}'" for role in USER_ROLES)


class WebUser(Base):
    """A person who signs in to the console (tenant user) or the portal (customer user)."""

    __tablename__ = "web_users"
    __table_args__ = (
        UniqueConstraint("tenant_id", "email"),
        UniqueConstraint("tenant_id", "id"),
        CheckConstraint(f"role IN ({_ROLES_SQL})", name="role_known"),
        CheckConstraint("(role = 'customer') = (customer_code IS NOT NULL)", name="customer_bound"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    tenant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenants.id"), index=True)
    #: Lower-cased; unique within the tenant.
    email: Mapped[str] = mapped_column(String(320))
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(16))
    #: For role "customer": the one customer (by code) whose invoices the user sees.
    customer_code: Mapped[str | None] = mapped_column(String(64))
    #: argon2id hash (PHC string); None until the user sets a password.
    password_hash: Mapped[str | None] = mapped_column(String(200))
    #: "fr" or "en" once the user chose; None: the browser's languages decide.
    language: Mapped[str | None] = mapped_column(String(8))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    disabled_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class SignInLink(Base):
    """A one-time sign-in link (invitation or e-mailed link): usable once, before it expires."""

    __tablename__ = "web_sign_in_links"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "user_id"], ["web_users.tenant_id", "web_users.id"], ondelete="CASCADE"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    user_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class WebSession(Base):
    """A signed-in browser: the cookie carries the token, the row its hash; signing out ends it here."""

    __tablename__ = "web_sessions"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "user_id"], ["web_users.tenant_id", "web_users.id"], ondelete="CASCADE"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    user_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class QueryAttachment(Base):
    """A file a customer attached to a query or dispute on one of its invoices."""

    __tablename__ = "web_query_attachments"
    __table_args__ = (
        UniqueConstraint("tenant_id", "id"),
        ForeignKeyConstraint(["tenant_id", "invoice_id"], ["invoices.tenant_id", "invoices.id"]),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    invoice_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    filename: Mapped[str] = mapped_column(String(200))
    media_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    content: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    created_by: Mapped[str] = mapped_column(String(200))
