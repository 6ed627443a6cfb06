"""Queue receipt parts in the business transaction; the print worker prints them after commit."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
import sqlalchemy.orm as so

from pos_referral.db.base import table
from pos_referral.db.models import PrintJob
from pos_referral.domain.codes import format_display
from pos_referral.domain.money import format_money
from pos_referral.domain.rules import Program
from pos_referral.services import links
from pos_referral.services.context import StoreContext
from pos_referral.services.unit_of_work import UnitOfWork

_jobs = table(PrintJob)
_INSERT_JOB = sa.insert(_jobs).returning(_jobs.c.id)


def _enqueue(db: so.Session | sa.Connection, template: str, context: dict[str, object], now: datetime,
             redemption_id: str | None = None) -> int:
    """Insert a queued job in the caller's transaction (Core: the redemption path pays no ORM flush)."""
    job_id = db.execute(_INSERT_JOB, dict(
        template=template, context=context, status="queued", attempts=0, last_error="", bytes_sent=0,
        created_at=now, updated_at=now, next_attempt_at=now, redemption_id=redemption_id,
    )).scalar_one()
    return int(job_id)


def footer_context(ctx: StoreContext, *, first_name: str, code: str, discount_minor: int, program: Program,
                   owner_url: str, language: str = "") -> dict[str, object]:
    return {
        "first_name": first_name,
        "code": code,
        "display_code": format_display(code),
        "landing_url": owner_url,
        "discount": format_money(discount_minor),
        "currency": ctx.settings.config.store.currency,
        "terms": program.texts.terms,
        "headline": program.texts.headline,
        "program_name": program.name,
        "store_name": ctx.settings.config.store.name,
        "lang": language or ctx.settings.config.store.language,
        "reprint": False,
    }


def queue_footer(db: so.Session | sa.Connection, ctx: StoreContext, *, first_name: str, language: str, code: str,
                 discount_minor: int, program: Program, landing_url: str, redemption_id: str) -> int | None:
    """The friend's receipt footer: their own new code as text, CODE128 and QR (its link signed for
    the owner here, only when there is a printer to print it)."""
    if ctx.settings.config.printer.type == "none":
        return None
    context = footer_context(ctx, first_name=first_name, code=code, discount_minor=discount_minor,
                             program=program, owner_url=links.owner_url(ctx, landing_url, code), language=language)
    return _enqueue(db, "referral_footer", context, ctx.clock(), redemption_id)


def queue_card(ctx: StoreContext, *, code: str, first_name: str, language: str, program: Program,
               owner_url: str) -> int | None:
    """A referral card to hand to the customer, queued after the code itself was committed."""
    if ctx.settings.config.printer.type == "none":
        return None
    context = footer_context(ctx, first_name=first_name, code=code, discount_minor=0, program=program,
                             owner_url=owner_url, language=language)
    with UnitOfWork(ctx.db, write=True) as uow:
        job_id = _enqueue(uow.session, "referral_card", context, ctx.clock())
        uow.commit()
    return job_id


def queue_test_page(ctx: StoreContext, context: dict[str, object]) -> int:
    """The printer's test page, queued for the running service's print worker (``printer test --queue``)."""
    with UnitOfWork(ctx.db, write=True) as uow:
        job_id = _enqueue(uow.session, "test_page", context, ctx.clock())
        uow.commit()
    return job_id
