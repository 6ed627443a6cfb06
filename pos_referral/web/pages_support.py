"""Small reads and writes the till, kiosk and landing pages need beyond the JSON API.

Kept out of the views (which only translate HTTP) and out of ``services/`` (owned by the
foundation); each function is one short unit of work built from the services' own pieces.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from flask import Flask, current_app

from pos_referral.db.models import Customer, LandingVisit, Redemption, Staff, Till
from pos_referral.printing.queue import enqueue
from pos_referral.services import links
from pos_referral.services.ambassador import card_context
from pos_referral.services.context import StoreContext
from pos_referral.services.customers import CustomerInput
from pos_referral.services.print_jobs import footer_context
from pos_referral.services.referral_codes import IssuedCode, issue_code
from pos_referral.services.unit_of_work import UnitOfWork
from pos_referral.web.ratelimit import FailureLimiter

logger = logging.getLogger(__name__)


def limiter(name: str, per_minute: int, app: Flask | None = None) -> FailureLimiter:
    """A named in-memory limiter living as long as the app (not the module: tests build many apps)."""
    app = app or current_app
    limits: dict[str, FailureLimiter] = app.extensions.setdefault("pos_referral.limits", {})
    if name not in limits:
        limits[name] = FailureLimiter(per_minute)
    return limits[name]


def active_tills(ctx: StoreContext) -> list[str]:
    with UnitOfWork(ctx.db, write=False) as uow:
        return list(uow.session.scalars(sa.select(Till.id).where(Till.disabled.is_(False)).order_by(Till.id)))


def till_exists(ctx: StoreContext, till_id: str) -> bool:
    with UnitOfWork(ctx.db, write=False) as uow:
        till = uow.session.get(Till, till_id)
        return till is not None and not till.disabled


def staff_names(ctx: StoreContext, roles: tuple[str, ...]) -> list[str]:
    """Names to pick on the sign-in pad (first names of the shop's own staff, shown only in the shop)."""
    with UnitOfWork(ctx.db, write=False) as uow:
        return list(uow.session.scalars(
            sa.select(Staff.name).where(Staff.active.is_(True), Staff.role.in_(roles), Staff.pin_hash.is_not(None))
            .order_by(Staff.name)))


def _enqueue(session: Any, template: str, context: dict[str, object], ctx: StoreContext) -> int:
    """Use the printing module's queue when it is installed, else a plain queued PrintJob row."""
    return enqueue(session, template, context, now=ctx.clock()).id


@dataclass(frozen=True)
class IssuedCard:
    issued: IssuedCode
    landing_url: str
    print_job_id: int | None


def issue_with_card(ctx: StoreContext, given: CustomerInput, *, channel: str, till_id: str, base_url: str,
                    language: str, print_card: bool = True, reprint_owner: bool = False) -> IssuedCard:
    """A customer's referral code, then a referral card print job carrying the owner's signed link.

    The owner's link (progress, vouchers) goes only on the first card: whoever types a known phone
    number at a kiosk must not get its owner's vouchers printed. Staff at the till, who see the
    customer in person, may print it again (``reprint_owner``). The code commits first; should the
    card job fail to queue, the code stands and the till can print the card again.
    """
    issued = issue_code(ctx, given, channel=channel, till_id=till_id)
    landing = ctx.landing_url(issued.code, base_url)
    job_id = None
    if print_card and ctx.settings.config.printer.type != "none" and (issued.created or reprint_owner):
        context = footer_context(ctx, first_name=given.first_name, code=issued.code, discount_minor=0,
                                 program=ctx.settings.program(issued.program_id) or ctx.settings.default_program,
                                 owner_url=links.owner_url(ctx, landing, issued.code), language=language)
        if not issued.created:  # a returning referrer's card shows their named status (services/ambassador.py)
            context.update(card_context(ctx, issued.customer_id, ctx.settings.program(issued.program_id)
                                        or ctx.settings.default_program))
        with UnitOfWork(ctx.db, write=True) as uow:
            job_id = _enqueue(uow.session, "referral_card", context, ctx)
            uow.commit()
    return IssuedCard(issued, landing, job_id)


def count_visit(ctx: StoreContext, code: str, language: str) -> None:
    """One row per landing visit (the funnel's scan rate); a failure here never breaks the page."""
    try:
        with UnitOfWork(ctx.db, write=True) as uow:
            uow.session.add(LandingVisit(code=code, at=ctx.clock(), language=language[:8]))
            uow.commit()
    except sa.exc.SQLAlchemyError:
        logger.warning("landing visit for %s not counted", code, exc_info=True)


def friends_joined(ctx: StoreContext, code: str) -> int:
    with UnitOfWork(ctx.db, write=False) as uow:
        return int(uow.session.scalar(sa.select(sa.func.count()).where(Redemption.code == code)) or 0)


def referrer_first_name(ctx: StoreContext, customer_id: str) -> str:
    with UnitOfWork(ctx.db, write=False) as uow:
        customer = uow.session.get(Customer, customer_id)
        return customer.first_name if customer is not None else ""
