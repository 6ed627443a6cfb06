"""Quote a scanned code against a basket: the answer the cashier sees at once, with no write.

Both kinds of code go through here (the first symbol tells which), so the till needs no mode.
The same evaluation runs inside the redemption's write transaction, so what was quoted is what
is recorded — unless something changed in between, and then the refusal says what.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import cast

import sqlalchemy as sa

from pos_referral.db.models import Code, Customer, OutboxEvent, Redemption, Reward
from pos_referral.db.perf_raw import RawReader
from pos_referral.domain import codes as codes_mod
from pos_referral.domain.errors import REASONS, Refusal
from pos_referral.domain.rules import Program, RewardType
from pos_referral.domain.rules import Reward as RewardRule
from pos_referral.services.code_cache import CodeRef
from pos_referral.services.context import StoreContext
from pos_referral.services.customers import CustomerInput
from pos_referral.services.unit_of_work import UnitOfWork
from pos_referral.sync.offline import placeholder_customer_id


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

    @property
    def eligible(self) -> bool:
        return self.reason is None

    def refuse(self) -> None:
        if self.reason is not None:
            raise Refusal(self.reason)


Reads = sa.Connection | RawReader  # the write transaction's connection, or a quote's raw snapshot

_CODE_COLUMNS = (Code.code, Code.kind, Code.program_id, Code.customer_id, Code.variant, Code.expires_at)

# Hot-path statements are built once (pure construction, no I/O) and executed with parameters,
# so a quote pays neither statement building nor cache-key generation.
_CODE_BY_CODE = sa.select(*_CODE_COLUMNS).where(Code.code == sa.bindparam("code"))
_REFERRED = (
    sa.select(Redemption.id)
    .where(Redemption.program_id == sa.bindparam("program_id"), Redemption.friend_id == Customer.id)
    .exists()
)
_FRIEND_BY_HASH = sa.select(Customer.id, _REFERRED).where(Customer.identity_hash == sa.bindparam("value"))
_FRIEND_BY_ID = sa.select(Customer.id, _REFERRED).where(Customer.id == sa.bindparam("value"))
_CAP_USAGE = sa.select(sa.func.count(), sa.func.coalesce(sa.func.sum(Reward.amount_minor), 0)).where(
    Reward.customer_id == sa.bindparam("customer_id"),
    Reward.program_id == sa.bindparam("program_id"),
    Reward.source == "referral",
    sa.or_(Reward.status == "pending", Reward.status == "released"),  # no IN list: compiled once (db/perf_raw.py)
    Reward.created_at >= sa.bindparam("since", type_=Reward.created_at.type),
)


def parse_code(ctx: StoreContext, raw: str) -> codes_mod.ParsedCode:
    try:
        return ctx.code_cache.parse(raw, ctx.secrets.keyring)
    except codes_mod.CodeError as exc:
        raise Refusal(exc.reason) from None


def load_code(conn: Reads, ctx: StoreContext, code: str) -> CodeRef | None:
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


def cap_usage(
    conn: Reads, program: Program, referrer_id: str, now: datetime, ctx: StoreContext
) -> tuple[int, int]:
    """(count, money) of the referrer's live referral rewards inside the program's cap window."""
    since = program.cap.window_start(now, ctx.tz)
    row = conn.execute(_CAP_USAGE, {"customer_id": referrer_id, "program_id": program.id, "since": since}).one()
    return int(row[0]), int(row[1])


def cap_reached(conn: Reads, program: Program, referrer_id: str, now: datetime, ctx: StoreContext) -> bool:
    cap = program.cap
    if not cap.max_count and not cap.max_amount:
        return False
    count, money = cap_usage(conn, program, referrer_id, now, ctx)
    if cap.max_count and count >= cap.max_count:
        return True
    value = program.referrer_reward.value_minor()
    return bool(cap.max_amount and money + value > cap.max_amount)


def find_friend(
    conn: Reads, ctx: StoreContext, given: CustomerInput, program_id: str
) -> tuple[str, bool] | None:
    """(customer id, already referred in this program) for the customer at the till, in one query."""
    if given.customer_id:
        query, value = _FRIEND_BY_ID, given.customer_id
    elif given.identity:
        query, value = _FRIEND_BY_HASH, given.identity.hashed(ctx.secrets.pepper)
    else:
        return None
    row = conn.execute(query, {"program_id": program_id, "value": value}).first()
    return None if row is None else (row[0], bool(row[1]))


def _foreign_code(ctx: StoreContext, parsed: codes_mod.ParsedCode) -> CodeRef | None:
    """A chain store accepts an authentic code minted at another store before the two have synced.

    The referrer is recorded under a placeholder id that central maps to the real customer."""
    if not ctx.settings.config.central.url or parsed.store_no == ctx.store_no:
        return None
    program = ctx.settings.default_program
    variant = program.variant_for(parsed.code)
    return CodeRef(parsed.code, codes_mod.CodeKind.REFERRAL.value, program.id,
                   placeholder_customer_id(parsed.code), variant.name if variant else "", None)


def _evaluate_referral(
    conn: Reads, ctx: StoreContext, ev: Evaluation, basket_minor: int, given: CustomerInput, now: datetime,
    parsed: codes_mod.ParsedCode,
) -> None:
    row = load_code(conn, ctx, ev.code)
    if row is None and (row := _foreign_code(ctx, parsed)) is not None:
        ev.origin_store = parsed.store_no
    if row is None or row.kind != codes_mod.CodeKind.REFERRAL.value:
        ev.reason = "unknown_code"
        return
    ev.code_row = row
    program = ctx.settings.program(row.program_id)
    ev.program = program
    if program is None or not program.is_running(now.astimezone(ctx.tz).date()):
        ev.reason = "program_inactive"
        return
    if row.expires_at is not None and row.expires_at <= now:
        ev.reason = "expired"
        return
    friend = find_friend(conn, ctx, given, program.id) if given.given else None
    if friend is not None:
        ev.friend_id, already = friend
        if ev.friend_id == row.customer_id:
            ev.reason = "self_referral"
            return
        if already:
            ev.reason = "already_referred"
            return
        if program.new_customers_only:
            ev.reason = "not_new_customer"
            return
    if basket_minor < program.minimum_basket:
        ev.reason = "below_minimum"
        return
    if program.referrer_gets_reward() and cap_reached(conn, program, row.customer_id, now, ctx):
        ev.reason = "cap_reached"
        return
    if program.friend_gets_reward():
        ev.reward_rule = program.friend_reward_for(basket_minor, row.variant or None)
        ev.discount_minor = ev.reward_rule.discount_for(basket_minor)
    if not given.given:
        ev.notes.append(REASONS["customer_required"].message)


_VOUCHER_BY_CODE = (
    sa.select(*_CODE_COLUMNS, Code.redeemed_at, Code.revoked_at, Reward.id, Reward.customer_id, Reward.program_id,
              Reward.reward_type, Reward.amount_minor, Reward.percent, Reward.points, Reward.item, Code.store_no)
    .outerjoin(Reward, Reward.id == Code.reward_id)
    .where(Code.code == sa.bindparam("code"))
)


def load_voucher(conn: Reads, code: str) -> tuple[CodeRef, VoucherState | None] | None:
    row = conn.execute(_VOUCHER_BY_CODE, {"code": code}).first()
    if row is None:
        return None
    ref = CodeRef(*row[:6])
    if row[8] is None:
        return ref, None
    return ref, VoucherState(
        redeemed=row[6] is not None, revoked=row[7] is not None, reward_id=row[8], customer_id=row[9],
        program_id=row[10], reward_type=row[11], amount_minor=row[12], percent=row[13], points=row[14], item=row[15],
        home_store=row[16],
    )


_AWAY_UNCONFIRMED = sa.select(sa.func.count()).select_from(OutboxEvent).where(
    OutboxEvent.sent_at.is_(None), OutboxEvent.type == "voucher_redeemed", OutboxEvent.payload["away"].as_boolean())


def away_voucher(ctx: StoreContext, state: VoucherState) -> bool:
    """A chain voucher earned at another store (central's single use is decided after the fact)."""
    return bool(ctx.settings.config.central.url) and state.home_store != ctx.store_no


def _evaluate_voucher(
    conn: Reads, ctx: StoreContext, ev: Evaluation, basket_minor: int, now: datetime
) -> None:
    found = load_voucher(conn, ev.code)
    if found is None or found[0].kind != codes_mod.CodeKind.VOUCHER.value:
        ev.reason = "unknown_code"
        return
    ev.code_row, state = found
    ev.voucher_reward = state
    if state is None or state.revoked:
        ev.reason = "voucher_revoked"
    elif state.redeemed:
        ev.reason = "already_redeemed"
    elif ev.code_row.expires_at is not None and ev.code_row.expires_at <= now:
        ev.reason = "expired"
    elif away_voucher(ctx, state) and (
        conn.execute(_AWAY_UNCONFIRMED).scalar_one() >= ctx.settings.config.central.voucher_offline_allowance
    ):
        ev.reason = "store_not_allowed"  # allowance of vouchers from other stores not yet confirmed by central
    else:
        ev.discount_minor = voucher_discount(state, basket_minor)


def voucher_discount(reward: VoucherState | Reward, basket_minor: int) -> int:
    """A voucher's value on this basket (rule values are stored already validated, in minor units)."""
    rule = RewardRule.model_construct(
        type=cast(RewardType, reward.reward_type), amount=reward.amount_minor, percent=Decimal(reward.percent or "0"),
        max_amount=0, item=reward.item, points=reward.points, description="",
    )
    return rule.discount_for(basket_minor)


def evaluate(
    conn: Reads, ctx: StoreContext, raw_code: str, basket_minor: int, given: CustomerInput, now: datetime
) -> Evaluation:
    """Evaluate on an open connection (read for quotes, the write transaction's for redemptions).

    Raises only for codes that fail to parse (mistyped or forged)."""
    parsed = parse_code(ctx, raw_code)
    ev = Evaluation(kind=parsed.kind, code=parsed.code)
    if parsed.kind is codes_mod.CodeKind.REFERRAL:
        _evaluate_referral(conn, ctx, ev, basket_minor, given, now, parsed)
    else:
        _evaluate_voucher(conn, ctx, ev, basket_minor, now)
    return ev


def quote(ctx: StoreContext, raw_code: str, basket_minor: int, given: CustomerInput) -> Evaluation:
    """The till's question: what does this code give on this basket? Never writes.

    Runs on a bare read connection (WAL readers never wait for writers), not an ORM session:
    this is the hottest path of the service."""
    readers = ctx.db.raw_readers
    if readers is None:  # PostgreSQL (central): the engine's own connection
        with ctx.db.read_engine.connect() as conn:
            return evaluate(conn, ctx, raw_code, basket_minor, given, ctx.clock())
    # statement by statement, not one snapshot: a quote is advice (the redemption evaluates again
    # inside its write transaction), and a cached code leaves one or two reads, so the BEGIN and
    # ROLLBACK would double the SQLite calls, each a GIL hand-off under load (bench/till_latency.py)
    return readers.read(lambda raw: evaluate(raw, ctx, raw_code, basket_minor, given, ctx.clock()), snapshot=False)


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
    if row.revoked_at is not None:
        status = "revoked"
    elif row.redeemed_at is not None:
        status = "redeemed"
    elif row.expires_at is not None and row.expires_at <= now:
        status = "expired"
    elif program is None or not program.is_running(now.astimezone(ctx.tz).date()):
        status = "inactive"
    else:
        status = "active"
    return CodeInfo(row, program, reward, status)
