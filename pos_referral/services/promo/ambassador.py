"""Ambassador status: the named status (and its perk) of the highest milestone a referrer reached.

Milestones in the program file may carry ``status`` ("Ambassador") and ``perk`` ("early access
to sales"); a referrer holds the status of the highest such milestone their successful
referrals (rewards released, not voided or clawed back) have reached. Shown on their receipt
footer and their landing page.
"""

from __future__ import annotations

import sqlalchemy.orm as so

from pos_referral.domain.rules import Milestone, Program
from pos_referral.services.context import StoreContext
from pos_referral.services.rewards import successful_referrals
from pos_referral.services.unit_of_work import UnitOfWork


def status_from_count(program: Program, referrals: int) -> Milestone | None:
    """The highest milestone with a status that ``referrals`` reaches (pure: no database)."""
    reached = [m for m in program.milestones if m.status and referrals >= m.referrals]
    return max(reached, key=lambda m: m.referrals, default=None)


def status_for(session: so.Session, customer_id: str, program: Program) -> tuple[str, str] | None:
    """``(status, perk)`` such as ``("Ambassador", "a free tote bag ...")``, or None."""
    milestone = status_from_count(program, successful_referrals(session, customer_id, program.id))
    return (milestone.status, milestone.perk) if milestone else None


def next_status(session: so.Session, customer_id: str, program: Program) -> tuple[str, int] | None:
    """The next named status and how many more successful referrals it takes, or None."""
    done = successful_referrals(session, customer_id, program.id)
    ahead = [m for m in program.milestones if m.status and m.referrals > done]
    nearest = min(ahead, key=lambda m: m.referrals, default=None)
    return (nearest.status, nearest.referrals - done) if nearest else None


def status_of(ctx: StoreContext, customer_id: str, program: Program) -> tuple[str, str] | None:
    """``status_for`` in its own read-only unit of work (for pages and print jobs)."""
    with UnitOfWork(ctx.db, write=False) as uow:
        return status_for(uow.session, customer_id, program)


def card_context(ctx: StoreContext, customer_id: str, program: Program) -> dict[str, str]:
    """``status`` and ``perk`` for a referrer's printed card (``referral_card.receipt``); empty without one."""
    held = status_of(ctx, customer_id, program)
    return {"status": held[0], "perk": held[1]} if held else {}
