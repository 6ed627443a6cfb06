"""Record a redemption exactly once, durably, in one write transaction.

Exactly once comes from three places: the Idempotency-Key record (a retried request gets the
stored answer), unique constraints (one referral per friend per program, one per sale), and a
conditional update for single-use vouchers. The transaction begins IMMEDIATE and commits with
``synchronous=FULL`` before the answer leaves, so an acknowledged redemption survives a crash.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
import sqlalchemy.exc as sa_exc

from pos_referral.db.base import new_id, table
from pos_referral.db.constraints import violated_constraint
from pos_referral.db.models import Code, Customer, IdempotencyRecord, LedgerEntry, Redemption, Reward
from pos_referral.db.upsert import insert_ignore
from pos_referral.domain.codes import CodeKind, format_display
from pos_referral.domain.errors import Refusal
from pos_referral.domain.money import format_money
from pos_referral.services import report_facts, sales
from pos_referral.services.checkout import Evaluation, away_voucher, evaluate
from pos_referral.services.context import StoreContext
from pos_referral.services.customers import CustomerInput, identity_aliases, insert_customer
from pos_referral.services.outbox import add_event, add_events
from pos_referral.services.print_jobs import queue_footer
from pos_referral.services.referral_codes import Holder, issue_in_session
from pos_referral.services.unit_of_work import UnitOfWork


class IdempotencyConflict(Exception):
    """The same Idempotency-Key was sent with a different body."""


@dataclass(frozen=True)
class RedeemRequest:
    code: str
    sale_id: str
    basket_minor: int
    customer: CustomerInput
    till_id: str
    body_hash: str
    staff: str = ""  # the cashier signed in at the till page, else the API body's ``cashier`` (or empty)
    expected_kind: CodeKind | None = None  # /vouchers/{code}/redeem takes vouchers only


@dataclass(frozen=True)
class Answer:
    status: int
    body: dict[str, Any]
    replayed: bool = False


# compact, sorted keys: one text for the request hash and the stored answer
canonical_json = json.JSONEncoder(separators=(",", ":"), sort_keys=True).encode


def body_hash(body: object) -> str:
    return hashlib.sha256(canonical_json(body).encode()).hexdigest()


_REPLAY = sa.select(IdempotencyRecord.request_hash, IdempotencyRecord.status_code, IdempotencyRecord.body).where(
    IdempotencyRecord.key == sa.bindparam("key"))
_IDENTITY_HASH = sa.select(Customer.identity_hash).where(Customer.id == sa.bindparam("id"))
_INSERT_IDEMPOTENCY = sa.insert(table(IdempotencyRecord))
_INSERT_REDEMPTION = sa.insert(table(Redemption))
_INSERT_REWARD = sa.insert(table(Reward))
_INSERT_LEDGER = sa.insert(table(LedgerEntry))
_USE_VOUCHER = (
    sa.update(table(Code))
    .where(Code.code == sa.bindparam("code_"), Code.redeemed_at.is_(None), Code.revoked_at.is_(None))
    .values(redeemed_at=sa.bindparam("redeemed_at_"), redeemed_sale_id=sa.bindparam("sale_id_"))
)


def _replay(conn: sa.Connection, key: str, request_hash: str) -> Answer | None:
    row = conn.execute(_REPLAY, {"key": key}).first()
    if row is None:
        return None
    if row[0] != request_hash:
        raise IdempotencyConflict(key)
    return Answer(row[1], json.loads(row[2]), replayed=True)


# a unique constraint that refused the insert -> the reason the till hears
_CONSTRAINT_REASONS = {"uq_redemptions_sale": "sale_already_used", "uq_redemptions_friend_once": "already_referred",
                       # the friend registered by another writer meanwhile (only where writers are not queued)
                       "uq_customers_identity_hash": "already_referred"}


def redeem(ctx: StoreContext, req: RedeemRequest, idempotency_key: str) -> Answer:
    """Apply a referral or voucher code to a sale. Refusals raise ``Refusal`` and write nothing
    but their report fact. The answer is returned only after its COMMIT is on disk."""
    key = f"{req.till_id}:{idempotency_key}"
    now = ctx.clock()
    try:
        with UnitOfWork(ctx.db, write=True) as uow:
            answer = _replay(uow.conn, key, req.body_hash)
            if answer is None:
                answer = _record(uow.conn, ctx, req, key, now)
                uow.commit()
    except Refusal as exc:
        report_facts.record(ctx.db, report_facts.Fact(
            at=now, kind="refused", till_id=req.till_id, staff=req.staff, code=report_facts.report_code(req.code),
            reason=exc.code, sale_id=req.sale_id, basket_minor=req.basket_minor))
        raise
    return answer


def _record(conn: sa.Connection, ctx: StoreContext, req: RedeemRequest, key: str, now: datetime) -> Answer:
    ev = evaluate(conn, ctx, req.code, req.basket_minor, req.customer, now, recording=True)
    if req.expected_kind is not None and ev.kind is not req.expected_kind:
        raise Refusal("wrong_kind", "This is a referral code, not a voucher.")
    ev.refuse()
    try:
        if ev.kind is CodeKind.REFERRAL:
            body = _record_referral(conn, ctx, req, ev, now)
        else:
            body = _record_voucher_use(conn, ctx, req, ev, now)
        conn.execute(_INSERT_IDEMPOTENCY, dict(
            key=key, request_hash=req.body_hash, status_code=201, body=canonical_json(body), created_at=now))
    except sa_exc.IntegrityError as exc:
        reason = _CONSTRAINT_REASONS.get(violated_constraint(exc) or "")
        if reason is None:
            raise
        raise Refusal(reason) from None
    return Answer(201, body)


def _record_referral(
    conn: sa.Connection, ctx: StoreContext, req: RedeemRequest, ev: Evaluation, now: datetime
) -> dict[str, Any]:
    assert ev.program is not None and ev.code_row is not None
    program, code_row = ev.program, ev.code_row
    # a sale already used is refused by uq_redemptions_sale at the insert below (sale_already_used):
    # the transaction is rolled back whole; no look-up first
    if ev.friend_id is None:
        friend_id, identity_hash = insert_customer(conn, req.customer, ctx.secrets.pepper, store_no=ctx.store_no,
                                                   now=now)
        known_new = True
    else:
        friend_id, known_new = ev.friend_id, False
        identity_hash = conn.execute(_IDENTITY_HASH, {"id": friend_id}).scalar()
    if ev.origin_store is not None:  # a code minted at another store: its referrer, as a placeholder row
        _record_placeholder_referrer(conn, code_row.code, code_row.customer_id, program.id, code_row.variant,
                                    ev.origin_store, now)
    aliases = tuple(identity_aliases(req.customer, ctx.secrets.peppers, identity_hash))  # () in most chains
    holder = Holder(friend_id, identity_hash, req.customer.first_name, aliases)
    events: list[tuple[str, dict[str, Any]]] = []
    own = issue_in_session(conn, ctx, holder, program, channel="receipt", till_id=req.till_id, now=now,
                           known_new=known_new, events=events)
    redemption_id = new_id()
    conn.execute(_INSERT_REDEMPTION, dict(
        id=redemption_id, code=code_row.code, program_id=program.id, variant=code_row.variant,
        referrer_id=code_row.customer_id, friend_id=friend_id, sale_id=req.sale_id, till_id=req.till_id,
        store_no=ctx.store_no, basket_minor=req.basket_minor, discount_minor=ev.discount_minor,
        refunded_minor=0, friend_code=own.code, created_at=now,
    ))
    ledger = [dict(at=now, customer_id=friend_id, entry="friend_discount", amount_minor=ev.discount_minor,
                   points=ev.reward_rule.points if ev.reward_rule else 0, redemption_id=redemption_id,
                   reward_id=None, sale_id=req.sale_id)]
    reward_body: dict[str, Any] | None = None
    reward_id: str | None = None
    hold_until: datetime | None = None
    if program.referrer_gets_reward() and not ev.referrer_capped:  # at the cap: the friend's offer only
        rule = program.referrer_reward
        reward_id = new_id()
        hold_until = now + timedelta(days=program.hold_days)
        conn.execute(_INSERT_REWARD, dict(
            id=reward_id, customer_id=code_row.customer_id, program_id=program.id, redemption_id=redemption_id,
            source="referral", milestone=0, reward_type=rule.type, amount_minor=rule.amount,
            percent=str(rule.percent), points=rule.points, item=rule.item, status="pending",
            hold_until=hold_until, created_at=now,
        ))
        ledger.append(dict(at=now, customer_id=code_row.customer_id, entry="referrer_reward_pending",
                           amount_minor=rule.amount, points=rule.points, redemption_id=redemption_id,
                           reward_id=reward_id, sale_id=req.sale_id))
        reward_body = {"status": "pending", "hold_until": hold_until.isoformat()}
    conn.execute(_INSERT_LEDGER, ledger)
    landing = ctx.landing_url(own.code)
    job_id = queue_footer(conn, ctx, first_name=req.customer.first_name, language=req.customer.language,
                          code=own.code, discount_minor=ev.discount_minor, program=program,
                          landing_url=landing, redemption_id=redemption_id)
    events.append(("redemption_recorded", {
        "redemption_id": redemption_id, "code": code_row.code, "program_id": program.id,
        "referrer_id": code_row.customer_id, "friend_id": friend_id, "friend_identity_hash": identity_hash,
        "sale_id": req.sale_id, "till_id": req.till_id, "store_no": ctx.store_no,
        "basket": format_money(req.basket_minor), "discount": format_money(ev.discount_minor),
        "friend_code": own.code, "at": now.isoformat(),
        # what central needs to mirror this sale's ledger and own the referrer's reward
        "variant": code_row.variant, "reward_id": reward_id, "hold_until": hold_until and hold_until.isoformat(),
        "friend_points": ev.reward_rule.points if ev.reward_rule else 0,
        **({"friend_identity_aliases": list(aliases)} if aliases else {}),
    }))
    add_events(conn, events, now)  # the friend's code_issued first, as central expects
    sales.record_in_redemption(conn, sale_id=req.sale_id, at=now, total_minor=req.basket_minor,
                               customer_id=friend_id, source="referral", till_id=req.till_id, cashier=req.staff)
    if req.staff:  # who served the sale, for the per-cashier report
        report_facts.add(conn, report_facts.Fact(at=now, kind="redeemed", till_id=req.till_id, staff=req.staff,
                                                   code=own.code, sale_id=req.sale_id))
    return {
        "redemption_id": redemption_id,
        "kind": "referral",
        "code": code_row.code,
        "sale_id": req.sale_id,
        "program_id": program.id,
        "discount": format_money(ev.discount_minor),
        "reward": _reward_view(ev),
        "friend_code": {"code": own.code, "display_code": format_display(own.code), "landing_url": landing},
        "customer_id": friend_id,
        "referrer_reward": reward_body,
        "print_job_id": job_id,
        "created_at": now.isoformat(),
        "referrer_outcome": ev.referrer_outcome(),  # pending | none_cap_reached | none
    }


def _reward_view(ev: Evaluation) -> dict[str, Any] | None:
    rule = ev.reward_rule
    if rule is None:
        return None
    return {"type": rule.type, "description": rule.description, "item": rule.item, "points": rule.points}


def _record_voucher_use(
    conn: sa.Connection, ctx: StoreContext, req: RedeemRequest, ev: Evaluation, now: datetime
) -> dict[str, Any]:
    """Single use by a conditional update: of two racing tills exactly one changes the row."""
    assert ev.code_row is not None and ev.voucher_reward is not None
    result = conn.execute(_USE_VOUCHER, {"code_": ev.code, "redeemed_at_": now, "sale_id_": req.sale_id})
    if result.rowcount != 1:
        raise Refusal("already_redeemed")
    reward = ev.voucher_reward
    redemption_id = new_id()
    conn.execute(_INSERT_LEDGER, dict(
        at=now, customer_id=reward.customer_id, entry="voucher_redeemed", amount_minor=ev.discount_minor,
        reward_id=reward.reward_id, sale_id=req.sale_id, redemption_id=redemption_id))
    add_event(conn, "voucher_redeemed", {
        "code": ev.code, "reward_id": reward.reward_id, "customer_id": reward.customer_id, "sale_id": req.sale_id,
        "discount": format_money(ev.discount_minor), "store_no": ctx.store_no, "till_id": req.till_id,
        "at": now.isoformat(), "away": away_voucher(ctx, reward),
    }, now)
    sales.record_in_redemption(conn, sale_id=req.sale_id, at=now, total_minor=req.basket_minor,
                               customer_id=reward.customer_id, source="voucher", till_id=req.till_id,
                               cashier=req.staff)
    report_facts.add(conn, report_facts.Fact(
        at=now, kind="voucher_sale", till_id=req.till_id, staff=req.staff, code=ev.code, sale_id=req.sale_id,
        customer_id=reward.customer_id, basket_minor=req.basket_minor))
    return {
        "redemption_id": redemption_id,
        "kind": "voucher",
        "code": ev.code,
        "sale_id": req.sale_id,
        "program_id": reward.program_id,
        "discount": format_money(ev.discount_minor),
        "reward": {"type": reward.reward_type, "description": "", "item": reward.item, "points": reward.points},
        "friend_code": None,
        "customer_id": reward.customer_id,
        "referrer_reward": None,
        "print_job_id": None,
        "created_at": now.isoformat(),
        "referrer_outcome": None,
    }


def _record_placeholder_referrer(
    conn: sa.Connection, code: str, customer_id: str, program_id: str, variant: str, origin_store: int, now: datetime
) -> None:
    """Rows for a referral code minted at ``origin_store`` and first seen here (idempotent)."""
    insert_ignore(conn, table(Customer), dict(id=customer_id, identity_hash=None, identity_hint="", first_name="",
                                              language="", store_no=origin_store, created_at=now))
    insert_ignore(conn, table(Code), dict(code=code, kind="referral", program_id=program_id, customer_id=customer_id,
                                          variant=variant, channel="api", store_no=origin_store, till_id="",
                                          created_at=now, expires_at=None))
