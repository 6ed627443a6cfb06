"""Who may get mail: customers who gave an address and consent; unsubscribing works at once.

A contact's address is kept only while they want mail: unsubscribing clears it in the same
statement that records the time, and cancels their queued mails, so nothing more goes out.
A friend who got an invitation has no contact row: their unsubscribe link carries a keyed hash
of their address (never the address), and unsubscribing stores only that hash as a block.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
import sqlalchemy.orm as so

from pos_referral.db.models import Customer
from pos_referral.db.models_promo import MailBlock, MailContact, MailMessage
from pos_referral.domain.identity import IdentityError, normalise_email
from pos_referral.services.context import StoreContext
from pos_referral.services.unit_of_work import UnitOfWork

BLOCK_PREFIX = "b."


class ContactError(ValueError):
    """An address or customer that cannot be subscribed."""


@dataclass(frozen=True)
class Contact:
    customer_id: str
    email: str
    language: str
    token: str
    first_name: str


def clean_address(raw: str) -> str:
    """A normalised address, or ContactError; no header injection can survive this."""
    if any(ch in raw for ch in "\r\n,;<>\"") or len(raw) > 254:
        raise ContactError("email is not a valid address")
    try:
        return normalise_email(raw).normalised
    except IdentityError:
        raise ContactError("email is not a valid address") from None


def subscribe(session: so.Session, customer_id: str, email: str, language: str, *, now: datetime,
              source: str) -> MailContact:
    """Record consent (or renew it) for a known customer, in the caller's write transaction."""
    address = clean_address(email)
    if session.get(Customer, customer_id) is None:
        raise ContactError("customer is not known here")
    contact = session.get(MailContact, customer_id)
    if contact is None:
        contact = MailContact(customer_id=customer_id, unsubscribe_token=secrets.token_hex(16))
        session.add(contact)
    contact.email, contact.language = address, language[:8]
    contact.consent_at, contact.consent_source, contact.unsubscribed_at = now, source[:16], None
    session.flush()
    return contact


def subscribe_customer(ctx: StoreContext, customer_id: str, email: str, language: str, *, source: str) -> None:
    """One unit of work around ``subscribe`` (for the kiosk, till or landing pages)."""
    with UnitOfWork(ctx.db, write=True) as uow:
        subscribe(uow.session, customer_id, email, language, now=ctx.clock(), source=source)
        uow.commit()


def active_contact(session: so.Session, customer_id: str) -> Contact | None:
    row = session.execute(
        sa.select(MailContact, Customer.first_name).join(Customer, Customer.id == MailContact.customer_id)
        .where(MailContact.customer_id == customer_id, MailContact.unsubscribed_at.is_(None),
               MailContact.email != "")).first()
    if row is None:
        return None
    contact, first_name = row
    language = contact.language
    return Contact(contact.customer_id, contact.email, language, contact.unsubscribe_token, first_name or "")


def address_hash(ctx: StoreContext, address: str) -> str:
    return hmac.new(ctx.secrets.pepper, f"mail:{address}".encode(), hashlib.sha256).hexdigest()[:40]


def _block_mac(ctx: StoreContext, hashed: str) -> str:
    return hmac.new(ctx.secrets.session_key, f"mailblock:{hashed}".encode(), hashlib.sha256).hexdigest()[:16]


def block_token(ctx: StoreContext, address: str) -> str:
    """The unsubscribe token of an invited friend's address (holds a keyed hash, not the address)."""
    hashed = address_hash(ctx, address)
    return f"{BLOCK_PREFIX}{hashed}{_block_mac(ctx, hashed)}"


def is_blocked(session: so.Session, ctx: StoreContext, address: str) -> bool:
    return session.get(MailBlock, address_hash(ctx, address)) is not None


def token_known(ctx: StoreContext, token: str) -> bool:
    """Whether an unsubscribe link is one of ours (so the page can say "link not valid" otherwise)."""
    if token.startswith(BLOCK_PREFIX):
        hashed, mac = token[len(BLOCK_PREFIX):-16], token[-16:]
        return len(hashed) == 40 and hmac.compare_digest(_block_mac(ctx, hashed), mac)
    with UnitOfWork(ctx.db, write=False) as uow:
        return uow.session.scalar(sa.select(MailContact.customer_id).where(
            MailContact.unsubscribe_token == token)) is not None


def unsubscribe(ctx: StoreContext, token: str) -> bool:
    """Stop all mail for this link's owner at once; True when the link is ours (repeating is fine)."""
    if len(token) > 80 or not token_known(ctx, token):
        return False
    now = ctx.clock()
    with UnitOfWork(ctx.db, write=True) as uow:
        session = uow.session
        if token.startswith(BLOCK_PREFIX):
            hashed = token[len(BLOCK_PREFIX):-16]
            if session.get(MailBlock, hashed) is None:
                session.add(MailBlock(address_hash=hashed, at=now))
        else:
            customer_id = session.scalar(sa.select(MailContact.customer_id).where(
                MailContact.unsubscribe_token == token))
            session.execute(sa.update(MailContact).where(
                MailContact.unsubscribe_token == token, MailContact.unsubscribed_at.is_(None))
                .values(unsubscribed_at=now, email=""))
            session.execute(sa.update(MailMessage).where(
                MailMessage.customer_id == customer_id, MailMessage.kind != "invitation",
                MailMessage.status == "queued").values(status="cancelled", last_error="unsubscribed"))
        uow.commit()
    return True
