"""Tables. Money is integer minor units, times are UTC, identities are keyed hashes only.

Uniqueness that matters to the business is a constraint here, not a check in Python:
one code per customer per program, one referral per friend per program, one referral per
sale, one use per voucher (a conditional update on ``redeemed_at``), one event id.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so

from pos_referral.db.base import Base, UTCDateTime


class Till(Base):
    __tablename__ = "tills"

    id: so.Mapped[str] = so.mapped_column(sa.String(32), primary_key=True)
    token_hash: so.Mapped[str] = so.mapped_column(sa.String(64), unique=True)
    pin_hash: so.Mapped[str | None] = so.mapped_column(sa.String(255))
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime())
    disabled: so.Mapped[bool] = so.mapped_column(default=False)


class Customer(Base):
    __tablename__ = "customers"

    id: so.Mapped[str] = so.mapped_column(sa.String(32), primary_key=True)
    identity_hash: so.Mapped[str | None] = so.mapped_column(sa.String(64), unique=True)
    identity_hint: so.Mapped[str] = so.mapped_column(sa.String(40), default="")
    first_name: so.Mapped[str] = so.mapped_column(sa.String(40), default="")
    language: so.Mapped[str] = so.mapped_column(sa.String(8), default="")
    store_no: so.Mapped[int] = so.mapped_column(default=0)
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime())
    # set by ``customer forget`` (services/privacy/forget.py): contact data and name erased, the id kept for
    # the anonymised ledger; a forgotten customer is never matched, named or mailed again
    forgotten_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime())


class Code(Base):
    """Referral codes and voucher codes; the kind is also the code's first symbol."""

    __tablename__ = "codes"
    __table_args__ = (
        # a bearer code (printed by the print proxy for nobody yet) is outside the rule: its claimer may
        # already hold a code, and the bearer code then becomes an additional code of theirs (proxy_offers/claims.py)
        sa.Index("ix_codes_one_referral_code", "customer_id", "program_id", unique=True,
                 sqlite_where=sa.text("kind = 'referral' AND NOT bearer"),
                 postgresql_where=sa.text("kind = 'referral' AND NOT bearer")),
        # covering for the reports' per-range counts (by kind, channel, till, customer) without table lookups
        sa.Index("ix_codes_created", "created_at", "kind", "channel", "till_id", "customer_id"),
        # reports: vouchers redeemed in a range, and the open (unredeemed) vouchers behind the liability.
        # Partial (``IS NOT NULL``): a referral code, never redeemed, adds no entry; a range condition
        # on redeemed_at implies the predicate, so SQLite still uses it for those reports.
        sa.Index("ix_codes_redeemed", "redeemed_at", "kind", sqlite_where=sa.text("redeemed_at IS NOT NULL"),
                 postgresql_where=sa.text("redeemed_at IS NOT NULL")),
        # vouchers only: referral codes (reward_id NULL) add no entry; ``reward_id = ?`` implies the predicate
        sa.Index("ix_codes_reward_id", "reward_id", sqlite_where=sa.text("reward_id IS NOT NULL"),
                 postgresql_where=sa.text("reward_id IS NOT NULL")),
        # "does this customer hold a referral code (by then)?" from the index alone: who to invite asks it of
        # every frequent customer; widened from customer_id alone, so still one index write per code
        sa.Index("ix_codes_customer_id", "customer_id", "kind", "created_at"),
        # the print proxy's bearer codes of a range (a few among a million codes): ``bearer = 1`` in the query
        # matches the predicate, so the dashboard's counts read this small index instead of every code of the range
        sa.Index("ix_codes_bearer", "created_at", "claimed_at", sqlite_where=sa.text("bearer = 1"),
                 postgresql_where=sa.text("bearer")),
        sa.Index("ix_codes_open_vouchers", "reward_id",
                 sqlite_where=sa.text("kind = 'voucher' AND redeemed_at IS NULL AND revoked_at IS NULL"),
                 postgresql_where=sa.text("kind = 'voucher' AND redeemed_at IS NULL AND revoked_at IS NULL")),
    )

    code: so.Mapped[str] = so.mapped_column(sa.String(14), primary_key=True)
    kind: so.Mapped[str] = so.mapped_column(sa.String(10))
    program_id: so.Mapped[str] = so.mapped_column(sa.String(40))
    customer_id: so.Mapped[str] = so.mapped_column(sa.ForeignKey("customers.id"))  # ix_codes_customer_id
    variant: so.Mapped[str] = so.mapped_column(sa.String(32), default="")
    channel: so.Mapped[str] = so.mapped_column(sa.String(10), default="api")
    store_no: so.Mapped[int] = so.mapped_column(default=0)
    till_id: so.Mapped[str] = so.mapped_column(sa.String(32), default="")
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime())
    expires_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime())
    # referral codes: bumped when the customer's card is printed again, ending older owner links (?s=)
    owner_generation: so.Mapped[int] = so.mapped_column(default=0, server_default="0")
    # referral codes the print proxy printed for a customer not known yet: held by a placeholder customer
    # (no identity) until claimed on the landing page; the referrer's rewards wait for ``claimed_at``
    bearer: so.Mapped[bool] = so.mapped_column(default=False, server_default=sa.false())
    claimed_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime())
    # vouchers only
    reward_id: so.Mapped[str | None] = so.mapped_column(sa.String(32))  # indexed: ix_codes_reward_id
    redeemed_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime())
    redeemed_sale_id: so.Mapped[str | None] = so.mapped_column(sa.String(64))
    revoked_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime())


class Redemption(Base):
    """A friend used a referral code on a sale."""

    __tablename__ = "redemptions"
    __table_args__ = (
        # friend first: the same rule, and it serves look-ups by friend_id (no separate friend index)
        sa.UniqueConstraint("friend_id", "program_id", name="uq_redemptions_friend_once"),
        sa.UniqueConstraint("sale_id", name="uq_redemptions_sale"),
        sa.Index("ix_redemptions_created", "created_at"),
        # a referrer's redemptions per program up to a moment, from the index alone (the ambassadors' friends
        # brought: a top referrer has tens of thousands); the same one write per redemption as referrer_id alone
        sa.Index("ix_redemptions_referrer_id", "referrer_id", "program_id", "created_at"),
    )

    id: so.Mapped[str] = so.mapped_column(sa.String(32), primary_key=True)
    code: so.Mapped[str] = so.mapped_column(sa.ForeignKey("codes.code"), index=True)
    program_id: so.Mapped[str] = so.mapped_column(sa.String(40))
    variant: so.Mapped[str] = so.mapped_column(sa.String(32), default="")
    referrer_id: so.Mapped[str] = so.mapped_column(sa.ForeignKey("customers.id"))  # ix_redemptions_referrer_id
    friend_id: so.Mapped[str] = so.mapped_column(sa.ForeignKey("customers.id"))  # uq_redemptions_friend_once
    sale_id: so.Mapped[str] = so.mapped_column(sa.String(64))
    till_id: so.Mapped[str] = so.mapped_column(sa.String(32), default="")
    store_no: so.Mapped[int] = so.mapped_column(default=0)
    basket_minor: so.Mapped[int] = so.mapped_column(sa.BigInteger)
    discount_minor: so.Mapped[int] = so.mapped_column(sa.BigInteger)
    refunded_minor: so.Mapped[int] = so.mapped_column(sa.BigInteger, default=0)
    friend_code: so.Mapped[str] = so.mapped_column(sa.String(14), default="")
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime())


class Reward(Base):
    """The referrer's side: pending during the hold, then released (as a voucher), voided or capped."""

    __tablename__ = "rewards"
    __table_args__ = (sa.Index("ix_rewards_status_hold", "status", "hold_until"),
                      # reports: released in a range; partial, so a new (pending) reward adds no entry
                      sa.Index("ix_rewards_released", "released_at", "source",
                               sqlite_where=sa.text("released_at IS NOT NULL"),
                               postgresql_where=sa.text("released_at IS NOT NULL")))

    id: so.Mapped[str] = so.mapped_column(sa.String(32), primary_key=True)
    customer_id: so.Mapped[str] = so.mapped_column(sa.ForeignKey("customers.id"), index=True)
    program_id: so.Mapped[str] = so.mapped_column(sa.String(40))
    redemption_id: so.Mapped[str | None] = so.mapped_column(sa.ForeignKey("redemptions.id"), index=True)
    source: so.Mapped[str] = so.mapped_column(sa.String(12), default="referral")  # or "milestone"
    milestone: so.Mapped[int] = so.mapped_column(default=0)  # threshold reached, for milestone rewards
    reward_type: so.Mapped[str] = so.mapped_column(sa.String(16))
    amount_minor: so.Mapped[int] = so.mapped_column(sa.BigInteger, default=0)
    percent: so.Mapped[str] = so.mapped_column(sa.String(8), default="0")
    points: so.Mapped[int] = so.mapped_column(default=0)
    item: so.Mapped[str] = so.mapped_column(sa.String(80), default="")
    status: so.Mapped[str] = so.mapped_column(sa.String(16))  # pending released voided capped clawed_back
    hold_until: so.Mapped[datetime] = so.mapped_column(UTCDateTime())
    released_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime())
    voucher_code: so.Mapped[str | None] = so.mapped_column(sa.String(14))
    expires_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime())
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime())


class LedgerEntry(Base):
    """Append-only money and points movements; nothing here is ever updated or deleted.

    A reward's rows are its history (``referrer_reward_pending``, then released, voided, capped or
    clawed back): never sum them for a balance (a released reward has two positive rows); balances
    come from the reward rows' state (``services/rewards.points_of``)."""

    __tablename__ = "ledger"

    id: so.Mapped[int] = so.mapped_column(sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True)
    at: so.Mapped[datetime] = so.mapped_column(UTCDateTime(), index=True)
    customer_id: so.Mapped[str] = so.mapped_column(sa.String(32), index=True)
    entry: so.Mapped[str] = so.mapped_column(sa.String(24))
    amount_minor: so.Mapped[int] = so.mapped_column(sa.BigInteger, default=0)
    points: so.Mapped[int] = so.mapped_column(default=0)
    redemption_id: so.Mapped[str | None] = so.mapped_column(sa.String(32))
    reward_id: so.Mapped[str | None] = so.mapped_column(sa.String(32))
    sale_id: so.Mapped[str | None] = so.mapped_column(sa.String(64))


class IdempotencyRecord(Base):
    __tablename__ = "idempotency_keys"

    key: so.Mapped[str] = so.mapped_column(sa.String(200), primary_key=True)
    request_hash: so.Mapped[str] = so.mapped_column(sa.String(64))
    status_code: so.Mapped[int]
    body: so.Mapped[str] = so.mapped_column(sa.Text)
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime())


class Counter(Base):
    """Per-store sequences used inside minted codes (structural uniqueness across stores)."""

    __tablename__ = "counters"

    name: so.Mapped[str] = so.mapped_column(sa.String(40), primary_key=True)
    value: so.Mapped[int] = so.mapped_column(sa.BigInteger, default=0)


class OutboxEvent(Base):
    """Every state change, written in the same transaction, shipped to central in ``seq`` order."""

    __tablename__ = "outbox"

    seq: so.Mapped[int] = so.mapped_column(sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True)
    event_id: so.Mapped[str] = so.mapped_column(sa.String(32), unique=True)
    type: so.Mapped[str] = so.mapped_column(sa.String(40))
    payload: so.Mapped[dict[str, Any]] = so.mapped_column(sa.JSON)
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime())
    sent_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime(), index=True)


class PrintJob(Base):
    """A receipt part to print; survives printer faults and restarts (queued -> printing -> done|failed)."""

    __tablename__ = "print_jobs"
    __table_args__ = (sa.Index("ix_print_jobs_status", "status", "next_attempt_at"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    template: so.Mapped[str] = so.mapped_column(sa.String(40))
    context: so.Mapped[dict[str, Any]] = so.mapped_column(sa.JSON)
    status: so.Mapped[str] = so.mapped_column(sa.String(10), default="queued")
    attempts: so.Mapped[int] = so.mapped_column(default=0)
    last_error: so.Mapped[str] = so.mapped_column(sa.String(200), default="")
    bytes_sent: so.Mapped[int] = so.mapped_column(default=0)
    reprint_of: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("print_jobs.id"))
    redemption_id: so.Mapped[str | None] = so.mapped_column(sa.String(32), index=True)
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime())
    updated_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime())
    next_attempt_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime())


class LandingVisit(Base):
    __tablename__ = "landing_visits"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    code: so.Mapped[str] = so.mapped_column(sa.String(14), index=True)
    at: so.Mapped[datetime] = so.mapped_column(UTCDateTime(), index=True)
    language: so.Mapped[str] = so.mapped_column(sa.String(8), default="")


class Sale(Base):
    """Every sale the shop tells us about, with or without a code: the denominator of the reports.

    Fed by ``POST /api/v1/sales``, the till's "Sale done" and the print proxy's recognised receipts
    (``source``), once per ``sale_id`` (services/sales.py). A contact, when given, is kept only as the
    customer's row (keyed hash), so repeat customers without a code can be found and invited."""

    __tablename__ = "sales"
    __table_args__ = (sa.Index("ix_sales_at", "at", "customer_id"),)

    id: so.Mapped[int] = so.mapped_column(sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True)
    sale_id: so.Mapped[str] = so.mapped_column(sa.String(64), unique=True)
    at: so.Mapped[datetime] = so.mapped_column(UTCDateTime())
    total_minor: so.Mapped[int] = so.mapped_column(sa.BigInteger)
    customer_id: so.Mapped[str | None] = so.mapped_column(sa.ForeignKey("customers.id"), index=True)
    cashier: so.Mapped[str] = so.mapped_column(sa.String(40), default="")
    till_id: so.Mapped[str] = so.mapped_column(sa.String(32), default="")
    source: so.Mapped[str] = so.mapped_column(sa.String(8))  # api | till | proxy


class Staff(Base):
    """Cashiers (PIN) and managers (password and PIN), argon2id hashes only.

    ``session_version`` is copied into every session signed in as this person and checked on every
    request: sign-out, deactivation and a new PIN, password or role add one, ending those sessions."""

    __tablename__ = "staff"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    name: so.Mapped[str] = so.mapped_column(sa.String(40), unique=True)
    role: so.Mapped[str] = so.mapped_column(sa.String(10))  # cashier | manager
    pin_hash: so.Mapped[str | None] = so.mapped_column(sa.String(255))
    password_hash: so.Mapped[str | None] = so.mapped_column(sa.String(255))
    active: so.Mapped[bool] = so.mapped_column(default=True)
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime())
    session_version: so.Mapped[int] = so.mapped_column(default=0, server_default="0")


class TillSignIn(Base):
    """Who last signed in at which till, and when: the till's sign-in lists only these names."""

    __tablename__ = "till_sign_ins"

    till_id: so.Mapped[str] = so.mapped_column(sa.String(32), primary_key=True)
    staff_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("staff.id", ondelete="CASCADE"), primary_key=True)
    at: so.Mapped[datetime] = so.mapped_column(UTCDateTime())


class AuditEntry(Base):
    """Overrides, voids, adjustments and sign-ins; each entry's MAC covers the previous one (services/audit.py).

    ``mac_version`` 1: ``hash`` is an HMAC-SHA256 under the store's audit key (not in the database);
    0: a plain SHA-256 written before the key existed (migration 0004_audit_mac keeps those as they were).
    """

    __tablename__ = "audit_log"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    at: so.Mapped[datetime] = so.mapped_column(UTCDateTime())
    actor: so.Mapped[str] = so.mapped_column(sa.String(64))
    action: so.Mapped[str] = so.mapped_column(sa.String(40))
    detail: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    prev_hash: so.Mapped[str] = so.mapped_column(sa.String(64))
    hash: so.Mapped[str] = so.mapped_column(sa.String(64))
    mac_version: so.Mapped[int] = so.mapped_column(default=1, server_default="0")


class ReportEvent(Base):
    """What the reports count but the business tables do not keep: quotes, refusals, voucher baskets, staff.

    Written by services/report_facts.py in the transaction each fact describes (a quote's right
    after its answer); a fact that cannot be written is logged and never fails a sale.
    """

    __tablename__ = "report_events"
    __table_args__ = (sa.Index("ix_report_events_kind_at", "kind", "at"),)

    id: so.Mapped[int] = so.mapped_column(sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True)
    at: so.Mapped[datetime] = so.mapped_column(UTCDateTime())
    kind: so.Mapped[str] = so.mapped_column(sa.String(16))  # quote voucher_quote refused voucher_sale issued redeemed
    till_id: so.Mapped[str] = so.mapped_column(sa.String(32), default="")
    staff: so.Mapped[str] = so.mapped_column(sa.String(40), default="")
    code: so.Mapped[str] = so.mapped_column(sa.String(14), default="", index=True)
    reason: so.Mapped[str] = so.mapped_column(sa.String(32), default="")
    sale_id: so.Mapped[str] = so.mapped_column(sa.String(64), default="", index=True)
    customer_id: so.Mapped[str | None] = so.mapped_column(sa.String(32))
    basket_minor: so.Mapped[int] = so.mapped_column(sa.BigInteger, default=0)
from pos_referral.db import models_central as models_central  # noqa: E402  (central tables)
from pos_referral.db import models_milestones as models_milestones  # noqa: E402  (per-code funnel steps)
from pos_referral.db import models_promo as models_promo  # noqa: E402  (promotion tables: mail, card offers)
from pos_referral.db import models_reports as models_reports  # noqa: E402  (report rollups)
from pos_referral.db import models_sales as models_sales  # noqa: E402  (share counts, sales summaries)
