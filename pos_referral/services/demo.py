"""A realistic store history for trying the reports and benchmarking them (``pos-referral demo``).

Written with bulk Core inserts (executemany), chunk by chunk in short write transactions, not
through the API: a million referrals take minutes, not hours. What it makes: customers with
referral codes (channels and tills mixed), a few busy "ambassadors" and many occasional
referrers (Pareto), friends with lognormal baskets and the program's real discount, their own
receipt codes, refunds, referrer rewards pending, voided or released as vouchers (most of them
spent later at the till), landing visits, quotes and voucher sales for the report counts.

Not for a live shop: the randomness is ``random`` with a seed (repeatable; nothing here is a
secret), caps and milestones are not applied, and no outbox events are written, so nothing of
it is ever synced to central. Codes are real codes minted under the store's key; past 2^20 codes
of one kind the extra ones are minted as if from other store numbers. The till's counter stops at
2^20 (the till refuses to mint past it), so the demo keeps its own counter of how far it went
(``demo:<kind>:<key id>``), and a second demo on the same data carries on from there.
"""

from __future__ import annotations

import itertools
import multiprocessing
import random
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import sqlalchemy as sa

from pos_referral.db.base import UTCDateTime, table
from pos_referral.db.models import Code, Counter, Customer, LandingVisit, LedgerEntry, Redemption, ReportEvent, Reward
from pos_referral.domain.codes import CodeKey, CodeKind, mint
from pos_referral.domain.identity import Identity
from pos_referral.services.context import StoreContext
from pos_referral.services.referral_codes import SEQ_LIMIT
from pos_referral.services.unit_of_work import UnitOfWork

T = TypeVar("T")
CHANNELS = (("receipt", 60), ("card", 25), ("kiosk", 10), ("api", 5))
TILLS = ("T1", "T2", "T3")
REFUND_SHARE = 0.03
VOUCHER_SPENT_SHARE = 0.65


@dataclass(frozen=True)
class DemoPlan:
    customers: int
    referrals: int
    days: int = 365
    seed: int = 1
    chunk: int = 25_000


def mint_block(kind: str, store_no: int, start: int, n: int, key: CodeKey) -> list[str]:
    """Codes for sequence numbers start..start+n-1 (past 2^20, as if minted by the next store numbers)."""
    kind_ = CodeKind(kind)
    return [mint(kind_, (store_no + k // SEQ_LIMIT) % 1024, k % SEQ_LIMIT, key) for k in range(start, start + n)]


class _Minter:
    """Reserves blocks of sequence numbers from the store's counters; mints them in a second process.

    Minting (five HMACs per code) is a third of the work, so a worker process mints the next
    chunk's codes while this one inserts the current chunk.
    """

    def __init__(self, ctx: StoreContext, pool: Executor) -> None:
        self.key, self.store_no, self.pool = ctx.secrets.keyring.current(), ctx.store_no, pool
        self.next: dict[str, int] = {}
        with UnitOfWork(ctx.db, write=False) as read:
            conn = read.conn
            for kind in CodeKind:
                found = dict(conn.execute(sa.select(Counter.name, Counter.value).where(
                    Counter.name.in_((self._name(kind.value), self._name(kind.value, demo=True))))).all())
                last = found.get(self._name(kind.value))
                beyond = found.get(self._name(kind.value, demo=True))  # the next sequence past the till's limit
                if beyond is None and last is not None and int(last) + 1 >= SEQ_LIMIT:
                    # a demo from before that counter went past the limit without saying how far: every
                    # sequence up to its end is taken, so no more than the codes of that kind there are
                    beyond = conn.execute(sa.select(sa.func.count()).select_from(Code).where(
                        Code.kind == kind.value)).scalar()
                self.next[kind.value] = max(0 if last is None else int(last) + 1, int(beyond or 0))
        self._start = dict(self.next)

    def _name(self, kind: str, demo: bool = False) -> str:
        return f"{'demo:' if demo else ''}{kind}:{self.key.key_id}"

    def reserve(self, kind: CodeKind, n: int) -> Future[list[str]]:
        start = self.next[kind.value]
        self.next[kind.value] += n
        return self.pool.submit(mint_block, kind.value, self.store_no, start, n, self.key)

    def save(self, conn: sa.Connection) -> None:
        counters = table(Counter)
        for kind, value in self.next.items():
            if value == self._start[kind]:
                continue
            values = {self._name(kind): min(value, SEQ_LIMIT) - 1}
            if value > SEQ_LIMIT:
                values[self._name(kind, demo=True)] = value
            for name, saved in values.items():
                done = conn.execute(sa.update(counters).where(counters.c.name == name).values(value=saved))
                if done.rowcount == 0:
                    conn.execute(sa.insert(counters), {"name": name, "value": saved})
        self._start = dict(self.next)


_LITE: dict[str, tuple[sa.TableClause, tuple[str, ...]]] = {}


def _lite(model: type[Any]) -> tuple[sa.TableClause, tuple[str, ...]]:
    """The table without column types, and its time columns: SQLite rows go in pre-formatted, unprocessed."""
    full = table(model)
    if full.name not in _LITE:
        times = tuple(c.name for c in full.columns if isinstance(c.type, UTCDateTime))
        _LITE[full.name] = (sa.table(full.name, *[sa.column(c.name) for c in full.columns]), times)
    return _LITE[full.name]


def _stamp(value: datetime | None) -> str | None:
    """What UTCDateTime stores on SQLite: naive UTC, microseconds always written."""
    if value is None:
        return None
    if value.utcoffset():
        value = value.astimezone(UTC)
    return value.isoformat(" ", "microseconds")[:26]  # drop "+00:00"


def _insert(conn: sa.Connection, rows: dict[type[Any], list[dict[str, Any]]]) -> None:
    for model, batch in rows.items():
        if not batch:
            continue
        if conn.dialect.name != "sqlite":
            conn.execute(sa.insert(table(model)), batch)
            continue
        lite, times = _lite(model)
        for row in batch:
            for name in times:
                row[name] = _stamp(row.get(name))  # a time column the row leaves out is NULL
        conn.execute(sa.insert(lite), batch)


def _hex(rnd: random.Random) -> str:
    return f"{rnd.getrandbits(128):032x}"


def _customer(ctx: StoreContext, rnd: random.Random, n: int, at: datetime) -> dict[str, Any]:
    identity = Identity("phone", f"+4790{n:07d}")
    return dict(id=_hex(rnd), identity_hash=identity.hashed(ctx.secrets.pepper), identity_hint=identity.hint,
                first_name=rnd.choice(("Ann", "Bo", "Kari", "Ola", "Mia", "Per", "Siti", "Budi", "Lina", "Marco")),
                language="", store_no=ctx.store_no, created_at=at)


def generate(ctx: StoreContext, plan: DemoPlan, progress: Callable[[int], object] | None = None) -> dict[str, int]:
    """Insert the history; returns how many rows of each kind were written."""
    if plan.customers + 2 * plan.referrals < 50_000:  # not worth starting a process
        return _generate(ctx, plan, _Minter(ctx, _InlineExecutor()), progress)
    with ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn")) as pool:
        return _generate(ctx, plan, _Minter(ctx, pool), progress)


class _InlineExecutor(Executor):
    """Runs each job at once, in this thread (small demos)."""

    def submit(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> Future[T]:
        done: Future[T] = Future()
        done.set_result(fn(*args, **kwargs))
        return done


def _chunks(total: int, size: int) -> list[tuple[int, int]]:
    return [(first, min(size, total - first)) for first in range(0, total, size)]


def _generate(ctx: StoreContext, plan: DemoPlan, minter: _Minter,
              progress: Callable[[int], object] | None) -> dict[str, int]:
    program = ctx.settings.default_program
    now = ctx.clock().replace(microsecond=0)
    start = now - timedelta(days=plan.days)
    span = (now - start).total_seconds()
    counts = dict.fromkeys(("customers", "codes", "redemptions", "rewards", "vouchers_spent"), 0)
    with UnitOfWork(ctx.db, write=False) as read:
        conn = read.conn
        people_before = int(conn.execute(sa.select(sa.func.count()).select_from(Customer)).scalar() or 0)
        sales_before = int(conn.execute(sa.select(sa.func.count()).select_from(Redemption)).scalar() or 0)
    # a second demo on the same data draws other ids (and numbers its sales after the first one's)
    rnd = random.Random(plan.seed if not people_before else f"{plan.seed}:{people_before}")
    phones = itertools.count(people_before)
    referrers: list[tuple[str, str, datetime]] = []  # (customer id, code, code issued at)
    people = _chunks(plan.customers, plan.chunk)
    minted = [minter.reserve(CodeKind.REFERRAL, size) for _, size in people]
    for (_, size), codes in zip(people, minted, strict=True):
        rows: dict[type[Any], list[dict[str, Any]]] = {Customer: [], Code: []}
        times = sorted(start + timedelta(seconds=int(rnd.random() * span * 0.9)) for _ in range(size))
        for at, code in zip(times, codes.result(), strict=True):
            person = _customer(ctx, rnd, next(phones), at)
            channel = rnd.choices([c for c, _ in CHANNELS], [w for _, w in CHANNELS])[0]
            rows[Customer].append(person)
            rows[Code].append(_code_row(code, "referral", person["id"], channel, rnd.choice(TILLS), at,
                                        program.code_valid_days, ctx.store_no, program.id))
            referrers.append((person["id"], code, at))
        _write(ctx, rows, minter)
        counts["customers"] += size
        counts["codes"] += size
        if progress:
            progress(size)
    weights = list(itertools.accumulate(rnd.paretovariate(1.16) for _ in referrers))
    batches = _chunks(plan.referrals, plan.chunk)
    ahead = [(minter.reserve(CodeKind.REFERRAL, size), minter.reserve(CodeKind.VOUCHER, size))
             for _, size in batches[:1]]
    for i, (first, size) in enumerate(batches):
        if i + 1 < len(batches):  # the worker mints the next chunk's codes while this one is built
            nxt = batches[i + 1][1]
            ahead.append((minter.reserve(CodeKind.REFERRAL, nxt), minter.reserve(CodeKind.VOUCHER, nxt)))
        own, vouchers = ahead[i]
        rows = _referral_chunk(ctx, rnd, referrers, weights, sales_before + first, own.result(),
                               iter(vouchers.result()), phones, now, counts)
        _write(ctx, rows, minter)
        if progress:
            progress(size)
    return counts


def _write(ctx: StoreContext, rows: dict[type[Any], list[dict[str, Any]]], minter: _Minter) -> None:
    with UnitOfWork(ctx.db, write=True) as uow:
        if uow.conn.dialect.name == "sqlite":
            uow.conn.exec_driver_sql("PRAGMA cache_size=-200000")  # random ids: keep the indexes in memory
        _insert(uow.conn, rows)
        minter.save(uow.conn)
        uow.commit()


def _code_row(code: str, kind: str, customer: str, channel: str, till: str, at: datetime, valid_days: int,
              store_no: int, program_id: str, reward_id: str | None = None) -> dict[str, Any]:
    return dict(code=code, kind=kind, program_id=program_id, customer_id=customer, variant="", channel=channel,
                store_no=store_no, till_id=till, created_at=at,
                expires_at=at + timedelta(days=valid_days) if valid_days else None, reward_id=reward_id,
                redeemed_at=None, redeemed_sale_id=None, revoked_at=None)


def _referral_chunk(ctx: StoreContext, rnd: random.Random, referrers: list[tuple[str, str, datetime]],
                    weights: list[float], first: int, own_codes: list[str], vouchers: Iterator[str],
                    phones: itertools.count[int], now: datetime,
                    counts: dict[str, int]) -> dict[type[Any], list[dict[str, Any]]]:
    program = ctx.settings.default_program
    rule = program.referrer_reward
    size = len(own_codes)
    rows: dict[type[Any], list[dict[str, Any]]] = {m: [] for m in (
        Customer, Code, Redemption, Reward, LedgerEntry, LandingVisit, ReportEvent)}
    picks = rnd.choices(referrers, cum_weights=weights, k=size)
    for i, ((referrer, code, issued), own) in enumerate(zip(picks, own_codes, strict=True)):
        at = issued + timedelta(seconds=rnd.random() * (now - issued).total_seconds())
        at = at.replace(microsecond=0)
        till = rnd.choice(TILLS)
        friend = _customer(ctx, rnd, next(phones), at)
        basket = max(program.minimum_basket, int(rnd.lognormvariate(8.4, 0.55)))
        discount = program.friend_reward_for(basket).discount_for(basket)
        refunded = basket if rnd.random() < REFUND_SHARE else 0
        red_id, reward_id, sale = _hex(rnd), _hex(rnd), f"demo-{first + i}"
        rows[Customer].append(friend)
        rows[Code].append(_code_row(own, "referral", friend["id"], "receipt", till, at, program.code_valid_days,
                                    ctx.store_no, program.id))
        rows[Redemption].append(dict(id=red_id, code=code, program_id=program.id, variant="", referrer_id=referrer,
                                     friend_id=friend["id"], sale_id=sale, till_id=till, store_no=ctx.store_no,
                                     basket_minor=basket, discount_minor=discount, refunded_minor=refunded,
                                     friend_code=own, created_at=at))
        ledger = rows[LedgerEntry]
        ledger.append(_ledger(at, friend["id"], "friend_discount", discount, red_id, None, sale))
        ledger.append(_ledger(at, referrer, "referrer_reward_pending", rule.amount, red_id, reward_id, sale))
        hold_until = at + timedelta(days=program.hold_days)
        reward = dict(id=reward_id, customer_id=referrer, program_id=program.id, redemption_id=red_id,
                      source="referral", milestone=0, reward_type=rule.type, amount_minor=rule.amount,
                      percent=str(rule.percent), points=rule.points, item=rule.item, status="pending",
                      hold_until=hold_until, released_at=None, voucher_code=None, expires_at=None, created_at=at)
        if refunded:
            later = at + timedelta(days=rnd.random() * program.hold_days)
            reward["status"] = "voided"
            ledger.append(_ledger(later, friend["id"], "sale_refunded", -refunded, red_id, None, sale))
            ledger.append(_ledger(later, referrer, "referrer_reward_voided", -rule.amount, red_id, reward_id, sale))
        elif hold_until <= now:
            _release(ctx, rnd, rows, reward, vouchers, till, now, counts)
        rows[Reward].append(reward)
        for _ in range(rnd.choice((0, 1, 1, 1, 2))):  # the friend looked at the landing page first
            rows[LandingVisit].append(dict(code=code, at=at - timedelta(hours=rnd.random() * 72), language=""))
        rows[ReportEvent].append(_event(at - timedelta(minutes=1), "quote", till, code, ""))
        if rnd.random() < 0.08:  # a friend who was not new to the shop
            rows[ReportEvent].append(_event(at - timedelta(hours=rnd.random() * 48), "quote", till, code,
                                            "not_new_customer"))
        if rnd.random() < 0.002:
            rows[ReportEvent].append(_event(at, "refused", till, code, "self_referral"))
    counts["customers"] += size
    counts["codes"] += size
    counts["redemptions"] += size
    counts["rewards"] += size
    return rows


def _release(ctx: StoreContext, rnd: random.Random, rows: dict[type[Any], list[dict[str, Any]]],
             reward: dict[str, Any], vouchers: Iterator[str], till: str, now: datetime, counts: dict[str, int]) -> None:
    program = ctx.settings.default_program
    released = min(reward["hold_until"] + timedelta(minutes=rnd.random() * 60), now)
    voucher = next(vouchers)
    voucher_row = _code_row(voucher, "voucher", reward["customer_id"], "reward", "", released,
                            program.reward_valid_days, ctx.store_no, program.id, reward_id=reward["id"])
    reward.update(status="released", released_at=released, voucher_code=voucher,
                  expires_at=voucher_row["expires_at"])
    rows[LedgerEntry].append(_ledger(released, reward["customer_id"], "referrer_reward_released",
                                     reward["amount_minor"], reward["redemption_id"], reward["id"], None))
    expires = voucher_row["expires_at"] or now
    if rnd.random() < VOUCHER_SPENT_SHARE:
        spent = released + (min(expires, now) - released) * rnd.random()
        sale = f"demo-v-{voucher}"
        basket = max(reward["amount_minor"], int(rnd.lognormvariate(8.6, 0.5)))
        value = min(reward["amount_minor"], basket)
        voucher_row.update(redeemed_at=spent, redeemed_sale_id=sale)
        rows[LedgerEntry].append(_ledger(spent, reward["customer_id"], "voucher_redeemed", value, None,
                                         reward["id"], sale))
        event = _event(spent, "voucher_sale", till, voucher, "")
        event.update(sale_id=sale, customer_id=reward["customer_id"], basket_minor=basket)
        rows[ReportEvent].append(event)
        counts["vouchers_spent"] += 1
    rows[Code].append(voucher_row)


def _ledger(at: datetime, customer: str, entry: str, amount: int, redemption: str | None, reward: str | None,
            sale: str | None) -> dict[str, Any]:
    return dict(at=at, customer_id=customer, entry=entry, amount_minor=amount, points=0, redemption_id=redemption,
                reward_id=reward, sale_id=sale)


def _event(at: datetime, kind: str, till: str, code: str, reason: str) -> dict[str, Any]:
    return dict(at=at, kind=kind, till_id=till, staff="", code=code, reason=reason, sale_id="", customer_id=None,
                basket_minor=0)
