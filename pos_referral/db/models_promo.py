"""Tables for promoting the program: mail contacts, the mail outbox, after-sale card offers.

Why a separate ``mail_contacts`` table holds a readable email address when ``customers`` keeps
only a keyed hash: matching needs only the hash, but a mail needs the address. So the address is
kept only for customers who asked for mail (consent, with its time), in one table that can be
emptied on its own, and it is cleared — not just flagged — when they unsubscribe. Invitations to
friends keep the friend's address only in their outbox row until that mail is sent or given up.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so

from pos_referral.db.base import Base, UTCDateTime


class MailContact(Base):
    """A customer who consented to mail: their address, language and unsubscribe token."""

    __tablename__ = "mail_contacts"

    customer_id: so.Mapped[str] = so.mapped_column(sa.ForeignKey("customers.id"), primary_key=True)
    email: so.Mapped[str] = so.mapped_column(sa.String(254), default="")  # "" once unsubscribed
    language: so.Mapped[str] = so.mapped_column(sa.String(8), default="")
    consent_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime())
    consent_source: so.Mapped[str] = so.mapped_column(sa.String(16), default="")  # landing, kiosk, till, api
    unsubscribed_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime())
    unsubscribe_token: so.Mapped[str] = so.mapped_column(sa.String(64), unique=True)


class MailMessage(Base):
    """One mail to send: queued -> sending -> sent | failed | cancelled, with attempts and backoff.

    ``dedupe_key`` makes each status mail exist once however often its event is seen.
    ``to_addr`` is filled only for invitations (a friend has no contact row) and blanked once final.
    """

    __tablename__ = "mail_outbox"
    __table_args__ = (sa.Index("ix_mail_outbox_due", "status", "next_attempt_at"),
                      sa.Index("ix_mail_outbox_customer_kind", "customer_id", "kind", "created_at"))

    id: so.Mapped[int] = so.mapped_column(sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True)
    kind: so.Mapped[str] = so.mapped_column(sa.String(24))  # invitation friend_used reward_ready reminder milestone
    customer_id: so.Mapped[str] = so.mapped_column(sa.String(32))  # the recipient, or the inviting referrer
    to_addr: so.Mapped[str] = so.mapped_column(sa.String(254), default="")
    language: so.Mapped[str] = so.mapped_column(sa.String(8), default="")
    context: so.Mapped[dict[str, Any]] = so.mapped_column(sa.JSON)
    dedupe_key: so.Mapped[str | None] = so.mapped_column(sa.String(80), unique=True)
    status: so.Mapped[str] = so.mapped_column(sa.String(10), default="queued")
    attempts: so.Mapped[int] = so.mapped_column(default=0)
    last_error: so.Mapped[str] = so.mapped_column(sa.String(200), default="")
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime())
    next_attempt_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime())
    claimed_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime())
    sent_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime())


class CardOffer(Base):
    """The till's after-sale prompt "give this customer a referral card?": once per sale."""

    __tablename__ = "card_offers"
    __table_args__ = (sa.UniqueConstraint("sale_id", name="uq_card_offers_sale"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    sale_id: so.Mapped[str] = so.mapped_column(sa.String(64))
    till_id: so.Mapped[str] = so.mapped_column(sa.String(32), default="")
    staff: so.Mapped[str] = so.mapped_column(sa.String(40), default="")
    offered: so.Mapped[bool] = so.mapped_column(default=True)  # false: the prompt was shown, the cashier skipped it
    accepted: so.Mapped[bool] = so.mapped_column(default=False)
    at: so.Mapped[datetime] = so.mapped_column(UTCDateTime(), index=True)


class MailBlock(Base):
    """A friend who asked for no more invitations: only the keyed hash of their address is kept."""

    __tablename__ = "mail_blocks"

    address_hash: so.Mapped[str] = so.mapped_column(sa.String(64), primary_key=True)
    at: so.Mapped[datetime] = so.mapped_column(UTCDateTime())
