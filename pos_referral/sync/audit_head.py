"""The relay's part in keeping the audit log honest: send its head (services/audit_head.py) to central.

Sent after the outbox, whenever the head moved since central last acknowledged it (a counter in the
store's database remembers the entry count sent). Central keeps the highest head as a witness; when it
refuses one (the store's log is shorter than, or differs from, what central saw), that is logged as an
error here and the store's ``audit verify`` tells what happened.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import partial
from typing import Any

import sqlalchemy as sa

from pos_referral.db.base import table
from pos_referral.db.models import Counter
from pos_referral.services.audit_head import HeadError, head_path, read_head
from pos_referral.services.context import StoreContext
from pos_referral.services.unit_of_work import UnitOfWork
from pos_referral.sync.client import CentralClient

logger = logging.getLogger(__name__)
AUDIT_HEAD_SENT = "sync:audit_head_sent"  # the audit head's entry count central last acknowledged


def send_audit_head(ctx: StoreContext, retrying: Callable[[Callable[[], Any]], Any], client: CentralClient) -> None:
    """Send the head when it moved; ``retrying`` is the relay's backoff (raises Unavailable when it gives up)."""
    try:
        head = read_head(head_path(ctx.settings.data_dir))
    except HeadError:
        logger.error("the audit head file is unreadable; not sent (run `pos-referral audit verify`)")
        return
    if head is None:
        return
    with UnitOfWork(ctx.db, write=False) as read:
        sent = read.conn.execute(sa.select(Counter.value).where(Counter.name == AUDIT_HEAD_SENT)).scalar()
    if sent == head.entries:
        return
    answer = retrying(partial(client.audit_head, ctx.store_no, head.as_dict()))
    if not answer.get("accepted", False):
        logger.error("central refused the audit head (%s entries; it keeps %s): the audit log was shortened "
                     "or rewritten; run `pos-referral audit verify`", head.entries, answer.get("entries"))
    with UnitOfWork(ctx.db, write=True) as uow:
        done = uow.conn.execute(sa.update(Counter).where(Counter.name == AUDIT_HEAD_SENT).values(value=head.entries))
        if done.rowcount == 0:
            uow.conn.execute(sa.insert(table(Counter)), dict(name=AUDIT_HEAD_SENT, value=head.entries))
        uow.commit()
