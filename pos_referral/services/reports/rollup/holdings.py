"""Open rewards kept beside the raw rows: the liability and "customers with unredeemed rewards" without a scan.

``report_holdings`` holds every reward a customer could still use, as the raw reports define it
(``money.liability``, ``people.unredeemed_rewards``): pending rewards, and released
rewards whose voucher is neither redeemed nor revoked nor expired; ``report_holders`` the sum per
customer (an upper bound of what they hold at any later moment: vouchers only leave by expiring).

Rewards change state in place, so the catch-up follows what every change writes beside it: a new
reward row (row ids only grow), or a ledger entry naming the reward (release, cap, void, clawback,
voucher spent). Those rewards are recomputed from the raw rows. Changes central sends down
(``sync/inbound.py``) leave no such trace, so when the store's changes cursor has moved the tables
are rebuilt. Expiry needs no trace: the catch-up drops the vouchers expired by its clock, and a
report only uses the tables for a moment at or after that (``purged``), filtering by its own time.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from pos_referral.db.base import table
from pos_referral.db.engine import Database
from pos_referral.db.models import Code, Counter, LedgerEntry, Reward
from pos_referral.db.models_reports import ReportHolder, ReportHolding, ReportHoldingSum, ReportWatermark
from pos_referral.services.reports.date_range import breathe
from pos_referral.services.reports.rollup.buckets import RAW_KEY, set_marks, unindexed
from pos_referral.services.unit_of_work import UnitOfWork

CHANGES_CURSOR = "sync:changes_cursor"  # sync/relay.py: how far this store applied central's changes
WALK = 200
_H = table(ReportHolding)
_C = table(ReportHolder)
_S = table(ReportHoldingSum)
_W = table(ReportWatermark)
_REWARD_ROWID: sa.ColumnElement[int] = sa.literal_column("rewards.rowid")


def _micros(moment: datetime) -> int:
    return int(moment.timestamp() * 1_000_000)


def usable(conn: sa.Connection, now: datetime, store_no: int | None) -> bool:
    if conn.dialect.name != "sqlite" or store_no is not None or conn.info.get(RAW_KEY):
        return False
    purged = conn.execute(sa.select(_W.c.value).where(_W.c.source == "h:purged")).scalar()
    return purged is not None and _micros(now) >= int(purged)


def fed_by_central(conn: sa.Connection) -> bool:
    """This store has applied changes from central (a chain store): rewards change without a trace here."""
    return conn.execute(sa.select(Counter.value).where(Counter.name == CHANGES_CURSOR)).scalar() is not None


def _open(ids: list[str] | None, now: datetime) -> list[sa.Select[Any]]:
    """Raw: the open rewards (of ``ids``, or all) as (reward, code, customer, amount, kind, expires).

    For a few ``ids`` the status and redemption columns are kept off their indexes (``|| ''``, ``+``):
    otherwise SQLite walks every pending reward or every unredeemed code instead of looking the ids up.
    """
    few = ids is not None
    status = Reward.status + "" if few else Reward.status
    redeemed = unindexed(Code.redeemed_at) if few else Code.redeemed_at
    pending: Any = sa.select(Reward.id, sa.literal(""), Reward.customer_id, Reward.amount_minor, sa.literal("pending"),
                             sa.null()).where(status == "pending")
    vouchers: Any = (sa.select(Reward.id, Code.code, Reward.customer_id, Reward.amount_minor, sa.literal("voucher"),
                               Code.expires_at)
                     .select_from(Code).join(Reward, Reward.id == Code.reward_id)
                     .where(Code.kind == "voucher", redeemed.is_(None), Code.revoked_at.is_(None),
                            status == "released", sa.or_(Code.expires_at.is_(None), Code.expires_at > now)))
    if ids is None:
        return [pending, vouchers]
    return [pending.where(Reward.id.in_(ids)), vouchers.where(Code.reward_id.in_(ids))]


def _hour(expires: datetime | None) -> int:
    return -1 if expires is None else int(expires.timestamp()) // 3600


def liability(conn: sa.Connection, now: datetime) -> tuple[int, int, int, int]:
    """(pending rewards, their value, usable vouchers, their value) at ``now``.

    Sums per hour of expiry, the hours after this one; this hour's vouchers one by one.
    """
    sums = {str(kind): (int(n), int(m)) for kind, n, m in conn.execute(
        sa.select(_S.c.kind, sa.func.coalesce(sa.func.sum(_S.c.n), 0), sa.func.coalesce(sa.func.sum(_S.c.m), 0))
        .where(sa.or_(_S.c.kind == "pending", _S.c.hour == -1, _S.c.hour > _hour(now))).group_by(_S.c.kind))}
    hour_end = datetime.fromtimestamp((_hour(now) + 1) * 3600, UTC)
    this_n, this_m = conn.execute(sa.select(sa.func.count(), sa.func.coalesce(sa.func.sum(_H.c.amount_minor), 0))
                                  .where(_H.c.kind == "voucher", _H.c.expires_at > now,
                                         _H.c.expires_at < hour_end)).one()
    pending_n, pending_sum = sums.get("pending", (0, 0))
    open_n, open_sum = sums.get("voucher", (0, 0))
    return pending_n, pending_sum, open_n + int(this_n), open_sum + int(this_m)


def _per_customer(conn: sa.Connection, now: datetime, ids: list[str] | None) -> dict[str, dict[str, Any]]:
    usable_now = sa.or_(_H.c.kind == "pending", _H.c.expires_at.is_(None), _H.c.expires_at > now)
    stmt = (sa.select(_H.c.customer_id, _H.c.kind, sa.func.count(), sa.func.sum(_H.c.amount_minor),
                      sa.func.min(_H.c.expires_at)).where(usable_now).group_by(_H.c.customer_id, _H.c.kind))
    if ids is not None:
        stmt = stmt.where(_H.c.customer_id.in_(ids))
    rows: dict[str, dict[str, Any]] = {}
    for i, (cid, kind, n, m, soonest) in enumerate(conn.execute(stmt)):
        breathe(i)
        row = rows.setdefault(cid, {"customer_id": cid, "vouchers": 0, "vouchers_minor": 0, "pending": 0,
                                    "pending_minor": 0, "soonest_expiry": None})
        if kind == "voucher":
            row.update(vouchers=int(n), vouchers_minor=int(m or 0), soonest_expiry=soonest)
        else:
            row.update(pending=int(n), pending_minor=int(m or 0))
    return rows


def holders(conn: sa.Connection, now: datetime, limit: int | None) -> list[dict[str, Any]]:
    """Customers holding usable rewards at ``now``, most money first (then by id), as the raw list."""
    def money(r: dict[str, Any]) -> int:
        return int(r["vouchers_minor"]) + int(r["pending_minor"])

    if not limit:
        found = _per_customer(conn, now, None)
    else:
        found, walked = {}, 0
        while True:  # by the money held at the last catch-up, most first: it only shrinks until the next
            step = min(WALK, 2 * limit << walked // (2 * limit)) if walked else 2 * limit  # the richest hold most
            batch = conn.execute(sa.select(_C.c.customer_id, _C.c.money).order_by(  # the index, backwards
                _C.c.money.desc(), _C.c.customer_id.desc()).limit(step).offset(walked)).all()
            if not batch:
                break
            found.update(_per_customer(conn, now, [str(c) for c, _ in batch]))
            walked += len(batch)
            best = sorted((money(r) for r in found.values()), reverse=True)
            if len(best) >= limit and int(batch[-1][1]) < best[limit - 1]:
                break
    ordered = sorted(found.values(), key=lambda r: (-money(r), r["customer_id"]))
    return ordered[:limit] if limit else ordered


def refresh(db: Database, now: datetime) -> None:
    """Bring the tables up to the rewards, ledger and central's changes as of now; drop what expired by ``now``."""
    with UnitOfWork(db, write=False) as read:
        conn = read.conn
        marks = {str(k): int(v) for k, v in conn.execute(
            sa.select(_W.c.source, _W.c.value).where(_W.c.source.startswith("h:")))}
        tops = {"h:rewards": int(conn.execute(sa.select(sa.func.coalesce(sa.func.max(_REWARD_ROWID), 0))
                                              .select_from(Reward)).scalar() or 0),
                "h:ledger": int(conn.execute(sa.select(sa.func.coalesce(sa.func.max(LedgerEntry.id), 0))).scalar()
                                or 0),
                "h:changes": int(conn.execute(sa.select(Counter.value).where(Counter.name == CHANGES_CURSOR))
                                 .scalar() or 0)}
        rebuild = "h:purged" not in marks or marks.get("h:changes") != tops["h:changes"]
        ids: list[str] | None = None
        if not rebuild:
            found = set(conn.execute(sa.select(Reward.id).where(
                _REWARD_ROWID.between(marks["h:rewards"] + 1, tops["h:rewards"]))).scalars())
            found |= set(conn.execute(sa.select(sa.func.coalesce(LedgerEntry.reward_id, "")).where(
                LedgerEntry.id > marks["h:ledger"], LedgerEntry.id <= tops["h:ledger"],
                LedgerEntry.reward_id.is_not(None))).scalars())
            found |= set(conn.execute(sa.select(_H.c.reward_id).where(_H.c.kind == "voucher", _H.c.expires_at <= now))
                         .scalars())
            if not found and all(marks.get(k) == v for k, v in tops.items()):
                return  # nothing changed and nothing expired: no write
            ids = sorted(str(i) for i in found)
        rows = [r for sel in _chunked(ids) for part in _open(sel, now) for r in conn.execute(part).all()]
    with UnitOfWork(db, write=True) as uow:
        c = uow.conn
        delta: dict[tuple[str, int], list[int]] = {}
        if rebuild:
            c.execute(sa.delete(_H))
            c.execute(sa.delete(_C))
            c.execute(sa.delete(_S))
            touched: list[str] | None = None
        else:
            assert ids is not None
            touched_set = {str(r[2]) for r in rows}
            for some in [ids[i:i + 500] for i in range(0, len(ids), 500)]:
                old = sa.select(_H.c.customer_id, _H.c.kind, _H.c.expires_at, _H.c.amount_minor)
                for cid, kind, expires, amount in c.execute(old.where(_H.c.reward_id.in_(some))):
                    touched_set.add(cid)
                    d = delta.setdefault((kind, _hour(expires)), [0, 0])
                    d[0], d[1] = d[0] - 1, d[1] - int(amount)
                c.execute(sa.delete(_H).where(_H.c.reward_id.in_(some)))
            touched = sorted(touched_set)
        for r in rows:
            d = delta.setdefault((str(r[4]), _hour(r[5])), [0, 0])
            d[0], d[1] = d[0] + 1, d[1] + int(r[3])
        _add_sums(c, delta)
        if rows:
            c.execute(sa.insert(_H), [dict(reward_id=r[0], code=r[1], customer_id=r[2], amount_minor=int(r[3]),
                                           kind=r[4], expires_at=r[5]) for r in rows])
        _holders(c, touched)
        set_marks(c, {**tops, "h:purged": _micros(now)})
        uow.commit()


def _chunked(ids: list[str] | None) -> list[list[str] | None]:
    if ids is None:
        return [None]
    return [ids[i:i + 500] for i in range(0, len(ids), 500)]


def _add_sums(conn: sa.Connection, delta: dict[tuple[str, int], list[int]]) -> None:
    for (kind, hour), (n, m) in delta.items():
        if not n and not m:
            continue
        key = sa.and_(_S.c.kind == kind, _S.c.hour == hour)
        if conn.execute(sa.update(_S).where(key).values(n=_S.c.n + n, m=_S.c.m + m)).rowcount == 0:
            conn.execute(sa.insert(_S), {"kind": kind, "hour": hour, "n": n, "m": m})
    conn.execute(sa.delete(_S).where(_S.c.n == 0))


def _holders(conn: sa.Connection, who: list[str] | None) -> None:
    money = sa.select(_H.c.customer_id, sa.func.sum(_H.c.amount_minor)).group_by(_H.c.customer_id)
    if who is None:
        conn.execute(sa.insert(_C).from_select(["customer_id", "money"], money))
        return
    for i in range(0, len(who), 500):
        some = who[i:i + 500]
        conn.execute(sa.delete(_C).where(_C.c.customer_id.in_(some)))
        conn.execute(sa.insert(_C).from_select(["customer_id", "money"], money.where(_H.c.customer_id.in_(some))))
