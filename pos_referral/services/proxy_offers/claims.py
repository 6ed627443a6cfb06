"""The customer claims a bearer code with their phone or email: once, atomically, by whoever holds the paper.

Only the printed QR carries the owner signature (``?s=``, ``services/owner_links``); a friend who was
shown the code cannot claim it. The claim is one conditional update (``claimed_at IS NULL``), so two
claims racing each other give one winner and one polite refusal.

A contact the shop does not know yet becomes the placeholder customer's identity. A contact that is
already a customer (a friend before, or someone who already holds a code of the program): the bearer
code becomes an additional code of theirs (the unique index one-code-per-customer leaves bearer codes
out), and the redemptions and rewards it earned move with it. The ledger is append-only and keeps
the placeholder's id on its rows; balances come from the reward rows (``rewards.points_of``).
A contact that used this very code as a friend is refused (``self_referral``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import sqlalchemy as sa

from pos_referral.db.models import Code, Customer, Redemption, Reward
from pos_referral.domain.codes import CodeKind
from pos_referral.services import owner_links
from pos_referral.services.context import StoreContext
from pos_referral.services.customers import CustomerInput, find_customer, identity_aliases
from pos_referral.services.outbox import add_event
from pos_referral.services.unit_of_work import UnitOfWork

logger = logging.getLogger(__name__)

OUTCOMES = ("claimed", "merged", "already_claimed", "not_claimable", "not_owner", "self_referral")


@dataclass(frozen=True)
class ClaimOutcome:
    outcome: str  # one of OUTCOMES
    code: str
    customer_id: str | None = None

    @property
    def done(self) -> bool:
        return self.outcome in ("claimed", "merged")


@dataclass(frozen=True)
class Claimable:
    """What the claim page shows before the form is sent."""

    code: str
    claimed: bool
    owner: bool  # the signature is this code's


def claimable(ctx: StoreContext, code: str, signature: str | None) -> Claimable | None:
    """The bearer code's state for the claim page; None when ``code`` is no bearer code."""
    with UnitOfWork(ctx.db, write=False) as read:
        row = read.conn.execute(sa.select(Code.claimed_at, Code.owner_generation).where(
            Code.code == code, Code.kind == CodeKind.REFERRAL.value, Code.bearer.is_(True))).first()
    if row is None:
        return None
    return Claimable(code, row[0] is not None, owner_links.is_owner(ctx, code, row[1], signature))


def claim(ctx: StoreContext, code: str, signature: str | None, given: CustomerInput) -> ClaimOutcome:
    """Give the bearer code ``code`` to the person with this phone or email (durable before it returns)."""
    if given.identity is None:
        raise ValueError("a claim needs a phone number or an email address")
    now = ctx.clock()
    with UnitOfWork(ctx.db, write=True) as uow:
        session, conn = uow.session, uow.conn
        row = conn.execute(sa.select(Code.customer_id, Code.claimed_at, Code.owner_generation).where(
            Code.code == code, Code.kind == CodeKind.REFERRAL.value, Code.bearer.is_(True))).first()
        if row is None:
            return ClaimOutcome("not_claimable", code)
        placeholder, claimed_at, generation = row
        if not owner_links.is_owner(ctx, code, generation, signature):
            return ClaimOutcome("not_owner", code)
        if claimed_at is not None:
            return ClaimOutcome("already_claimed", code)
        existing = find_customer(session, given, ctx.secrets.pepper, ctx.secrets.old_peppers)
        if existing is not None and conn.execute(sa.select(Redemption.id).where(
                Redemption.code == code, Redemption.friend_id == existing.id).limit(1)).first():
            return ClaimOutcome("self_referral", code)
        taken = conn.execute(sa.update(Code).where(Code.code == code, Code.claimed_at.is_(None))
                             .values(claimed_at=now))
        if taken.rowcount != 1:
            return ClaimOutcome("already_claimed", code)
        identity_hash: str | None
        if existing is None:
            holder, identity_hash, first_name = placeholder, given.identity.hashed(ctx.secrets.pepper), given.first_name
            conn.execute(sa.update(Customer).where(Customer.id == placeholder).values(
                identity_hash=identity_hash, identity_hint=given.identity.hint, first_name=first_name,
                language=given.language))
            outcome = "claimed"
        else:
            holder, identity_hash = existing.id, existing.identity_hash
            first_name = existing.first_name or given.first_name
            _move(conn, code, placeholder, holder)
            outcome = "merged"
        event: dict[str, object] = {"code": code, "bearer_customer_id": placeholder, "customer_id": holder,
                 "identity_hash": identity_hash, "first_name": first_name, "at": now.isoformat()}
        aliases = identity_aliases(given, ctx.secrets.peppers, identity_hash)
        if aliases:
            event["identity_aliases"] = aliases
        add_event(conn, "code_claimed", event, now)
        uow.commit()
    logger.info("bearer code %s claimed (%s)", code, outcome)
    return ClaimOutcome(outcome, code, holder)


def _move(conn: sa.Connection, code: str, placeholder: str, holder: str) -> None:
    """The bearer code, its redemptions and its rewards now belong to ``holder``."""
    conn.execute(sa.update(Code).where(Code.code == code).values(customer_id=holder))
    conn.execute(sa.update(Redemption).where(Redemption.code == code, Redemption.referrer_id == placeholder)
                 .values(referrer_id=holder))
    conn.execute(sa.update(Reward).where(Reward.customer_id == placeholder).values(customer_id=holder))
