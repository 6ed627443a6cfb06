"""The books: the reward liability per period, as a ledger an accountant can reconcile.

The liability is the dashboard's (reports/money.liability): referrer rewards still pending, plus released
rewards whose voucher is neither redeemed, revoked nor expired, at face value (percent and free-item
rewards count in number with no money value). Each reward is followed through its history — when it
was earned (``rewards.created_at``), released (``released_at``), voided, capped or clawed back (their
ledger rows), its voucher redeemed or revoked (``codes.redeemed_at`` / ``revoked_at``) or expired
(``expires_at``) — so the liability at any moment is known, not only now. Per period (local days or
months of the store's zone) that gives:

    opening outstanding + earned − redeemed − expired − voided − capped − clawed back
        − settled without a voucher (a released points reward) = closing outstanding

``released`` moves a reward from pending to voucher and does not change the total. ``redeemed`` is the
voucher's face value leaving the liability; ``voucher discounts`` is what the till actually took off
(the ledger's ``voucher_redeemed`` rows, the dashboard's reward cost from vouchers). The last period
ends at the time of the report, so its closing figures are the dashboard's "outstanding reward liability".

A status decided elsewhere with no dated trace here (a chain store hearing "voided" from central) is
taken to have ended the reward when it was earned; central and a standalone shop have every trace.
"""

from __future__ import annotations

import csv
import io
from bisect import bisect_left, bisect_right
from collections.abc import Iterator
from dataclasses import dataclass, field, fields
from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from pos_referral.db.models import Code, LedgerEntry, Reward
from pos_referral.domain.csv_cells import safe_row
from pos_referral.domain.money import format_money
from pos_referral.domain.money_text import header_with_currency
from pos_referral.services.context import StoreContext
from pos_referral.services.reports.date_range import DateRange, local_midnight
from pos_referral.services.unit_of_work import UnitOfWork

FLOWS = ("earned", "released", "redeemed", "expired", "voided", "capped", "clawed_back", "settled_without_voucher")
EXITS = ("redeemed", "expired", "voided", "capped", "clawed_back", "settled_without_voucher")
_TICK = timedelta(microseconds=1)
_EXIT_ENTRIES = {"referrer_reward_voided": "voided", "referrer_reward_capped": "capped", "clawback": "clawed_back"}


@dataclass
class Figure:
    n: int = 0
    minor: int = 0

    def add(self, amount: int) -> None:
        self.n += 1
        self.minor += amount


@dataclass
class Period:
    """One row of the books: [start, end) with flows and the outstanding at both ends."""

    label: str
    start: datetime
    end: datetime
    opening: Figure = field(default_factory=Figure)
    closing_pending: Figure = field(default_factory=Figure)
    closing_vouchers: Figure = field(default_factory=Figure)
    flows: dict[str, Figure] = field(default_factory=lambda: {f: Figure() for f in FLOWS})
    voucher_discounts_minor: int = 0

    @property
    def closing(self) -> Figure:
        return Figure(self.closing_pending.n + self.closing_vouchers.n,
                      self.closing_pending.minor + self.closing_vouchers.minor)

    def reconciles(self) -> bool:
        """opening + earned − every exit = closing, in number and in money."""
        n = self.opening.n + self.flows["earned"].n - sum(self.flows[f].n for f in EXITS)
        minor = self.opening.minor + self.flows["earned"].minor - sum(self.flows[f].minor for f in EXITS)
        return (n, minor) == (self.closing.n, self.closing.minor)


@dataclass(frozen=True)
class Life:
    """One reward's history: pending [created, pending_end), voucher [released, voucher_end)."""

    amount: int
    created: datetime
    pending_end: datetime | None  # None: still pending
    pending_exit: str  # released | voided | capped (when pending_end is set)
    voucher_from: datetime | None  # released with a voucher the store holds
    voucher_end: datetime | None
    voucher_exit: str  # redeemed | clawed_back | expired

    def events(self) -> Iterator[tuple[datetime, str]]:
        yield self.created, "earned"
        if self.pending_end is not None:
            yield self.pending_end, self.pending_exit
            if self.pending_exit == "released" and self.voucher_from is None:
                yield self.pending_end, "settled_without_voucher"
        if self.voucher_end is not None:
            yield self.voucher_end, self.voucher_exit


def _lives(conn: sa.Connection, now: datetime) -> list[Life]:
    """Every reward's life. A recorded time after ``now`` (another store's clock ahead, a made-up history)
    counts as ``now``: what the database already says happened has happened, as the dashboard reads it."""

    def seen(t: datetime | None) -> datetime | None:
        return None if t is None else min(t, now)

    ended: dict[str, tuple[datetime, str]] = {}
    for reward_id, entry, at in conn.execute(
            sa.select(LedgerEntry.reward_id, LedgerEntry.entry, sa.func.min(LedgerEntry.at))
            .where(LedgerEntry.entry.in_(tuple(_EXIT_ENTRIES)), LedgerEntry.reward_id.is_not(None))
            .group_by(LedgerEntry.reward_id, LedgerEntry.entry)):
        ended[str(reward_id)] = (min(at, now), _EXIT_ENTRIES[entry])
    rows = conn.execute(
        sa.select(Reward.id, Reward.amount_minor, Reward.status, Reward.created_at, Reward.released_at,
                  Code.code, Code.redeemed_at, Code.revoked_at, Code.expires_at)
        .select_from(Reward).outerjoin(Code, sa.and_(Code.code == Reward.voucher_code, Code.kind == "voucher")))
    lives = []
    for rid, amount, status, created_at, released_at, code, redeemed_at, revoked_at, expires in rows:
        exit_ = ended.get(rid)
        created, released, redeemed, revoked = min(created_at, now), seen(released_at), seen(redeemed_at), \
            seen(revoked_at)
        if status == "pending":
            lives.append(Life(amount, created, None, "", None, None, ""))
            continue
        if released is None:  # voided or capped while pending (or so decided elsewhere, undated: at once)
            at, kind = exit_ if exit_ and exit_[1] != "clawed_back" else (created, _status_exit(status))
            lives.append(Life(amount, created, max(at, created), kind, None, None, ""))
            continue
        released = max(released, created)
        if code is None:
            lives.append(Life(amount, created, released, "released", None, None, ""))
            continue
        ends = [(t, kind) for t, kind in ((redeemed, "redeemed"), (revoked, "clawed_back"), (expires, "expired"))
                if t is not None]
        if status == "clawed_back":
            ends.append((exit_[0] if exit_ else released, "clawed_back"))
        end, kind = min(ends, key=lambda e: e[0]) if ends else (None, "")
        lives.append(Life(amount, created, released, "released", released, max(end, released) if end else None,
                          kind))
    return lives


def _status_exit(status: str) -> str:
    return {"capped": "capped", "clawed_back": "clawed_back"}.get(status, "voided")


def periods_of(rng: DateRange, by: str, now: datetime) -> list[tuple[str, datetime, datetime]]:
    """[(label, start, end)] in local days or calendar months; the last ends just after ``now`` (what was
    recorded up to the report's moment, as the dashboard counts it; no expiry of the future yet)."""
    now = now + _TICK
    out: list[tuple[str, datetime, datetime]] = []
    day = rng.first
    while day <= rng.last:
        if by == "day":
            nxt, label = date.fromordinal(day.toordinal() + 1), day.isoformat()
        else:
            nxt = date(day.year + day.month // 12, day.month % 12 + 1, 1)
            label = day.strftime("%Y-%m")
        start, end = local_midnight(day, rng.tz), local_midnight(min(nxt, date.fromordinal(rng.last.toordinal() + 1)),
                                                                 rng.tz)
        if start >= now:
            break
        out.append((label, start, min(end, now)))
        day = nxt
    return out


class _Holding:
    """Rewards in one state over time: how many (and how much) at any moment, by bisection."""

    def __init__(self) -> None:
        self._in: list[tuple[datetime, int]] = []
        self._out: list[tuple[datetime, int]] = []
        self._ready = False

    def enter(self, at: datetime, amount: int) -> None:
        self._in.append((at, amount))
        self._ready = False

    def leave(self, at: datetime, amount: int) -> None:
        self._out.append((at, amount))
        self._ready = False

    def _prepare(self) -> None:
        self._sides = []
        for side in (self._in, self._out):
            side.sort(key=lambda e: e[0])
            times, n, minor = [e[0] for e in side], [0], [0]
            for _, amount in side:
                n.append(n[-1] + 1)
                minor.append(minor[-1] + amount)
            self._sides.append((times, n, minor))
        self._ready = True

    def at(self, t: datetime) -> Figure:
        """Held at ``t``: entered before ``t`` and not left before ``t`` (a reward leaving at ``t`` is still held)."""
        if not self._ready:
            self._prepare()
        (ti, ni, mi), (to, no, mo) = self._sides
        i, o = bisect_left(ti, t), bisect_left(to, t)
        return Figure(ni[i] - no[o], mi[i] - mo[o])


def _sum(a: Figure, b: Figure) -> Figure:
    return Figure(a.n + b.n, a.minor + b.minor)


@dataclass
class Books:
    currency: str
    generated_at: datetime
    periods: list[Period]

    @property
    def total(self) -> Period:
        first, last = self.periods[0], self.periods[-1]
        total = Period("total", first.start, last.end, opening=first.opening, closing_pending=last.closing_pending,
                       closing_vouchers=last.closing_vouchers)
        for p in self.periods:
            for f in FLOWS:
                total.flows[f].n += p.flows[f].n
                total.flows[f].minor += p.flows[f].minor
            total.voucher_discounts_minor += p.voucher_discounts_minor
        return total


def build_books(ctx: StoreContext, rng: DateRange, by: str = "month") -> Books:
    """The liability ledger of ``rng`` per ``by`` (``day`` | ``month``), on one read snapshot."""
    now = ctx.clock()
    spans = periods_of(rng, by, now)
    with UnitOfWork(ctx.db, write=False) as read:
        conn = read.conn
        lives = _lives(conn, now)
        discounts = [(at, int(a)) for at, a in conn.execute(
            sa.select(LedgerEntry.at, LedgerEntry.amount_minor).where(
                LedgerEntry.entry == "voucher_redeemed", LedgerEntry.at >= rng.start, LedgerEntry.at <= now))]
    periods = [Period(label, start, end) for label, start, end in spans]
    pending, vouchers = _Holding(), _Holding()
    for life in lives:
        pending.enter(life.created, life.amount)
        if life.pending_end is not None:
            pending.leave(life.pending_end, life.amount)
        if life.voucher_from is not None:
            vouchers.enter(life.voucher_from, life.amount)
            if life.voucher_end is not None:
                vouchers.leave(life.voucher_end, life.amount)
    for p in periods:
        p.opening = _sum(pending.at(p.start), vouchers.at(p.start))
        p.closing_pending, p.closing_vouchers = pending.at(p.end), vouchers.at(p.end)
    starts = [p.start for p in periods]

    def period_of(at: datetime) -> Period | None:
        i = bisect_right(starts, at) - 1
        return periods[i] if i >= 0 and at < periods[i].end else None

    for life in lives:
        for at, kind in life.events():
            if (hit := period_of(at)) is not None:
                hit.flows[kind].add(life.amount)
    for at, amount in discounts:
        if (hit := period_of(at)) is not None:
            hit.voucher_discounts_minor += amount
    return Books(ctx.settings.config.store.currency, now, periods)


COLUMNS: list[tuple[str, str]] = [
    ("opening", "Outstanding at start"), *((f, f.replace("_", " ").capitalize()) for f in FLOWS),
    ("closing_pending", "Pending at end"), ("closing_vouchers", "Vouchers outstanding at end"),
    ("closing", "Outstanding at end")]


def _cells(p: Period, tz: Any, now: datetime) -> list[object]:
    until = min(p.end, now).replace(microsecond=0) if p.end > now else p.end
    cells: list[object] = [p.label, p.start.astimezone(tz).isoformat(), until.astimezone(tz).isoformat()]
    for key, _ in COLUMNS:
        figure: Figure = p.flows[key] if key in FLOWS else getattr(p, key)
        cells += [figure.n, format_money(figure.minor)]
    return [*cells, format_money(p.voucher_discounts_minor)]


def headers(currency: str) -> list[str]:
    out = ["Period", "From", "Until", "Currency"]
    for _, title in COLUMNS:
        out += [f"{title} (count)", header_with_currency(title, currency)]
    return [*out, header_with_currency("Voucher discounts given", currency)]


def to_csv(books: Books, rng: DateRange) -> Iterator[str]:
    """The books as CSV: one row per period and a total row; money as plain decimals, currency named."""
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(safe_row(list(headers(books.currency))))
    for p in [*books.periods, *([books.total] if books.periods else [])]:
        cells = _cells(p, rng.tz, books.generated_at)
        writer.writerow(safe_row([*cells[:3], books.currency, *cells[3:]]))
    yield buf.getvalue()


def figures(p: Period) -> dict[str, Any]:
    """A period's figures in minor units (tests, JSON)."""
    out: dict[str, Any] = {f.name: getattr(p, f.name) for f in fields(p) if f.name in ("label", "start", "end")}
    out.update({k: (v.n, v.minor) for k, v in p.flows.items()})
    out.update(opening=(p.opening.n, p.opening.minor), closing=(p.closing.n, p.closing.minor),
               closing_vouchers=(p.closing_vouchers.n, p.closing_vouchers.minor),
               closing_pending=(p.closing_pending.n, p.closing_pending.minor),
               voucher_discounts_minor=p.voucher_discounts_minor)
    return out
