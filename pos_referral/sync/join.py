"""A shop that ran standalone joins a chain (``pos-referral chain join``), with all it has done so far.

1. Central adopts the shop's code keys and pepper (``POST /sync/v1/join``; central/joins.py checks
   that no other shop uses the store number). Codes the shop printed keep working at every store.
2. The shop keeps central's address and its token in ``chain.json`` (chain_link.py).
3. The relay's first sync takes the chain's keys (the shop's own are among them, so nothing clashes:
   sync/inbound.py) and ships the outbox: every customer, code, redemption, voucher and ledger change
   since the shop opened is there, since a standalone shop writes its events as a chain store does
   (nothing deletes unsent events), so no backfill is needed. Rewards the shop released itself arrive
   as ``reward_released`` events, and central takes their vouchers over (central/adopted_releases.py).

Every step may be repeated: a join that lost its answer, or a sync cut half way, is run again.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from pos_referral.chain_link import ChainLink, save_link
from pos_referral.db.models import Customer, OutboxEvent
from pos_referral.keystore import UnjoinedSecrets
from pos_referral.services.context import StoreContext
from pos_referral.services.unit_of_work import UnitOfWork
from pos_referral.sync.client import CentralClient


@dataclass(frozen=True)
class JoinAnswer:
    adopted_keys: int
    customers: int
    waiting_events: int  # the history the first sync sends


def _counts(ctx: StoreContext) -> tuple[int, int]:
    with UnitOfWork(ctx.db, write=False) as read:
        conn = read.conn
        customers = conn.execute(sa.select(sa.func.count()).select_from(Customer)).scalar_one()
        waiting = conn.execute(sa.select(sa.func.count()).select_from(OutboxEvent)
                               .where(OutboxEvent.sent_at.is_(None))).scalar_one()
    return int(customers), int(waiting)


def join_chain(ctx: StoreContext, url: str, token: str, client: CentralClient | None = None) -> JoinAnswer:
    """Ask central to adopt this shop's keys, then remember where central is; raises client errors."""
    mine = ctx.secrets
    if isinstance(mine, UnjoinedSecrets):
        mine = mine.local()
    customers, waiting = _counts(ctx)
    answer = (client or CentralClient(url, token)).join(ctx.store_no, mine.keyring.to_dict(), mine.pepper.hex(),
                                                       customers)
    if not ctx.settings.config.central.url:  # a [central] url in the config is the operator's and wins
        save_link(ctx.settings.data_dir, ChainLink(url, token))
    return JoinAnswer(int(answer.get("adopted_keys", 0)), customers, waiting)
