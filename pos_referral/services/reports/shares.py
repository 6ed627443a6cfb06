"""Shares of a code from its landing page: a count per code and channel, and the share rate.

The landing page's share buttons go through ``/s/<code>/<channel>`` (web/landing.py), which adds one to
``share_counts`` for that code and channel and sends the phone on to the channel; "copy" and the phone's
own share sheet ("device") report by a beacon to the same address. Nothing about the person is kept:
no address, no agent, no time of the click beyond the first one per code and channel.

*Share rate*: codes issued in the period that were shared at least once (by now), over codes issued in
the period (issued here, referral codes).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa

from pos_referral.db.base import table
from pos_referral.db.models import Code
from pos_referral.db.models_sales import ShareCount
from pos_referral.db.upsert import insert_ignore
from pos_referral.services.context import StoreContext
from pos_referral.services.reports.date_range import DateRange, at_store, in_range, issued_here
from pos_referral.services.reports.funnel import codes_by_channel, ratio
from pos_referral.services.unit_of_work import UnitOfWork

CHANNELS = ("whatsapp", "sms", "email", "x", "facebook", "copy", "device")
_SHARES = table(ShareCount)
TABLE: tuple[str, list[tuple[str, str, str]]] = ("Shares by channel", [
    ("channel", "Channel", "text"), ("codes_shared", "Codes shared", "int"), ("shares", "Shares", "int")])
DEFINITION = ("Share rate: codes issued in the period that were shared at least once from their page (any button: "
              "WhatsApp, SMS, email, X, Facebook, copy link, the phone's share menu) over codes issued in the "
              "period. By channel: codes issued in the period shared that way, and how many times.")


def count_share(ctx: StoreContext, code: str, channel: str) -> None:
    """One more share of ``code`` through ``channel`` (a short durable=False write, like a report fact).

    The first share of a code and channel also notes when the code was issued (``issued_at``), for a referral
    code issued here: the share rate then reads a period's shares by that index, never every code issued."""
    if channel not in CHANNELS:
        raise ValueError(f"unknown share channel {channel!r}")
    with UnitOfWork(ctx.db, write=True, durable=False) as uow:
        key = (_SHARES.c.code == code) & (_SHARES.c.channel == channel)
        if uow.conn.execute(sa.update(_SHARES).where(key).values(n=_SHARES.c.n + 1)).rowcount == 0:
            issued_at = uow.conn.execute(sa.select(Code.created_at).where(
                Code.code == code, Code.kind == "referral", issued_here())).scalar()
            insert_ignore(uow.conn, _SHARES, {"code": code, "channel": channel, "n": 1, "first_at": ctx.clock(),
                                              "issued_at": issued_at})
        uow.commit()


def _issued_shares(rng: DateRange) -> sa.ColumnElement[bool]:
    """Share rows of referral codes issued here in the range (at the range's store, for central)."""
    in_period = in_range(_SHARES.c.issued_at, rng)
    if rng.store_no is None:
        return in_period
    return sa.and_(in_period, _SHARES.c.code.in_(sa.select(Code.code).where(at_store(Code.store_no, rng))))


def share_rate(conn: sa.Connection, rng: DateRange) -> dict[str, Any]:
    issued = sum(codes_by_channel(conn, rng).values())  # the funnel's "Codes issued" (its rollup when kept)
    shared = int(conn.execute(sa.select(sa.func.count(sa.distinct(_SHARES.c.code)))
                              .where(_issued_shares(rng))).scalar_one())
    return {"codes_shared": shared, "codes_issued_for_shares": issued, "share_rate": ratio(shared, issued)}


def by_channel(conn: sa.Connection, rng: DateRange) -> list[dict[str, Any]]:
    rows = conn.execute(sa.select(_SHARES.c.channel, sa.func.count(), sa.func.sum(_SHARES.c.n))
                        .where(_issued_shares(rng)).group_by(_SHARES.c.channel))
    found = {ch: (int(k), int(n or 0)) for ch, k, n in rows}
    return [{"channel": ch, "codes_shared": found[ch][0], "shares": found[ch][1]} for ch in CHANNELS if ch in found]


def first_share(conn: sa.Connection, code: str) -> datetime | None:
    return conn.execute(sa.select(sa.func.min(_SHARES.c.first_at)).where(_SHARES.c.code == code)).scalar()
