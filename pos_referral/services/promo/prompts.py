"""The after-sale prompt: "give this customer a referral card?", once per sale without a referral.

Right after a first purchase is the best moment to ask. The till asks the service whether to
prompt (not for a sale that used a referral code, not twice for one sale), then reports the
cashier's answer; the counts give the manager funnel its offer and acceptance rates.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
import sqlalchemy.exc as sa_exc
import sqlalchemy.orm as so

from pos_referral.db.models import Redemption
from pos_referral.db.models_promo import CardOffer
from pos_referral.services.context import StoreContext
from pos_referral.services.outbox import add_event
from pos_referral.services.unit_of_work import UnitOfWork


@dataclass(frozen=True)
class OfferAnswer:
    sale_id: str
    offered: bool
    accepted: bool
    at: datetime
    created: bool

    def view(self) -> dict[str, Any]:
        return {"sale_id": self.sale_id, "offered": self.offered, "accepted": self.accepted,
                "at": self.at.isoformat(), "recorded": self.created}


def should_offer(ctx: StoreContext, sale_id: str) -> tuple[bool, str | None]:
    """(prompt?, why not): no prompt after a referral sale, nor a second time for one sale."""
    with UnitOfWork(ctx.db, write=False) as uow:
        if uow.session.scalar(sa.select(Redemption.id).where(Redemption.sale_id == sale_id)):
            return False, "referral_sale"
        if uow.session.scalar(sa.select(CardOffer.id).where(CardOffer.sale_id == sale_id)):
            return False, "already_offered"
    return True, None


def record_offer(ctx: StoreContext, *, sale_id: str, accepted: bool, offered: bool = True, till_id: str = "",
                 staff: str = "") -> OfferAnswer:
    """Record the cashier's answer once per sale; a repeat returns the first answer (``created`` False)."""
    now = ctx.clock()
    try:
        with UnitOfWork(ctx.db, write=True) as uow:
            existing = uow.session.scalar(sa.select(CardOffer).where(CardOffer.sale_id == sale_id))
            if existing is None:
                uow.session.add(CardOffer(sale_id=sale_id, till_id=till_id[:32], staff=staff[:40], offered=offered,
                                          accepted=offered and accepted, at=now))
                add_event(uow.session, "card_offered", {
                    "sale_id": sale_id, "offered": offered, "accepted": offered and accepted,
                    "till_id": till_id[:32], "staff": staff[:40], "at": now.isoformat()}, now)
                uow.commit()
                return OfferAnswer(sale_id, offered, offered and accepted, now, True)
    except sa_exc.IntegrityError:  # a concurrent first answer won (PostgreSQL has no store write lock)
        pass
    with UnitOfWork(ctx.db, write=False) as uow:
        row = uow.session.scalars(sa.select(CardOffer).where(CardOffer.sale_id == sale_id)).one()
        return OfferAnswer(row.sale_id, row.offered, row.accepted, row.at, False)


def _at_store(store_no: int | None) -> sa.ColumnElement[bool]:
    """Central keys sales as ``<store_no>:<sale id>`` (domain/chain_ids.py); a store's own rows are all its own."""
    return sa.true() if store_no is None else CardOffer.sale_id.startswith(f"{store_no}:", autoescape=True)


def _ratio(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def offer_stats(session: so.Session | sa.Connection, start: datetime, end: datetime,
                store_no: int | None = None) -> dict[str, Any]:
    """Prompts shown in [start, end): offered / accepted / declined / skipped and the two rates.

    ``offer_rate`` = cards offered / prompts shown (how often cashiers ask);
    ``acceptance_rate`` = accepted / offered (how often customers say yes)."""
    row = session.execute(sa.select(
        sa.func.count(),
        sa.func.coalesce(sa.func.sum(sa.case((CardOffer.offered, 1), else_=0)), 0),
        sa.func.coalesce(sa.func.sum(sa.case((CardOffer.accepted, 1), else_=0)), 0),
    ).where(CardOffer.at >= start, CardOffer.at < end, _at_store(store_no))).one()
    prompts, offered, accepted = int(row[0]), int(row[1]), int(row[2])
    return {"prompts": prompts, "offered": offered, "accepted": accepted, "declined": offered - accepted,
            "skipped": prompts - offered, "offer_rate": _ratio(offered, prompts),
            "acceptance_rate": _ratio(accepted, offered)}


# The manager report's table of the after-sale prompt (services/reports/dashboard.py TABLES / PARTS).
OFFER_TABLE: tuple[str, list[tuple[str, str, str]]] = (
    "After-sale card offers", [("step", "Step", "text"), ("count", "Count", "int"), ("rate", "Rate", "ratio")])


def offer_rows(conn: sa.Connection, start: datetime, end: datetime,
               store_no: int | None = None) -> list[dict[str, Any]]:
    """Prompts shown, cards offered (with the offer rate), cards accepted (with the acceptance rate)."""
    stats = offer_stats(conn, start, end, store_no)
    if not stats["prompts"]:
        return []
    return [{"step": "Prompts shown after a sale without a referral", "count": stats["prompts"], "rate": None},
            {"step": "Cards offered (offer rate)", "count": stats["offered"], "rate": stats["offer_rate"]},
            {"step": "Cards accepted (acceptance rate)", "count": stats["accepted"], "rate": stats["acceptance_rate"]}]
