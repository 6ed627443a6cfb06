"""Tables of the sales reports: share clicks per code and channel, and the sales summaries.

The summaries are kept by row-id watermarks over ``sales`` (``services/reports/rollup/sales_days.py``)
and always equal a computation from the raw rows; ``share_counts`` is the only source of its figure.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
import sqlalchemy.orm as so

from pos_referral.db.base import Base, UTCDateTime


class ShareCount(Base):
    """How often a code's landing page sent it on through one channel (whatsapp, sms, email, x,
    facebook, copy, device). No person, address or time of each click: a count and the first moment."""

    __tablename__ = "share_counts"
    # the share rate of a period reads the shares of the codes issued in it from here, not every code issued
    __table_args__ = (sa.Index("ix_share_counts_issued", "issued_at", "channel", "code", "n"),)

    code: so.Mapped[str] = so.mapped_column(sa.String(14), primary_key=True)
    channel: so.Mapped[str] = so.mapped_column(sa.String(10), primary_key=True)
    n: so.Mapped[int] = so.mapped_column(sa.BigInteger, default=0)
    first_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime())
    # when the code was issued, for a referral code issued here (NULL: another store's code, not counted)
    issued_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime())


class ReportSaleDay(Base):
    """Sales per local day of the store's zone, source and kind: counts and sums of ``sales`` rows.

    ``coded``: a referral code or a reward voucher was redeemed on the sale (its sale_id is a redemption's
    or a used voucher's when the row is folded in); ``referred``: the sale's customer had come as a
    referred friend by then. Day numbers count from 1970-01-01."""

    __tablename__ = "report_sale_days"

    day: so.Mapped[int] = so.mapped_column(primary_key=True, autoincrement=False)
    source: so.Mapped[str] = so.mapped_column(sa.String(8), primary_key=True)
    coded: so.Mapped[int] = so.mapped_column(primary_key=True, autoincrement=False)
    referred: so.Mapped[int] = so.mapped_column(primary_key=True, autoincrement=False)
    known: so.Mapped[int] = so.mapped_column(primary_key=True, autoincrement=False)  # a customer was named
    cashier: so.Mapped[str] = so.mapped_column(sa.String(40), primary_key=True)
    n: so.Mapped[int] = so.mapped_column(sa.BigInteger, default=0)
    total_minor: so.Mapped[int] = so.mapped_column(sa.BigInteger, default=0)


class ReportSaleCustomer(Base):
    """A named customer's sales on one local day: the visits and spend of "who to invite" and the
    referred-vs-other visit comparison. ``prev_day``: the customer's day with a sale before this one (None:
    none), so distinct customers of a range are rows whose ``prev_day`` is before it (no DISTINCT);
    ``referred_day``: the local day they first came as a referred friend (None: never)."""

    __tablename__ = "report_sale_customers"
    __table_args__ = (sa.Index("ix_report_sale_customers_day", "day", "prev_day", "referred_day", "total_minor"),
                      {"sqlite_with_rowid": False})  # rows in (customer, day) order: a long range streams

    customer_id: so.Mapped[str] = so.mapped_column(sa.String(32), primary_key=True)
    day: so.Mapped[int] = so.mapped_column(primary_key=True, autoincrement=False)
    prev_day: so.Mapped[int | None] = so.mapped_column()
    referred_day: so.Mapped[int | None] = so.mapped_column()
    n: so.Mapped[int] = so.mapped_column(sa.BigInteger, default=0)
    total_minor: so.Mapped[int] = so.mapped_column(sa.BigInteger, default=0)


class ReportSaleCustomerTotal(Base):
    """A named customer's sales over all their history: days with a sale, spend, first and last day.

    "Who to invite" over a long period reads customers in (days, spent) order from its index and stops as
    soon as nobody further down can still make the list: a customer's days and spend in any period are at
    most their totals, and equal them when the period holds all their days (``first_day``..``last_day``)."""

    __tablename__ = "report_sale_customer_totals"
    __table_args__ = (sa.Index("ix_report_sale_customer_totals_rank", "days", "spent_minor", "first_day", "last_day"),
                      {"sqlite_with_rowid": False})

    customer_id: so.Mapped[str] = so.mapped_column(sa.String(32), primary_key=True)
    days: so.Mapped[int] = so.mapped_column()
    spent_minor: so.Mapped[int] = so.mapped_column(sa.BigInteger)
    first_day: so.Mapped[int] = so.mapped_column()
    last_day: so.Mapped[int] = so.mapped_column()
