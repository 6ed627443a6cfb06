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
from pos_referral.services.reports.funnel import ratio
from pos_referral.services.unit_of_work import UnitOfWork

CHANNELS = ("whatsapp", "sms", "email", "x", "facebook", "copy", "device")
_SHARES = table(ShareCount)
TABLE: tuple[str, list[tuple[str, str, str]]] = ("Shares by channel", [
    ("channel", "Channel", "text"), ("codes_shared", "Codes shared", "int"), ("shares", "Shares", "int")])
DEFINITION = ("Share rate: codes issued in the period that were shared at least once from their page (any button: "
              "WhatsApp, SMS, email, X, Facebook, copy link, the phone's share menu) over codes issued in the "
              "period. By channel: codes issued in the period shared that way, and how many times.")


def count_share(ctx: StoreContext, code: str, channel: str) -> None:
    """One more share of ``code`` through ``channel`` (a short durable=False write, like a report fact)."""
    if channel not in CHANNELS:
        raise ValueError(f"unknown share channel {channel!r}")
    with UnitOfWork(ctx.db, write=True, durable=False) as uow:
        key = (_SHARES.c.code == code) & (_SHARES.c.channel == channel)
        if uow.conn.execute(sa.update(_SHARES).where(key).values(n=_SHARES.c.n + 1)).rowcount == 0:
            insert_ignore(uow.conn, _SHARES, {"code": code, "channel": channel, "n": 1, "first_at": ctx.clock()})
        uow.commit()


def _issued(rng: DateRange) -> sa.Select[Any]:
    return sa.select(Code.code).where(Code.kind == "referral", issued_here(), in_range(Code.created_at, rng),
                                      at_store(Code.store_no, rng))


def share_rate(conn: sa.Connection, rng: DateRange) -> dict[str, Any]:
    issued = int(conn.execute(sa.select(sa.func.count()).select_from(_issued(rng).subquery())).scalar_one())
    shared = int(conn.execute(sa.select(sa.func.count(sa.distinct(_SHARES.c.code)))
                              .where(_SHARES.c.code.in_(_issued(rng)))).scalar_one())
    return {"codes_shared": shared, "codes_issued_for_shares": issued, "share_rate": ratio(shared, issued)}


def by_channel(conn: sa.Connection, rng: DateRange) -> list[dict[str, Any]]:
    rows = conn.execute(sa.select(_SHARES.c.channel, sa.func.count(), sa.func.sum(_SHARES.c.n))
                        .where(_SHARES.c.code.in_(_issued(rng))).group_by(_SHARES.c.channel))
    found = {ch: (int(k), int(n or 0)) for ch, k, n in rows}
    return [{"channel": ch, "codes_shared": found[ch][0], "shares": found[ch][1]} for ch in CHANNELS if ch in found]


def first_share(conn: sa.Connection, code: str) -> datetime | None:
    return conn.execute(sa.select(sa.func.min(_SHARES.c.first_at)).where(_SHARES.c.code == code)).scalar()
