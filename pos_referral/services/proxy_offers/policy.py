"""Which receipts get a referral code: ``[proxy] offer`` (armed, every, every_nth) and ``minimum_total``.

The minimum is checked first, so ``every_nth`` counts only receipts that qualify (every third
qualifying receipt, not every third receipt that happened to be large). With a minimum set, a
receipt whose total cannot be read gets no code: the shop's rule cannot be shown to hold. An arm is
used by the next receipt whatever its total: it was meant for the customer at the till now, and a
later customer must not inherit it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
import sqlalchemy.orm as so

from pos_referral.config import ProxySection
from pos_referral.domain.receipt_text import ReceiptFacts
from pos_referral.services.context import StoreContext
from pos_referral.services.proxy_offers import arming
from pos_referral.services.referral_codes import next_sequence

logger = logging.getLogger(__name__)

NTH = "proxy:receipts_counted"


@dataclass(frozen=True)
class Decision:
    offer: bool
    reason: str  # armed, every, nth, not_armed, not_nth, below_minimum, total_unknown


class OfferPolicy:
    def __init__(self, section: ProxySection) -> None:
        self.mode = section.offer
        self.every_nth = section.every_nth
        self.minimum = section.minimum_minor

    def may_offer(self, ctx: StoreContext, now: datetime) -> bool:
        """False when no receipt can get a code now (armed mode, not armed): the caller skips the write."""
        if self.mode != "armed":
            return True
        until = arming.armed_until(ctx)
        return until is not None and until >= now

    def decide(self, db: so.Session | sa.Connection, facts: ReceiptFacts, now: datetime) -> Decision:
        """Inside the caller's write transaction (taking an arm and counting are writes)."""
        if self.mode == "armed" and not arming.take(db, now):
            return Decision(False, "not_armed")
        if self.minimum:
            if facts.total_minor is None:
                return Decision(False, "total_unknown")
            if facts.total_minor < self.minimum:
                return Decision(False, "below_minimum")
        if self.mode == "every_nth":
            counted = next_sequence(db, NTH) + 1  # 1, 2, 3, ...
            return Decision(True, "nth") if counted % self.every_nth == 0 else Decision(False, "not_nth")
        return Decision(True, self.mode)
