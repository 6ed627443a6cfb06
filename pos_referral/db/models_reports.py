"""Report rollups: additive facts per UTC quarter hour, kept exactly equal to the raw rows.

Every local midnight of every real time zone falls on a quarter hour of UTC, so a sum over the
quarter hours of a range is exactly the sum over the range's local days, in any zone and across
clock changes. ``services/reports/rollup/quarter_hours.py`` owns how these rows are (re)computed.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
import sqlalchemy.orm as so

from pos_referral.db.base import Base, UTCDateTime


class ReportRollup(Base):
    """One fact for one quarter hour and one combination of dimensions (empty string: not split)."""

    __tablename__ = "report_rollup"

    fact: so.Mapped[str] = so.mapped_column(sa.String(16), primary_key=True)
    bucket: so.Mapped[int] = so.mapped_column(sa.BigInteger, primary_key=True)  # unix seconds // 900
    store_no: so.Mapped[int] = so.mapped_column(primary_key=True, autoincrement=False)
    program_id: so.Mapped[str] = so.mapped_column(sa.String(40), primary_key=True)
    channel: so.Mapped[str] = so.mapped_column(sa.String(10), primary_key=True)
    till_id: so.Mapped[str] = so.mapped_column(sa.String(32), primary_key=True)
    staff: so.Mapped[str] = so.mapped_column(sa.String(40), primary_key=True)
    n: so.Mapped[int] = so.mapped_column(sa.BigInteger, default=0)
    a: so.Mapped[int] = so.mapped_column(sa.BigInteger, default=0)
    b: so.Mapped[int] = so.mapped_column(sa.BigInteger, default=0)
    c: so.Mapped[int] = so.mapped_column(sa.BigInteger, default=0)


class ReportRollupDay(Base):
    """``report_rollup`` summed per local day of the store's zone (``services/reports/rollup/days.py``)."""

    __tablename__ = "report_rollup_days"
    __table_args__ = {"sqlite_with_rowid": False}

    fact: so.Mapped[str] = so.mapped_column(sa.String(16), primary_key=True)
    day: so.Mapped[int] = so.mapped_column(primary_key=True, autoincrement=False)  # days since 1970-01-01
    store_no: so.Mapped[int] = so.mapped_column(primary_key=True, autoincrement=False)
    program_id: so.Mapped[str] = so.mapped_column(sa.String(40), primary_key=True)
    channel: so.Mapped[str] = so.mapped_column(sa.String(10), primary_key=True)
    till_id: so.Mapped[str] = so.mapped_column(sa.String(32), primary_key=True)
    staff: so.Mapped[str] = so.mapped_column(sa.String(40), primary_key=True)
    n: so.Mapped[int] = so.mapped_column(sa.BigInteger, default=0)
    a: so.Mapped[int] = so.mapped_column(sa.BigInteger, default=0)
    b: so.Mapped[int] = so.mapped_column(sa.BigInteger, default=0)
    c: so.Mapped[int] = so.mapped_column(sa.BigInteger, default=0)


class ReportWatermark(Base):
    """How far the rollup has read each append-only source (the highest row id folded in)."""

    __tablename__ = "report_watermarks"

    source: so.Mapped[str] = so.mapped_column(sa.String(24), primary_key=True)
    value: so.Mapped[int] = so.mapped_column(sa.BigInteger, default=0)


class ReportVisit(Base):
    """A customer seen on a local day of the store's zone, with the days they first held a code and were referred.

    One row per customer and day (see ``services/reports/rollup/visits.py``); day numbers count from 1970-01-01.
    """

    __tablename__ = "report_visits"
    __table_args__ = (
        sa.Index("ix_report_visits_customer", "customer_id"),
        # the visit figures of a range in one pass over this index (no grouping by customer)
        sa.Index("ix_report_visits_chain", "day", "prev_day", "prev2_day", "code_day", "referred_day"),
        # "best customers to invite": the few visits made before the customer held a code
        sa.Index("ix_report_visits_uncoded", "day", "customer_id", "code_day",
                 sqlite_where=sa.text("code_day IS NULL OR day < code_day"),
                 postgresql_where=sa.text("code_day IS NULL OR day < code_day")),
        {"sqlite_with_rowid": False},
    )

    day: so.Mapped[int] = so.mapped_column(primary_key=True, autoincrement=False)
    customer_id: so.Mapped[str] = so.mapped_column(sa.String(32), primary_key=True)
    code_day: so.Mapped[int | None]  # the local day of the customer's first referral code
    referred_day: so.Mapped[int | None]  # the local day the customer was first a referred friend
    prev_day: so.Mapped[int | None]  # the customer's visit day before this one
    prev2_day: so.Mapped[int | None]  # ... and the one before that


class ReportVelocity(Base):
    """A velocity flag of the whole history: a code's burst of friends, at its last redemption.

    Kept by ``services/reports/rollup/velocity.py``; one code has at most one flag at one instant.
    """

    __tablename__ = "report_velocity"
    # by code, newest last: the list keeps the last flags in code order, so a wide range stops early
    __table_args__ = (sa.Index("ix_report_velocity_code", "code", "at"), {"sqlite_with_rowid": False})

    at: so.Mapped[datetime] = so.mapped_column(UTCDateTime(), primary_key=True)
    code: so.Mapped[str] = so.mapped_column(sa.String(14), primary_key=True)
    till_id: so.Mapped[str] = so.mapped_column(sa.String(32))
    friends: so.Mapped[int]


class ReportReferrerDay(Base):
    """Friends a referrer brought on a local day of the store's zone (purchases not refunded in full).

    Kept by ``services/reports/rollup/referrers.py``; day numbers count from 1970-01-01.
    """

    __tablename__ = "report_referrer_days"
    __table_args__ = (sa.Index("ix_report_referrer_days_day", "day", "referrer_id", "n", "net"),
                      {"sqlite_with_rowid": False})

    referrer_id: so.Mapped[str] = so.mapped_column(sa.String(32), primary_key=True)
    day: so.Mapped[int] = so.mapped_column(primary_key=True, autoincrement=False)
    n: so.Mapped[int]
    net: so.Mapped[int] = so.mapped_column(sa.BigInteger)


class ReportReferrerTotal(Base):
    """Friends a referrer brought over the whole history (the sum of their ``report_referrer_days``)."""

    __tablename__ = "report_referrer_totals"
    __table_args__ = (sa.Index("ix_report_referrer_totals_n", "n", "referrer_id"),)

    referrer_id: so.Mapped[str] = so.mapped_column(sa.String(32), primary_key=True)
    n: so.Mapped[int]


class ReportHolding(Base):
    """A reward a customer can still use: pending, or a released voucher not redeemed, revoked or expired.

    Kept by ``services/reports/rollup/holdings.py``; ``code`` is '' for a pending reward.
    """

    __tablename__ = "report_holdings"
    __table_args__ = (sa.Index("ix_report_holdings_customer", "customer_id", "kind", "expires_at", "amount_minor"),
                      sa.Index("ix_report_holdings_kind", "kind", "expires_at", "amount_minor"),
                      {"sqlite_with_rowid": False})

    reward_id: so.Mapped[str] = so.mapped_column(sa.String(32), primary_key=True)
    code: so.Mapped[str] = so.mapped_column(sa.String(14), primary_key=True)
    customer_id: so.Mapped[str] = so.mapped_column(sa.String(32))
    amount_minor: so.Mapped[int] = so.mapped_column(sa.BigInteger)
    kind: so.Mapped[str] = so.mapped_column(sa.String(8))  # pending | voucher
    expires_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime())


class ReportHolder(Base):
    """What a customer held in ``report_holdings`` at the last catch-up (the order of the unredeemed list)."""

    __tablename__ = "report_holders"
    __table_args__ = (sa.Index("ix_report_holders_money", "money", "customer_id"),)

    customer_id: so.Mapped[str] = so.mapped_column(sa.String(32), primary_key=True)
    money: so.Mapped[int] = so.mapped_column(sa.BigInteger)


class ReportHoldingSum(Base):
    """``report_holdings`` summed per kind and hour of expiry (unix hours; -1: pending, or no expiry)."""

    __tablename__ = "report_holding_sums"

    kind: so.Mapped[str] = so.mapped_column(sa.String(8), primary_key=True)
    hour: so.Mapped[int] = so.mapped_column(sa.BigInteger, primary_key=True, autoincrement=False)
    n: so.Mapped[int] = so.mapped_column(sa.BigInteger)
    m: so.Mapped[int] = so.mapped_column(sa.BigInteger)


class ReportSelfReferral(Base):
    """A quote or redemption refused as a self-referral (a copy of its report event; ``rollup/flags.py``)."""

    __tablename__ = "report_self_referrals"
    __table_args__ = (sa.Index("ix_report_self_referrals_at", "at"),)

    event_id: so.Mapped[int] = so.mapped_column(sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True,
                                                autoincrement=False)
    at: so.Mapped[datetime] = so.mapped_column(UTCDateTime())
    code: so.Mapped[str] = so.mapped_column(sa.String(14))
    till_id: so.Mapped[str] = so.mapped_column(sa.String(32))
    kind: so.Mapped[str] = so.mapped_column(sa.String(16))


class ReportRefund(Base):
    """A referred sale refunded in part or in full (its redemption's figures; ``rollup/flags.py``)."""

    __tablename__ = "report_refunds"
    __table_args__ = (sa.Index("ix_report_refunds_created", "created_at"),)

    redemption_id: so.Mapped[str] = so.mapped_column(sa.String(32), primary_key=True)
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime())
    code: so.Mapped[str] = so.mapped_column(sa.String(14))
    till_id: so.Mapped[str] = so.mapped_column(sa.String(32))
    sale_id: so.Mapped[str] = so.mapped_column(sa.String(64))
    basket_minor: so.Mapped[int] = so.mapped_column(sa.BigInteger)
    refunded_minor: so.Mapped[int] = so.mapped_column(sa.BigInteger)


class ReportVisitCell(Base):
    """``report_visits`` rows counted by what the visit figures ask of them (``services/reports/rollup/visits.py``).

    ``prev_day``/``prev2_day``: -1 for none; ``code_day``/``referred_day``: 0 when on or before the
    visit's day, the day itself when later, ``NEVER`` when the customer has none.
    """

    __tablename__ = "report_visit_cells"
    __table_args__ = {"sqlite_with_rowid": False}

    day: so.Mapped[int] = so.mapped_column(primary_key=True, autoincrement=False)
    prev_day: so.Mapped[int] = so.mapped_column(primary_key=True, autoincrement=False)
    prev2_day: so.Mapped[int] = so.mapped_column(primary_key=True, autoincrement=False)
    code_day: so.Mapped[int] = so.mapped_column(primary_key=True, autoincrement=False)
    referred_day: so.Mapped[int] = so.mapped_column(primary_key=True, autoincrement=False)
    n: so.Mapped[int]


class ReportVisitFirst(Base):
    """Customers' first (kind 1) and second (kind 2) visit days ever, counted like ``ReportVisitCell``.

    A range that starts before the history reads these instead of every cell.
    """

    __tablename__ = "report_visit_firsts"
    __table_args__ = {"sqlite_with_rowid": False}

    day: so.Mapped[int] = so.mapped_column(primary_key=True, autoincrement=False)
    kind: so.Mapped[int] = so.mapped_column(primary_key=True, autoincrement=False)
    code_day: so.Mapped[int] = so.mapped_column(primary_key=True, autoincrement=False)
    referred_day: so.Mapped[int] = so.mapped_column(primary_key=True, autoincrement=False)
    n: so.Mapped[int]
