"""Find or register the customer standing at the till, by phone, email or customer id."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
import sqlalchemy.orm as so

from pos_referral.db.base import new_id, table
from pos_referral.db.engine import Database
from pos_referral.db.models import Customer
from pos_referral.domain.identity import Identity, IdentityError, normalise_email, normalise_phone
from pos_referral.domain.text import clean_name
from pos_referral.services.unit_of_work import UnitOfWork


class CustomerInputError(ValueError):
    """The customer object of a request cannot identify anybody."""


class UnknownCustomerError(CustomerInputError):
    """A ``customer_id`` that names no customer of this store."""


@dataclass(frozen=True)
class CustomerInput:
    identity: Identity | None = None
    customer_id: str | None = None
    first_name: str = ""
    language: str = ""

    @property
    def given(self) -> bool:
        return self.identity is not None or self.customer_id is not None

    @classmethod
    def parse(cls, raw: object) -> CustomerInput:
        """Read ``{"phone"|"email"|"customer_id", "first_name"?}`` (all optional for quotes)."""
        if raw is None:
            return cls()
        if not isinstance(raw, dict):
            raise CustomerInputError("customer must be an object")
        identity: Identity | None = None
        try:
            if raw.get("phone"):
                identity = normalise_phone(_text(raw["phone"], "phone"))
            elif raw.get("email"):
                identity = normalise_email(_text(raw["email"], "email"))
        except IdentityError as exc:
            raise CustomerInputError(str(exc)) from None
        customer_id = raw.get("customer_id")
        if customer_id is not None:
            customer_id = _text(customer_id, "customer_id")
            if not customer_id.isalnum() or len(customer_id) > 32:
                raise CustomerInputError("customer_id is not a customer id")
        first_name = clean_name(_text(raw.get("first_name") or "", "first_name"))
        language = _text(raw.get("language") or "", "language")[:8]
        return cls(identity=identity, customer_id=customer_id, first_name=first_name, language=language)


def _text(value: object, field: str) -> str:
    if not isinstance(value, str):
        raise CustomerInputError(f"{field} must be a string")
    if len(value) > 254:
        raise CustomerInputError(f"{field} is too long")
    return value


def has_customers(db: Database) -> bool:
    with UnitOfWork(db, write=False) as read:
        return read.session.scalar(sa.select(Customer.id).limit(1)) is not None


def identity_hashes(given: CustomerInput, peppers: tuple[bytes, ...]) -> list[str]:
    """The given phone or email hashed under each pepper: the chain's, then those of shops that joined later."""
    return [given.identity.hashed(p) for p in peppers] if given.identity else []


def identity_aliases(given: CustomerInput, peppers: tuple[bytes, ...], kept: str | None) -> list[str]:
    """The person's hashes under the chain's other peppers (all but the ``kept`` one their row holds), for
    central to know them as the customer a shop registered before it joined (central/apply.py)."""
    return [h for h in identity_hashes(given, peppers) if h != kept] if len(peppers) > 1 else []


def find_customer(session: so.Session, given: CustomerInput, pepper: bytes,
                  old_peppers: tuple[bytes, ...] = ()) -> Customer | None:
    if given.customer_id:
        return session.get(Customer, given.customer_id)
    if given.identity:
        hashes = identity_hashes(given, (pepper, *old_peppers))
        found = session.scalars(sa.select(Customer).where(Customer.identity_hash.in_(hashes))).all()
        # a person registered under the chain's pepper comes before their row from a shop's standalone days
        return min(found, key=lambda c: hashes.index(c.identity_hash or "")) if found else None
    return None


def find_or_create_customer(
    session: so.Session, given: CustomerInput, pepper: bytes, *, store_no: int, now: datetime,
    old_peppers: tuple[bytes, ...] = (),
) -> tuple[Customer, bool]:
    """Return (customer, created). A customer id that does not exist is an error, not a new customer."""
    existing = find_customer(session, given, pepper, old_peppers)
    if existing is not None:
        if given.first_name and not existing.first_name:
            existing.first_name = given.first_name
        return existing, False
    if given.customer_id:
        raise UnknownCustomerError("customer_id is not known here")
    customer = Customer(
        id=new_id(),
        identity_hash=given.identity.hashed(pepper) if given.identity else None,
        identity_hint=given.identity.hint if given.identity else "",
        first_name=given.first_name,
        language=given.language,
        store_no=store_no,
        created_at=now,
    )
    session.add(customer)
    session.flush()  # later Core inserts in this transaction reference it
    return customer, True


_INSERT_CUSTOMER = sa.insert(table(Customer))  # built once: the hot path's raw runner then skips cache keys


def insert_customer(
    conn: sa.Connection, given: CustomerInput, pepper: bytes, *, store_no: int, now: datetime
) -> tuple[str, str | None]:
    """Register a new customer with a Core insert (redemption hot path); returns (id, identity hash)."""
    customer_id = new_id()
    identity_hash = given.identity.hashed(pepper) if given.identity else None
    conn.execute(_INSERT_CUSTOMER, dict(
        id=customer_id, identity_hash=identity_hash, identity_hint=given.identity.hint if given.identity else "",
        first_name=given.first_name, language=given.language, store_no=store_no, created_at=now,
    ))
    return customer_id, identity_hash
