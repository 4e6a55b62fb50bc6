"""Which customer an invoice is for, and which ruleset version decides it, per request.

The mapping is deliberately simple (docs/integrators.md): a stored ruleset
names the customer it is for (`rulesets.customer_code`, set when the ruleset
is created); the invoice's customer is the `customer` parameter when given,
else the tenant's customer whose ids match the invoice's buyer. The ruleset
in force is the active published version of that customer's ruleset, else of
the tenant's ruleset named `default` (a tenant-wide one), else the standard
`en16931` ruleset from the rulesets folder.

Everything is looked up on every request, with small indexed queries that
read only ids and the content hash; the text is read only when the
compiled-ruleset cache (`engine.stored`, keyed by that hash) has not seen it.
That is how a version published through one server worker is used by every
worker on its next request.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Select, bindparam, func, or_, select
from sqlalchemy.orm import Session, aliased

from aiguillage.api.problems import Problem
from aiguillage.dsl.diagnostics import RulesError
from aiguillage.dsl.refdata import ReferenceData
from aiguillage.engine.compiled import CompiledRuleset
from aiguillage.engine.loader import library
from aiguillage.engine.stored import stored_rulesets
from aiguillage.model.invoice import Invoice
from aiguillage.store.base import utcnow
from aiguillage.store.models import Customer, Ruleset, RulesetVersion
from aiguillage.store.repositories.customers import Customers
from aiguillage.store.repositories.reference import ReferenceTables

#: The tenant-wide ruleset used for customers without one of their own.
DEFAULT_RULESET = "default"
#: What decides when a tenant has published nothing that applies.
STANDARD_RULESET = "en16931"


@dataclass(frozen=True)
class VersionRef:
    """The published version in force: enough to name it and to find its compiled form."""

    ruleset_id: uuid.UUID
    name: str
    version_id: uuid.UUID
    number: int
    content_hash: str


@dataclass(frozen=True)
class CustomerRef:
    """The customer an invoice is for: its id and code (the record itself is read only when needed)."""

    id: uuid.UUID
    code: str


@dataclass(frozen=True)
class Selection:
    """What decides one invoice: its customer (if known), the version in force, the compiled ruleset."""

    customer: CustomerRef | None
    version: VersionRef | None
    compiled: CompiledRuleset


# --------------------------------------------------------------------------- the customer


def _identifier_forms(identifier: object | None) -> list[str]:
    """`value` and `scheme:value` of an identifier, the two ways a customer record may hold it."""
    value = getattr(identifier, "value", None)
    if not value or not value.strip():
        return []
    value = value.strip()
    scheme = getattr(identifier, "scheme", None)
    return [value, f"{scheme.strip()}:{value}"] if scheme and scheme.strip() else [value]


def buyer_ids(invoice: Invoice) -> list[tuple[int, str, list[str]]]:
    """The buyer's ids, strongest first: (rank, what, forms).

    The electronic address (BT-49) is where the buyer receives e-invoices, the
    most specific id there is; then VAT id (BT-48), legal registration id
    (BT-47) and the buyer identifier (BT-46).
    """
    buyer = invoice.buyer
    if buyer is None:
        return []
    found: list[tuple[int, str, list[str]]] = []
    address = _identifier_forms(buyer.electronic_address)
    if address:
        found.append((0, "electronic_address", address))
    if buyer.vat_identifier and buyer.vat_identifier.strip():
        vat = buyer.vat_identifier.strip()
        found.append((1, "vat_identifier", list(dict.fromkeys([vat, vat.replace(" ", "").upper()]))))
    legal = _identifier_forms(buyer.legal_registration_identifier)
    if legal:
        found.append((2, "legal_registration_identifier", legal))
    ident = _identifier_forms(buyer.identifier)
    if ident:
        found.append((3, "identifier", ident))
    return found


#: Buyer id kind → the customer columns (by name) it is compared with.
_COLUMNS = {
    "electronic_address": ("peppol_participant_id", "code"),
    "vat_identifier": ("vat_identifier",),
    "legal_registration_identifier": ("legal_identifier", "code"),
    "identifier": ("code", "legal_identifier", "edi_partner_id"),
}

#: The customer columns read per request: ids only (the whole record is read when an invoice is queued).
ID_COLUMNS = ("code", "vat_identifier", "legal_identifier", "peppol_participant_id", "edi_partner_id")

#: Built once: every customer any of whose ids is one of the buyer's (ranked in Python after).
#: Each OR branch repeats the tenant so that each is one index look-up, (tenant, column).
_CUSTOMERS_BY_IDS = select(Customer.id, *(getattr(Customer, column) for column in ID_COLUMNS)).where(
    or_(*((Customer.tenant_id == bindparam("tenant")) & getattr(Customer, column).in_(bindparam("ids", expanding=True))
          for column in ID_COLUMNS)),
)


def match_customer(session: Session, tenant_id: uuid.UUID, invoice: Invoice) -> CustomerRef | None:
    """The tenant's customer the invoice's buyer is, or None; 409 when two customers match equally.

    A Core query on the session's connection: no ORM objects are built on this hot path.
    """
    ids = buyer_ids(invoice)
    if not ids:
        return None
    candidates = session.connection().execute(_CUSTOMERS_BY_IDS, {"tenant": tenant_id, "ids": id_forms(ids)}).all()
    return best_candidate(ids, candidates)


def id_forms(ids: list[tuple[int, str, list[str]]]) -> list[str]:
    """Every form of every buyer id, once, sorted: what the customer columns are compared with."""
    return sorted({form for _, _, forms in ids for form in forms})


def best_candidate(ids: list[tuple[int, str, list[str]]], candidates: Sequence[Any]) -> CustomerRef | None:
    """The candidate matched by the strongest buyer id; 409 when two match it equally.

    `candidates` are rows with the customer's `id` and the `ID_COLUMNS`.
    """
    for _, what, forms in ids:
        wanted = set(forms)
        hits = [c for c in candidates if any(getattr(c, column) in wanted for column in _COLUMNS[what])]
        if len(hits) == 1:
            return CustomerRef(hits[0].id, hits[0].code)
        if len(hits) > 1:
            codes = ", ".join(sorted(c.code for c in hits))
            raise Problem(
                409,
                f"the buyer's {what.replace('_', ' ')} matches several customers ({codes}); "
                "pass ?customer=CODE to say which",
                type="ambiguous-customer",
                title="Ambiguous customer",
            )
    return None


def customer_for(session: Session, tenant_id: uuid.UUID, invoice: Invoice, code: str | None) -> CustomerRef | None:
    """The customer named by `code` (404 if unknown), else the one the buyer matches, else None."""
    if code is not None:
        customer = Customers(session, tenant_id).find_code(code)
        if customer is None:
            raise Problem(404, f"no customer with code {code!r}", type="unknown-customer", title="Not Found")
        return CustomerRef(customer.id, customer.code)
    return match_customer(session, tenant_id, invoice)


# --------------------------------------------------------------------------- the ruleset version


def versions_in_force(tenant: ColumnElement[Any], own: ColumnElement[bool]) -> Select:
    """Per candidate ruleset (the customer's: `own`, and the tenant's `default`), its newest effective version.

    One query, built once, answering one row per candidate ruleset whatever
    the number of versions: the correlated subquery finds the highest
    effective number through the unique (ruleset, number) index. Versions
    become effective at the `now` parameter.
    """
    newest = aliased(RulesetVersion)
    highest = (
        select(func.max(newest.number))
        .where(newest.ruleset_id == Ruleset.id, newest.effective_from <= bindparam("now"))
        .scalar_subquery()
    )
    return (
        select(Ruleset.id, Ruleset.name, Ruleset.customer_code, RulesetVersion.id.label("version_id"),
               RulesetVersion.number, RulesetVersion.content_hash)
        .join(RulesetVersion, (RulesetVersion.ruleset_id == Ruleset.id) & (RulesetVersion.tenant_id == Ruleset.tenant_id))
        .where(
            or_((Ruleset.tenant_id == tenant) & own, (Ruleset.tenant_id == tenant) & (Ruleset.name == DEFAULT_RULESET)),
            RulesetVersion.number == highest,
        )
    )


_VERSIONS_IN_FORCE = versions_in_force(bindparam("tenant"), Ruleset.customer_code == bindparam("customer"))


def active_version(session: Session, tenant_id: uuid.UUID, customer_code: str | None) -> VersionRef | None:
    """The version in force for a customer (its ruleset, else the tenant's `default`), if any."""
    rows = session.connection().execute(_VERSIONS_IN_FORCE, {"tenant": tenant_id, "customer": customer_code, "now": utcnow()}).all()
    return version_in_force(rows, customer_code)


def version_in_force(rows: Sequence[Any], customer_code: str | None) -> VersionRef | None:
    """Among the newest effective versions of candidate rulesets, the one in force for the customer.

    `rows` carry `id` (of the ruleset), `name`, `customer_code`, `version_id`,
    `number` and `content_hash`; rows of other customers' rulesets are ignored.
    """
    own = [r for r in rows if customer_code is not None and r.customer_code == customer_code]
    if len(own) > 1:
        names = ", ".join(sorted(r.name for r in own))
        raise Problem(409, f"customer {customer_code!r} has several rulesets ({names}); keep one",
                      type="ambiguous-ruleset", title="Ambiguous ruleset")
    chosen = own[0] if own else next((r for r in rows if r.name == DEFAULT_RULESET and r.customer_code is None), None)
    if chosen is None:
        return None
    return VersionRef(chosen.id, chosen.name, chosen.version_id, chosen.number, chosen.content_hash)


def compiled_version(session: Session | Callable[[], Session], tenant_id: uuid.UUID, version: VersionRef) -> CompiledRuleset:
    """The compiled form of a stored version; the text is read only when not compiled yet.

    `session` may be a function returning one: the evaluation path then opens
    no session at all when the version is compiled already and reads no
    reference table.
    """
    sessions = session if callable(session) else lambda: session
    cache = stored_rulesets()
    try:
        return cache.compiled(version.name, lambda: _content(sessions(), tenant_id, version.version_id), version.content_hash,
                              _TenantTables(sessions, tenant_id))
    except RulesError as exc:
        # A published version always checked when it was published; failing now means what it
        # extends, or a reference table it reads, changed under it. Say so rather than decide with something else.
        raise Problem(
            409,
            f"version {version.number} of ruleset {version.name!r} no longer checks: {exc.errors[0] if exc.errors else exc}",
            type="ruleset-broken",
            title="Ruleset does not check",
        ) from None


class _TenantTables:
    """The tenant's reference tables (`engine.stored.References`), reaching for a session only when asked."""

    def __init__(self, sessions: Callable[[], Session], tenant_id: uuid.UUID) -> None:
        self._sessions = sessions
        self._tenant_id = tenant_id

    @property
    def scope(self) -> str:
        return str(self._tenant_id)

    def versions(self, names: Sequence[str]) -> dict[str, str | None]:
        return ReferenceTables(self._sessions(), self._tenant_id).versions(names)

    def reference(self, name: str) -> ReferenceData | None:
        return ReferenceTables(self._sessions(), self._tenant_id).reference(name)


def _content(session: Session, tenant_id: uuid.UUID, version_id: uuid.UUID) -> str:
    return session.scalars(
        select(RulesetVersion.content).where(RulesetVersion.tenant_id == tenant_id, RulesetVersion.id == version_id)
    ).one()


def select_for(session: Session, tenant_id: uuid.UUID, invoice: Invoice, code: str | None) -> Selection:
    """Customer, version in force and compiled ruleset for one invoice."""
    return select_for_customer(session, tenant_id, customer_for(session, tenant_id, invoice, code))


def select_for_customer(session: Session, tenant_id: uuid.UUID, customer: CustomerRef | None) -> Selection:
    """The version in force for a known (or unknown: None) customer, compiled."""
    version = active_version(session, tenant_id, customer.code if customer is not None else None)
    if version is None:
        return Selection(customer, None, library().compiled(STANDARD_RULESET))
    return Selection(customer, version, compiled_version(session, tenant_id, version))
