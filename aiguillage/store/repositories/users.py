"""Web users (people), their argon2id passwords, one-time sign-in links and server-side sessions.

Links and sessions are random tokens shown once; only their SHA-256 is
stored. Redeeming a link is one conditional UPDATE (unused and unexpired),
so two browsers racing with the same link cannot both get in.
"""

from __future__ import annotations

import functools
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from aiguillage.store.actor import Actor
from aiguillage.store.base import utcnow
from aiguillage.store.errors import Conflict, Invalid
from aiguillage.store.hashing import sha256_hex
from aiguillage.store.repositories.audit import AuditLog
from aiguillage.store.repositories.base import TenantScoped
from aiguillage.store.repositories.customers import Customers
from aiguillage.store.web_models import USER_ROLES, SignInLink, WebSession, WebUser

#: argon2id with the library's defaults (RFC 9106 low-memory profile).
_HASHER = PasswordHasher()


@functools.cache
def _dummy_hash() -> str:
    """Verified against when the e-mail is unknown, so both cases take the same time (made on first use:
    hashing takes most of a second, which importing the store must not)."""
    return _HASHER.hash(secrets.token_urlsafe(16))


LINK_LIFETIME = timedelta(hours=24)
SESSION_LIFETIME = timedelta(hours=12)
MIN_PASSWORD = 12


def user_actor(user: WebUser) -> Actor:
    """The user as the audit log names them."""
    return Actor(f"user:{user.email}", role=user.role)


def _token(prefix: str) -> str:
    return f"{prefix}_{secrets.token_urlsafe(32)}"


@dataclass(frozen=True)
class SignedIn:
    """A session just started: the user and the cookie value (shown once)."""

    user: WebUser
    token: str


class WebUsers(TenantScoped):
    """A tenant's web users."""

    noun = "user"

    def create(self, email: str, name: str, role: str, actor: Actor, *, customer_code: str | None = None,
               language: str | None = None) -> WebUser:
        """A new user; a customer user must name an existing customer of the tenant."""
        email = email.strip().lower()
        if "@" not in email:
            raise Invalid(f"{email!r} is not an e-mail address", pointer="/email")
        if role not in USER_ROLES:
            raise Invalid(f"unknown role {role!r}; one of {', '.join(USER_ROLES)}", pointer="/role")
        if (role == "customer") != (customer_code is not None):
            raise Invalid("a customer user needs a customer, and only a customer user has one", pointer="/customer")
        if customer_code is not None and Customers(self.session, self.tenant_id).find_code(customer_code) is None:
            raise Invalid(f"no customer with code {customer_code}", pointer="/customer")
        if self.find_email(email) is not None:
            raise Conflict(f"a user with e-mail {email} exists")
        user = WebUser(tenant_id=self.tenant_id, email=email, name=name, role=role, customer_code=customer_code,
                       language=language)
        self.session.add(user)
        self.session.flush()
        AuditLog(self.session, self.tenant_id).append(actor, "user.create", "user", user.id,
                                                      {"email": email, "role": role, "customer": customer_code})
        return user

    def get(self, user_id: uuid.UUID | str) -> WebUser:
        return self._get(WebUser, user_id)

    def find_email(self, email: str) -> WebUser | None:
        return self.session.scalars(
            select(WebUser).where(WebUser.tenant_id == self.tenant_id, WebUser.email == email.strip().lower())
        ).one_or_none()

    def all(self) -> list[WebUser]:
        return list(self.session.scalars(
            select(WebUser).where(WebUser.tenant_id == self.tenant_id).order_by(WebUser.email)))

    def set_password(self, user: WebUser, password: str, actor: Actor) -> None:
        """Store the argon2id hash of a new password (at least MIN_PASSWORD characters)."""
        if len(password) < MIN_PASSWORD:
            raise Invalid(f"a password needs at least {MIN_PASSWORD} characters", pointer="/password")
        self._check_own(user)
        user.password_hash = _HASHER.hash(password)
        self.session.flush()
        AuditLog(self.session, self.tenant_id).append(actor, "user.password", "user", user.id, {})

    def set_language(self, user: WebUser, language: str) -> None:
        self._check_own(user)
        user.language = language
        self.session.flush()

    def verify_password(self, email: str, password: str) -> WebUser | None:
        """The enabled user with this e-mail and password; None otherwise (in the same time)."""
        user = self.find_email(email)
        stored = user.password_hash if user is not None and user.disabled_at is None else None
        try:
            _HASHER.verify(stored or _dummy_hash(), password)
        except (VerificationError, InvalidHashError):
            return None
        return user if stored else None

    def issue_link(self, user: WebUser, actor: Actor, *, lifetime: timedelta = LINK_LIFETIME,
                   now: datetime | None = None) -> str:
        """A one-time sign-in token for the user (put it in a link); only its hash is kept."""
        self._check_own(user)
        now = now or utcnow()
        token = _token("aigl")
        self.session.add(SignInLink(tenant_id=self.tenant_id, user_id=user.id, token_hash=sha256_hex(token),
                                    created_at=now, expires_at=now + lifetime))
        self.session.flush()
        AuditLog(self.session, self.tenant_id).append(actor, "user.link", "user", user.id,
                                                      {"expires_at": (now + lifetime).isoformat()})
        return token

    def start_session(self, user: WebUser, *, how: str, now: datetime | None = None) -> SignedIn:
        """A new session for the user; the audit log records the sign-in and how."""
        self._check_own(user)
        now = now or utcnow()
        token = _token("aigs")
        self.session.add(WebSession(tenant_id=self.tenant_id, user_id=user.id, token_hash=sha256_hex(token),
                                    created_at=now, expires_at=now + SESSION_LIFETIME))
        self.session.flush()
        AuditLog(self.session, self.tenant_id).append(user_actor(user), "user.sign_in", "user", user.id, {"how": how})
        return SignedIn(user, token)

    def _check_own(self, user: WebUser) -> None:
        if user.tenant_id != self.tenant_id:
            raise Invalid("that user belongs to another tenant")


def redeem_link(session: Session, token: str, *, now: datetime | None = None) -> WebUser | None:
    """The user a one-time link signs in, marking it used; None if unknown, used, expired or disabled.

    System-level on purpose: the token is what tells us the tenant.
    """
    now = now or utcnow()
    digest = sha256_hex(token)
    result = session.execute(
        update(SignInLink)
        .where(SignInLink.token_hash == digest, SignInLink.used_at.is_(None), SignInLink.expires_at > now)
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        return None
    link = session.scalars(select(SignInLink).where(SignInLink.token_hash == digest)).one()
    user = session.scalars(
        select(WebUser).where(WebUser.tenant_id == link.tenant_id, WebUser.id == link.user_id)
    ).one()
    return user if user.disabled_at is None else None


def session_user(session: Session, token: str, *, now: datetime | None = None) -> WebUser | None:
    """The user of a live session cookie; None if unknown, ended, expired or the user is disabled."""
    now = now or utcnow()
    row = session.execute(
        select(WebUser)
        .join(WebSession, (WebSession.tenant_id == WebUser.tenant_id) & (WebSession.user_id == WebUser.id))
        .where(WebSession.token_hash == sha256_hex(token), WebSession.ended_at.is_(None),
               WebSession.expires_at > now, WebUser.disabled_at.is_(None))
    ).one_or_none()
    return None if row is None else row[0]


def end_session(session: Session, token: str, *, now: datetime | None = None) -> None:
    """Sign out: the session cookie stops working at once."""
    session.execute(
        update(WebSession).where(WebSession.token_hash == sha256_hex(token), WebSession.ended_at.is_(None))
        .values(ended_at=now or utcnow()).execution_options(synchronize_session=False)
    )
