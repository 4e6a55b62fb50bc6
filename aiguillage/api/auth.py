"""Bearer-key authentication: who is calling, for which tenant, in which role.

`Authorization: Bearer aig_…` is resolved once per request against the
stored key hashes. A missing or unknown key is 401 (with the
`WWW-Authenticate` challenge RFC 6750 asks for); a known key whose role an
endpoint does not admit is 403.
"""

from __future__ import annotations

from collections.abc import Iterable

from flask import g, request

from aiguillage.api import database
from aiguillage.api.problems import Problem
from aiguillage.store.repositories.keys import Principal, resolve
from aiguillage.store.vocabulary import Role

_REALM = 'Bearer realm="aiguillage"'


def _unauthenticated(detail: str, challenge: str) -> Problem:
    """A 401 problem with the `WWW-Authenticate` challenge RFC 6750 asks for."""
    return Problem(401, detail, type="unauthenticated", title="Unauthenticated",
                   headers={"WWW-Authenticate": challenge})


def authenticate() -> Principal:
    """The caller's principal, or a 401 problem."""
    if "principal" in g:
        return g.principal
    header = request.headers.get("Authorization", "")
    scheme, _, presented = header.partition(" ")
    if not header:
        raise _unauthenticated("this endpoint needs an API key: send 'Authorization: Bearer <key>'", _REALM)
    if scheme.lower() != "bearer" or not presented.strip():
        raise _unauthenticated("the Authorization header must be 'Bearer <key>'", f'{_REALM}, error="invalid_request"')
    principal = resolve(database.session(), presented.strip())
    if principal is None:
        raise _unauthenticated("the API key is unknown or revoked", f'{_REALM}, error="invalid_token"')
    g.principal = principal
    return principal


def authorise(principal: Principal, roles: Iterable[Role]) -> None:
    """A 403 problem unless the principal's role is one of `roles`."""
    admitted = frozenset(roles)
    if principal.role not in admitted:
        names = " or ".join(sorted(r.value for r in admitted))
        raise Problem(
            403,
            f"this needs a key with role {names}; this key has role {principal.role.value}",
            type="forbidden",
            title="Forbidden",
        )


def current_principal() -> Principal:
    """The authenticated caller of this request (only inside an authenticated endpoint)."""
    return g.principal
