"""Which customer rows a privacy request names: a customer id, a phone number or an email address.

A phone or email is hashed under the chain's pepper and every older pepper (a shop that joined a chain
later keeps its standalone customers under its own), so one person may be several rows; a request
covers them all. An email also finds the customer who gave it for mail (``mail_contacts``).
A forgotten customer has no identity hash left: only their id still finds them.
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlalchemy.orm as so

from pos_referral.db.models import Customer
from pos_referral.db.models_promo import MailContact
from pos_referral.domain.identity import Identity, IdentityError, normalise_email, normalise_phone


class SubjectError(ValueError):
    """The request names nobody this program could hold (not an id, phone or email)."""


def parse_subject(raw: str) -> tuple[str | None, Identity | None]:
    """``(customer id, None)`` or ``(None, identity)`` from what the manager typed."""
    text = raw.strip()
    if not text:
        raise SubjectError("give a customer id, phone number or email address")
    try:
        if "@" in text:
            return None, normalise_email(text)
        if len(text) == 32 and text.isalnum():
            return text.lower(), None
        return None, normalise_phone(text)
    except IdentityError as exc:
        raise SubjectError(f"not a customer id, phone number or email address: {exc}") from None


def find_ids(session: so.Session, raw: str, peppers: tuple[bytes, ...]) -> list[str]:
    """The ids of the customer rows ``raw`` names (empty when none); raises SubjectError on bad input."""
    customer_id, identity = parse_subject(raw)
    if customer_id is not None:
        stmt = sa.select(Customer.id).where(Customer.id == customer_id)
    else:
        assert identity is not None
        hashed = Customer.identity_hash.in_([identity.hashed(p) for p in peppers])
        if identity.kind == "email":  # also a customer known by phone who gave this address for mail
            mailed = sa.select(MailContact.customer_id).where(MailContact.email == identity.normalised)
            stmt = sa.select(Customer.id).where(sa.or_(hashed, Customer.id.in_(mailed)))
        else:
            stmt = sa.select(Customer.id).where(hashed)
    return sorted(session.scalars(stmt))
