"""Stated retention: records that are needed only for a while are purged after ``[retention]`` says.

- ``idempotency_keys`` (redemptions, refunds, overrides): a retry with the same ``Idempotency-Key``
  answers the same for ``idempotency_days``; older records are deleted. What the accounts need is not
  here: redemptions, the ledger and the audit log are never purged (a sale id stays unique for ever in
  ``redemptions``, so a very late retry still cannot redeem twice).
- Invited friends' mail addresses (``mail_outbox.to_addr`` of invitations): blanked as soon as the mail
  is sent or given up (services/mail/outbox.py) and at the latest after ``invite_mail_days``: an
  invitation still unsent by then is cancelled with its address.

- Landing page visits (``landing_visits``: which referral code's page was opened, when, in which
  language) older than ``landing_visit_days`` are deleted once the report rollup holds their counts:
  the rollup is caught up first, the first quarter hour still kept raw is recorded
  (``quarter_hours.visits_kept_from``) and the rollup never recomputes the visit counts before it, so
  the dashboard's visits, scan rates and trend stay as they were. Only reports that read raw rows (a
  range not on quarter hours, ``raw=True`` in tests) see no visits before that point. At central
  (PostgreSQL, no rollup, and no landing pages) nothing is purged here.

Deletes run in small batches, each its own short write transaction, so a first purge of a long history
never holds the tills' write lock for more than a moment. ``serve`` runs ``purge`` on a timer
(workers.py); ``pos-referral db purge`` runs it at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa

from pos_referral.db.base import table
from pos_referral.db.models import IdempotencyRecord, LandingVisit
from pos_referral.db.models_promo import MailMessage
from pos_referral.db.models_reports import ReportWatermark
from pos_referral.services.context import StoreContext
from pos_referral.services.reports.rollup import quarter_hours
from pos_referral.services.reports.rollup.buckets import BUCKET_SECONDS, instant, supported
from pos_referral.services.unit_of_work import UnitOfWork

BATCH = 2000
_keys = table(IdempotencyRecord)
_mail = table(MailMessage)
_visits = table(LandingVisit)
_marks = table(ReportWatermark)


@dataclass(frozen=True)
class PurgeSummary:
    idempotency_keys: int
    invite_addresses: int
    landing_visits: int = 0

    def line(self) -> str:
        return (f"purged {self.idempotency_keys} idempotency records, {self.invite_addresses} invited "
                f"friends' mail addresses and {self.landing_visits} landing page visits (their counts stay in "
                f"the reports)")


def _delete_old_keys(ctx: StoreContext, cutoff: sa.ColumnElement[bool]) -> int:
    total = 0
    while True:
        with UnitOfWork(ctx.db, write=True) as uow:
            batch = sa.select(_keys.c.key).where(cutoff).limit(BATCH).scalar_subquery()
            done = int(uow.conn.execute(sa.delete(_keys).where(_keys.c.key.in_(batch))).rowcount or 0)
            uow.commit()
        total += done
        if done < BATCH:
            return total


def _blank_old_invitations(ctx: StoreContext, cutoff: sa.ColumnElement[bool]) -> int:
    total = 0
    while True:
        with UnitOfWork(ctx.db, write=True) as uow:
            batch = sa.select(_mail.c.id).where(
                _mail.c.kind == "invitation", _mail.c.to_addr != "", cutoff).limit(BATCH).scalar_subquery()
            done = int(uow.conn.execute(
                sa.update(_mail).where(_mail.c.id.in_(batch)).values(
                    to_addr="",
                    status=sa.case((_mail.c.status.in_(("queued", "sending")), "cancelled"), else_=_mail.c.status),
                    last_error=sa.case((_mail.c.status.in_(("queued", "sending")), "retention: not sent in time"),
                                       else_=_mail.c.last_error))).rowcount or 0)
            uow.commit()
        total += done
        if done < BATCH:
            return total


def _delete_old_visits(ctx: StoreContext, before: datetime) -> int:
    """Delete landing visits before ``before`` (on a quarter hour) whose counts the rollup holds."""
    with UnitOfWork(ctx.db, write=False) as read:
        if not supported(read.conn):
            return 0
    quarter_hours.catch_up(ctx.db, ctx.tz, ctx.clock())
    first_kept = int(before.timestamp()) // BUCKET_SECONDS
    cutoff = instant(first_kept)
    total = 0
    while True:
        with UnitOfWork(ctx.db, write=True) as uow:
            conn = uow.conn
            rolled = conn.execute(sa.select(_marks.c.value).where(_marks.c.source == "landing_visits")).scalar()
            if quarter_hours.visits_kept_from(conn) < first_kept:  # first: the rollup stops recomputing them
                moved = conn.execute(sa.update(_marks).where(_marks.c.source == quarter_hours.VISITS_KEPT_FROM)
                                     .values(value=first_kept)).rowcount
                if not moved:
                    conn.execute(sa.insert(_marks), {"source": quarter_hours.VISITS_KEPT_FROM, "value": first_kept})
            batch = sa.select(_visits.c.id).where(_visits.c.at < cutoff, _visits.c.id <= int(rolled or 0)) \
                .limit(BATCH).scalar_subquery()
            done = int(conn.execute(sa.delete(_visits).where(_visits.c.id.in_(batch))).rowcount or 0)
            uow.commit()
        total += done
        if done < BATCH:
            return total


def purge(ctx: StoreContext) -> PurgeSummary:
    """Delete or blank what is past its retention (``[retention]``), as of ``ctx.clock()``."""
    now, keep = ctx.clock(), ctx.settings.config.retention
    keys = _delete_old_keys(ctx, _keys.c.created_at < now - timedelta(days=keep.idempotency_days))
    mails = _blank_old_invitations(ctx, _mail.c.created_at < now - timedelta(days=keep.invite_mail_days))
    visits = _delete_old_visits(ctx, now - timedelta(days=keep.landing_visit_days))
    return PurgeSummary(keys, mails, visits)
