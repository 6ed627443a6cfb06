"""Quote a scanned code against a basket: the answer the cashier sees at once.

Both kinds of code go through here (the first symbol tells which), so the till needs no mode.
This module loads the facts a decision needs; the decision itself is ``domain.eligibility``.
The same evaluation runs inside the redemption's write transaction, so what was quoted is what
is recorded, unless something changed in between, and then the refusal says what.
A quote changes no business state; it leaves one report fact (services/report_facts.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import cast

import sqlalchemy as sa

from pos_referral.db.models import Code, Customer, OutboxEvent, Redemption, Reward, Sale
from pos_referral.domain import codes as codes_mod
from pos_referral.domain import eligibility
from pos_referral.domain.chain_ids import placeholder_customer_id
from pos_referral.domain.eligibility import CapUsage, CodeState, Friend
from pos_referral.domain.errors import Refusal
from pos_referral.domain.rules import Program, RewardType
from pos_referral.domain.rules import Reward as RewardRule
from pos_referral.services import report_facts
from pos_referral.services.code_cache import CodeRef
from pos_referral.services.context import StoreContext
from pos_referral.services.customers import CustomerInput
from pos_referral.services.unit_of_work import UnitOfWork


@dataclass(frozen=True)
class VoucherState:
    """A voucher code's mutable state and the reward it carries."""

    redeemed: bool
    revoked: bool
    reward_id: str
    customer_id: str
    program_id: str
    reward_type: str
    amount_minor: int
    percent: str
    points: int
    item: str
    home_store: int = 0  # the store whose customers earned it (chain: others use an offline allowance)


@dataclass
class Evaluation:
    """What a code is worth on this basket for this customer (or why it is worth nothing)."""

    kind: codes_mod.CodeKind
    code: str
    discount_minor: int = 0
    reason: str | None = None
    program: Program | None = None
    code_row: CodeRef | None = None
    friend_id: str | None = None
    reward_rule: RewardRule | None = None
    voucher_reward: VoucherState | None = None
    notes: list[str] = field(default_factory=list)
    origin_store: int | None = None  # a code minted at another store, accepted offline (not in our DB yet)
    referrer_capped: bool = False  # eligible, but the referrer is at the cap: no reward is recorded for them

    def refuse(self) -> None:
        if self.reason is not None:
            raise Refusal(self.reason)

    def referrer_outcome(self) -> str | None:
        """What the referrer gets from this sale: ``pending`` (a reward, released after the hold),
        ``none_cap_reached`` (the friend gets the offer, the referrer is at the cap) or ``none`` (the
        program rewards only the friend); None for a refused code or a voucher."""
        if self.reason is not None or self.kind is not codes_mod.CodeKind.REFERRAL or self.program is None:
            return None
        if not self.program.referrer_gets_reward():
            return "none"
        return "none_cap_reached" if self.referrer_capped else "pending"


_CODE_COLUMNS = (Code.code, Code.kind, Code.program_id, Code.customer_id, Code.variant, Code.expires_at)

# statements built once; SQLAlchemy caches their compiled form
_CODE_BY_CODE = sa.select(*_CODE_COLUMNS).where(Code.code == sa.bindparam("code"))
_REFERRED = (
    sa.select(Redemption.id)
    .where(Redemption.program_id == sa.bindparam("program_id"), Redemption.friend_id == Customer.id)
    .exists()
)
# a purchase this store knows of: a referral code used on a sale, a voucher spent, or an own code given on a
# receipt (the receipt channel is a sale's), or any sale the shop reported with their contact (``sales``, by its
# customer_id index); a registration alone (kiosk, card, API) is not a purchase.
# Asked apart, and only of a customer the store knows: most friends at the till are new to it, and a
# larger friend statement costs every quote its cache-key walk.
_BOUGHT = sa.select(sa.or_(
    sa.select(Redemption.id).where(Redemption.friend_id == sa.bindparam("customer_id")).exists(),
    sa.select(Code.code).where(Code.customer_id == sa.bindparam("customer_id"), sa.or_(
        sa.and_(Code.kind == "voucher", Code.redeemed_at.is_not(None)),
        sa.and_(Code.kind == "referral", Code.channel == "receipt"))).exists(),
    sa.select(Sale.id).where(Sale.customer_id == sa.bindparam("customer_id")).exists(),
))
_FRIEND_BY_HASH = sa.select(Customer.id, _REFERRED).where(Customer.identity_hash == sa.bindparam("value"))
_FRIEND_BY_ID = sa.select(Customer.id, _REFERRED).where(Customer.id == sa.bindparam("value"))
_CAP_USAGE = sa.select(sa.func.count(), sa.func.coalesce(sa.func.sum(Reward.amount_minor), 0)).where(
    Reward.customer_id == sa.bindparam("customer_id"),
    Reward.program_id == sa.bindparam("program_id"),
    Reward.source == "referral",
    Reward.status.in_(("pending", "released")),
    Reward.created_at >= sa.bindparam("since", type_=Reward.created_at.type),
)

_FRIENDS_SINCE = sa.select(sa.func.count()).select_from(Redemption).where(
    Redemption.code == sa.bindparam("code"),
    Redemption.created_at > sa.bindparam("since", type_=Redemption.created_at.type))
VELOCITY_WINDOW = timedelta(hours=1)


def parse_code(ctx: StoreContext, raw: str) -> codes_mod.ParsedCode:
    try:
        return ctx.code_cache.parse(raw, ctx.secrets.keyring)
    except codes_mod.CodeError as exc:
        raise Refusal(exc.reason) from None


def load_code(conn: sa.Connection, ctx: StoreContext, code: str) -> CodeRef | None:
    """A referral code's row, from the cache when possible."""
    cached = ctx.code_cache.get(code)
    if cached is not None:
        return cached
    row = conn.execute(_CODE_BY_CODE, {"code": code}).first()
    if row is None:
        return None
    ref = CodeRef(*row)
    if ref.kind == codes_mod.CodeKind.REFERRAL.value:
        ctx.code_cache.put(ref)
    return ref


def cap_usage(conn: sa.Connection, program: Program, referrer_id: str, now: datetime, ctx: StoreContext) -> CapUsage:
    """The referrer's live referral rewards inside the program's cap window."""
    since = program.cap.window_start(now, ctx.tz)
    row = conn.execute(_CAP_USAGE, {"customer_id": referrer_id, "program_id": program.id, "since": since}).one()
    return CapUsage(int(row[0]), int(row[1]))


def friends_last_hour(conn: sa.Connection, code: str, now: datetime) -> int:
    """Redemptions of ``code`` at this store within the hour before ``now`` (the velocity limit's count)."""
    return int(conn.execute(_FRIENDS_SINCE, {"code": code, "since": now - VELOCITY_WINDOW}).scalar_one())


def find_friend(conn: sa.Connection, ctx: StoreContext, given: CustomerInput, program_id: str) -> Friend | None:
    """The customer at the till and whether they were referred in this program, in one query."""
    if given.customer_id:
        query, value = _FRIEND_BY_ID, given.customer_id
    elif given.identity:
        query, value = _FRIEND_BY_HASH, given.identity.hashed(ctx.secrets.pepper)
    else:
        return None
    row = conn.execute(query, {"program_id": program_id, "value": value}).first()
    identity = given.identity if row is None and not given.customer_id else None
    if identity is not None:  # hashed at a shop before it joined the chain (keystore.StoreSecrets.old_peppers)
        for pepper in ctx.secrets.old_peppers:
            row = conn.execute(query, {"program_id": program_id, "value": identity.hashed(pepper)}).first()
            if row is not None:
                break
    if row is None:
        return None
    return Friend(row[0], bool(row[1]), bool(conn.execute(_BOUGHT, {"customer_id": row[0]}).scalar()))


def _known_customer(conn: sa.Connection, ctx: StoreContext, given: CustomerInput) -> str | None:
    """The id of the customer the till named, when this store knows them (the quote's report fact names them)."""
    try:
        friend = find_friend(conn, ctx, given, program_id="")  # no program: only who they are
    except Refusal:  # a chain store before its first sync knows nobody yet
        return None
    return friend.customer_id if friend else None


def _foreign_code(ctx: StoreContext, parsed: codes_mod.ParsedCode) -> CodeRef | None:
    """A chain store accepts an authentic code minted at another store before the two have synced.

    The referrer is recorded under a placeholder id that central maps to the real customer."""
    if not ctx.settings.config.central.url or parsed.store_no == ctx.store_no:
        return None
    program = ctx.settings.default_program
    variant = program.variant_for(parsed.code)
    return CodeRef(parsed.code, codes_mod.CodeKind.REFERRAL.value, program.id,
                   placeholder_customer_id(parsed.code), variant.name if variant else "", None)


def _evaluate_referral(conn: sa.Connection, ctx: StoreContext, ev: Evaluation, basket_minor: int,
                       given: CustomerInput, now: datetime, parsed: codes_mod.ParsedCode, recording: bool) -> None:
    row = load_code(conn, ctx, ev.code)
    if row is None and (row := _foreign_code(ctx, parsed)) is not None:
        ev.origin_store = parsed.store_no
    if row is None or row.kind != codes_mod.CodeKind.REFERRAL.value:
        ev.reason = "unknown_code"
        return
    ev.code_row = row
    program = ev.program = ctx.settings.program(row.program_id)
    friend = find_friend(conn, ctx, given, row.program_id) if given.given else None
    ev.friend_id = friend.customer_id if friend else None
    cap_used = CapUsage()
    if program is not None and program.referrer_gets_reward() and program.cap.limited:
        cap_used = cap_usage(conn, program, row.customer_id, now, ctx)
    recent = 0
    if program is not None and program.velocity.max_friends_per_hour:
        recent = friends_last_hour(conn, row.code, now)
    decision = eligibility.decide_referral(eligibility.ReferralFacts(
        program=program, code=CodeState(expires_at=row.expires_at), referrer_id=row.customer_id,
        variant=row.variant, friend=friend, customer_given=given.given,
        customer_id_given=bool(given.customer_id), basket_minor=basket_minor, cap_used=cap_used,
        today=now.astimezone(ctx.tz).date(), now=now, recording=recording, friends_last_hour=recent))
    ev.reason, ev.discount_minor, ev.reward_rule = decision.reason, decision.discount_minor, decision.reward_rule
    ev.referrer_capped = decision.referrer_capped
    ev.notes = list(decision.notes)


_VOUCHER_BY_CODE = (
    sa.select(*_CODE_COLUMNS, Code.redeemed_at, Code.revoked_at, Reward.id, Reward.customer_id, Reward.program_id,
              Reward.reward_type, Reward.amount_minor, Reward.percent, Reward.points, Reward.item, Code.store_no)
    .outerjoin(Reward, Reward.id == Code.reward_id)
    .where(Code.code == sa.bindparam("code"))
)


def load_voucher(conn: sa.Connection, code: str) -> tuple[CodeRef, CodeState, VoucherState | None] | None:
    row = conn.execute(_VOUCHER_BY_CODE, {"code": code}).first()
    if row is None:
        return None
    ref = CodeRef(*row[:6])
    state = CodeState(expires_at=ref.expires_at, redeemed=row[6] is not None, revoked=row[7] is not None)
    if row[8] is None:
        return ref, state, None
    return ref, state, VoucherState(
        redeemed=state.redeemed, revoked=state.revoked, reward_id=row[8], customer_id=row[9],
        program_id=row[10], reward_type=row[11], amount_minor=row[12], percent=row[13], points=row[14], item=row[15],
        home_store=row[16],
    )


_AWAY_UNCONFIRMED = sa.select(sa.func.count()).select_from(OutboxEvent).where(
    OutboxEvent.sent_at.is_(None), OutboxEvent.type == "voucher_redeemed", OutboxEvent.payload["away"].as_boolean())


def away_voucher(ctx: StoreContext, state: VoucherState) -> bool:
    """A chain voucher earned at another store (central's single use is decided after the fact)."""
    return bool(ctx.settings.config.central.url) and state.home_store != ctx.store_no


def _evaluate_voucher(conn: sa.Connection, ctx: StoreContext, ev: Evaluation, basket_minor: int,
                      now: datetime) -> None:
    found = load_voucher(conn, ev.code)
    if found is None or found[0].kind != codes_mod.CodeKind.VOUCHER.value:
        ev.reason = "unknown_code"
        return
    ev.code_row, code_state, reward = found
    ev.voucher_reward = reward
    away = reward is not None and away_voucher(ctx, reward)
    decision = eligibility.decide_voucher(eligibility.VoucherFacts(
        code=code_state, has_reward=reward is not None,
        discount_minor=voucher_discount(reward, basket_minor) if reward is not None else 0,
        away_unconfirmed=int(conn.execute(_AWAY_UNCONFIRMED).scalar_one()) if away else None,
        away_allowance=ctx.settings.config.central.voucher_offline_allowance, now=now))
    ev.reason, ev.discount_minor = decision.reason, decision.discount_minor


def voucher_discount(reward: VoucherState | Reward, basket_minor: int) -> int:
    """A voucher's value on this basket (rule values are stored already validated, in minor units)."""
    rule = RewardRule.model_construct(
        type=cast(RewardType, reward.reward_type), amount=reward.amount_minor, percent=Decimal(reward.percent or "0"),
        max_amount=0, item=reward.item, points=reward.points, description="",
    )
    return rule.discount_for(basket_minor)


def evaluate(conn: sa.Connection, ctx: StoreContext, raw_code: str, basket_minor: int, given: CustomerInput,
             now: datetime, *, recording: bool = False) -> Evaluation:
    """Evaluate on an open connection (a read unit for quotes, the write unit's for redemptions).

    Raises only for codes that fail to parse (mistyped or forged)."""
    parsed = parse_code(ctx, raw_code)
    ev = Evaluation(kind=parsed.kind, code=parsed.code)
    if parsed.kind is codes_mod.CodeKind.REFERRAL:
        _evaluate_referral(conn, ctx, ev, basket_minor, given, now, parsed, recording)
    else:
        _evaluate_voucher(conn, ctx, ev, basket_minor, now)
    return ev


def quote(ctx: StoreContext, raw_code: str, basket_minor: int, given: CustomerInput, *, till_id: str = "",
          staff: str = "") -> Evaluation:
    """The till's question: what does this code give on this basket? Counted once for the reports.

    Raises ``Refusal`` for codes that fail to parse (counted too)."""
    now = ctx.clock()
    refusal: Refusal | None = None
    with UnitOfWork(ctx.db, write=False) as uow:
        try:
            ev = evaluate(uow.conn, ctx, raw_code, basket_minor, given, now)
        except Refusal as exc:
            refusal, customer_id = exc, _known_customer(uow.conn, ctx, given)
        else:  # a referral code that was found has had its friend looked up; any other code has not
            looked_up = ev.kind is codes_mod.CodeKind.REFERRAL and ev.code_row is not None
            customer_id = ev.friend_id if looked_up else _known_customer(uow.conn, ctx, given)
    if refusal is not None:
        _count_quote(ctx, now, report_facts.report_code(raw_code), refusal.code, basket_minor, customer_id, given,
                     till_id, staff)
        raise refusal
    _count_quote(ctx, now, ev.code, ev.reason or "", basket_minor, customer_id, given, till_id, staff)
    return ev


def _count_quote(ctx: StoreContext, now: datetime, code: str, reason: str, basket_minor: int,
                 customer_id: str | None, given: CustomerInput, till_id: str, staff: str) -> None:
    """One ``quote`` (or ``voucher_quote``) report fact, unless this is a re-scan within the re-quote window."""
    kind = "voucher_quote" if report_facts.looks_like_voucher(code) else "quote"
    if kind == "quote":
        who = customer_id or (given.identity.normalised if given.identity else given.customer_id or "")
        if not ctx.recent_quotes.first_in_window(code, till_id, who, now):
            return
    report_facts.record(ctx.db, report_facts.Fact(
        at=now, kind=kind, till_id=till_id, staff=staff, code=code, reason=reason, basket_minor=basket_minor,
        customer_id=customer_id))


@dataclass(frozen=True)
class CodeInfo:
    code: Code
    program: Program | None
    voucher_reward: Reward | None
    status: str  # active | expired | redeemed | revoked | inactive


def lookup(ctx: StoreContext, raw_code: str) -> CodeInfo:
    """What a code is, for display; raises Refusal(unknown_code | mistyped_code)."""
    parsed = parse_code(ctx, raw_code)
    now = ctx.clock()
    with UnitOfWork(ctx.db, write=False) as uow:
        row = uow.session.get(Code, parsed.code)
        if row is None:
            raise Refusal("unknown_code")
        program = ctx.settings.program(row.program_id)
        reward = uow.session.get(Reward, row.reward_id) if row.reward_id else None
    referral = row.kind == codes_mod.CodeKind.REFERRAL.value
    running = program is not None and program.is_running(now.astimezone(ctx.tz).date()) if referral else None
    state = CodeState(expires_at=row.expires_at, redeemed=row.redeemed_at is not None,
                      revoked=row.revoked_at is not None)
    return CodeInfo(row, program, reward, eligibility.code_status(state, now, running))
