"""Bearer-key authentication: who is calling, for which tenant, in which role.

`Authorization: Bearer aig_…` is resolved once per request against the
stored key hashes. A missing or unknown key is 401 (with the
`WWW-Authenticate` challenge RFC 6750 asks for); a known key whose role an
endpoint does not admit is 403.

An endpoint that confirms the key in its own statement (`POST /v1/evaluate`,
see `api.resolution`) authenticates with `remembered=True`: a key this
worker has already confirmed is taken as it was then (tenant and role never
change for a key), so the role is checked before the body is read, without
a query; the endpoint's statement then confirms the key is still not
revoked, and `confirm()` does it with the usual query if the request fails
before that. A revoked key is therefore refused on its next request, in
every worker, as for every other endpoint.
"""

from __future__ import annotations

from collections.abc import Iterable

from flask import current_app, g, request

from aiguillage.api import database
from aiguillage.api.problems import Problem
from aiguillage.store.keys import hash_key, looks_like_key
from aiguillage.store.repositories.keys import Principal, resolve
from aiguillage.store.vocabulary import Role

_REALM = 'Bearer realm="aiguillage"'
#: Where an app keeps the keys its worker has confirmed: key hash → principal.
_SEEN = "aiguillage.auth.seen"
#: How many confirmed keys a worker remembers (all are forgotten at once beyond: they are only a head start).
SEEN_LIMIT = 4096


def _unauthenticated(detail: str, challenge: str) -> Problem:
    """A 401 problem with the `WWW-Authenticate` challenge RFC 6750 asks for."""
    return Problem(401, detail, type="unauthenticated", title="Unauthenticated",
                   headers={"WWW-Authenticate": challenge})


def _unknown_key() -> Problem:
    return _unauthenticated("the API key is unknown or revoked", f'{_REALM}, error="invalid_token"')


def authenticate(*, remembered: bool = False) -> Principal:
    """The caller's principal, or a 401 problem.

    With `remembered`, a key this worker confirmed before is not looked up:
    the caller must confirm it later in the request (`confirmed`, or `confirm`).
    """
    if "principal" in g:
        return g.principal
    presented = _presented()
    if remembered and looks_like_key(presented):
        key_hash = hash_key(presented)
        seen: dict[str, Principal] = current_app.extensions.setdefault(_SEEN, {})
        principal = seen.get(key_hash)
        if principal is not None:
            g.principal, g.key_hash, g.key_unconfirmed = principal, key_hash, True
            return principal
    principal = resolve(database.session(), presented)
    if principal is None:
        raise _unknown_key()
    g.principal = principal
    if remembered:
        g.key_hash = hash_key(presented)
        _remember(g.key_hash, principal)
    return principal


def _presented() -> str:
    """The key from the Authorization header, or a 401 problem saying what is wrong with the header."""
    header = request.headers.get("Authorization", "")
    scheme, _, presented = header.partition(" ")
    if not header:
        raise _unauthenticated("this endpoint needs an API key: send 'Authorization: Bearer <key>'", _REALM)
    presented = presented.strip()
    if scheme.lower() != "bearer" or not presented:
        raise _unauthenticated("the Authorization header must be 'Bearer <key>'", f'{_REALM}, error="invalid_request"')
    return presented


def presented_key_hash() -> str:
    """The hash of this request's key (after `authenticate(remembered=True)`)."""
    return str(g.key_hash)


def confirmed(principal: Principal | None) -> Principal:
    """Take the endpoint's own look-up of the key: the principal, or 401 when the key is now unknown or revoked."""
    g.pop("key_unconfirmed", None)
    if principal is None:
        current_app.extensions.get(_SEEN, {}).pop(g.get("key_hash"), None)
        g.pop("principal", None)
        raise _unknown_key()
    g.principal = principal
    _remember(g.key_hash, principal)
    return principal


def confirm() -> None:
    """Confirm a remembered key with the usual query, if the request has not yet (a request failing early)."""
    if g.pop("key_unconfirmed", False):
        confirmed(resolve(database.session(), _presented()))


def _remember(key_hash: str, principal: Principal) -> None:
    seen: dict[str, Principal] = current_app.extensions.setdefault(_SEEN, {})
    if key_hash not in seen and len(seen) >= SEEN_LIMIT:
        seen.clear()
    seen[key_hash] = principal


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
