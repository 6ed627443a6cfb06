"""Stated retention: records that are needed only for a while are purged after ``[retention]`` says.

- ``idempotency_keys`` (redemptions, refunds, overrides): a retry with the same ``Idempotency-Key``
  answers the same for ``idempotency_days``; older records are deleted. What the accounts need is not
  here: redemptions, the ledger and the audit log are never purged (a sale id stays unique for ever in
  ``redemptions``, so a very late retry still cannot redeem twice).
- Invited friends' mail addresses (``mail_outbox.to_addr`` of invitations): blanked as soon as the mail
  is sent or given up (services/mail/outbox.py) and at the latest after ``invite_mail_days``: an
  invitation still unsent by then is cancelled with its address.

Deletes run in small batches, each its own short write transaction, so a first purge of a long history
never holds the tills' write lock for more than a moment. ``serve`` runs ``purge`` on a timer
(workers.py); ``pos-referral db purge`` runs it at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa

from pos_referral.db.base import table
from pos_referral.db.models import IdempotencyRecord
from pos_referral.db.models_promo import MailMessage
from pos_referral.services.context import StoreContext
from pos_referral.services.unit_of_work import UnitOfWork

BATCH = 2000
_keys = table(IdempotencyRecord)
_mail = table(MailMessage)


@dataclass(frozen=True)
class PurgeSummary:
    idempotency_keys: int
    invite_addresses: int

    def line(self) -> str:
        return (f"purged {self.idempotency_keys} idempotency records and {self.invite_addresses} invited "
                f"friends' mail addresses")


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


def purge(ctx: StoreContext) -> PurgeSummary:
    """Delete or blank what is past its retention (``[retention]``), as of ``ctx.clock()``."""
    now, keep = ctx.clock(), ctx.settings.config.retention
    keys = _delete_old_keys(ctx, _keys.c.created_at < now - timedelta(days=keep.idempotency_days))
    mails = _blank_old_invitations(ctx, _mail.c.created_at < now - timedelta(days=keep.invite_mail_days))
    return PurgeSummary(keys, mails)
