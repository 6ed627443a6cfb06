"""Per referral code: when it first reached each step of the honest funnel (``rollup/milestones.py``).

``report_code_milestones`` holds one row per referral code with the first moment of each step
(``NULL``: not reached); ``report_code_days`` counts those codes per local issue day, program and
variant as if the period ended after every step ever recorded (the usual dashboard: a range ending
today). Both are pure functions of the raw rows, kept by watermarks like the other report summaries.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
import sqlalchemy.orm as so

from pos_referral.db.base import Base, UTCDateTime


class ReportCodeMilestone(Base):
    __tablename__ = "report_code_milestones"
    # covering: a cohort (codes issued in a range) and its steps are read from the index alone
    __table_args__ = (sa.Index("ix_report_code_milestones_created", "created_at", "here", "store_no", "program_id",
                               "variant", "visited_at", "quoted_at", "bought_at", "released_at", "used_at"),)

    code: so.Mapped[str] = so.mapped_column(sa.String(14), primary_key=True)
    program_id: so.Mapped[str] = so.mapped_column(sa.String(40))
    variant: so.Mapped[str] = so.mapped_column(sa.String(32))
    store_no: so.Mapped[int]
    here: so.Mapped[bool]  # issued to a customer here (``date_range.issued_here``), not a placeholder's
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime())
    visited_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime())
    quoted_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime())
    bought_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime())
    released_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime())
    used_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime())


class ReportCodeDay(Base):
    """Codes issued here on a local day (of the store's zone), by program and variant, and how far they got.

    ``s1``..``s5``: codes that reached steps 1..k in order (nested); ``r1``..``r5``: step k by any path.
    """

    __tablename__ = "report_code_days"
    __table_args__ = {"sqlite_with_rowid": False}

    day: so.Mapped[int] = so.mapped_column(primary_key=True, autoincrement=False)
    program_id: so.Mapped[str] = so.mapped_column(sa.String(40), primary_key=True)
    variant: so.Mapped[str] = so.mapped_column(sa.String(32), primary_key=True)
    n: so.Mapped[int]
    s1: so.Mapped[int]
    s2: so.Mapped[int]
    s3: so.Mapped[int]
    s4: so.Mapped[int]
    s5: so.Mapped[int]
    r1: so.Mapped[int]
    r2: so.Mapped[int]
    r3: so.Mapped[int]
    r4: so.Mapped[int]
    r5: so.Mapped[int]


class ReportReferrerReward(Base):
    """A referrer's referral rewards now released (not voided or clawed back), per program: the ambassadors.

    Kept by ``services/reports/rollup/ambassadors.py``; ``last_at`` is the latest of their release times.
    """

    __tablename__ = "report_referrer_rewards"
    __table_args__ = (sa.Index("ix_report_referrer_rewards_n", "program_id", "n", "customer_id", "value"),
                      {"sqlite_with_rowid": False})

    program_id: so.Mapped[str] = so.mapped_column(sa.String(40), primary_key=True)
    customer_id: so.Mapped[str] = so.mapped_column(sa.String(32), primary_key=True)
    n: so.Mapped[int]
    value: so.Mapped[int] = so.mapped_column(sa.BigInteger)
    last_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime())


class ReportVariantDay(Base):
    """Per local day, program and variant: friends acquired, their discounts, reward vouchers spent (A/B cost).

    Kept by ``services/reports/rollup/variants.py``: the purchases of the day not refunded in full, and
    the ``voucher_redeemed`` ledger entries of the day by the program and variant that earned the reward.
    """

    __tablename__ = "report_variant_days"
    __table_args__ = {"sqlite_with_rowid": False}

    day: so.Mapped[int] = so.mapped_column(primary_key=True, autoincrement=False)
    program_id: so.Mapped[str] = so.mapped_column(sa.String(40), primary_key=True)
    variant: so.Mapped[str] = so.mapped_column(sa.String(32), primary_key=True)
    acquired: so.Mapped[int]
    discount: so.Mapped[int] = so.mapped_column(sa.BigInteger)
    vouchers: so.Mapped[int] = so.mapped_column(sa.BigInteger)
