"""The print queue: receipt parts queued in the business transaction; services/print_worker.py prints them.

A job is a row of ``print_jobs`` (template + context). Queued in the caller's transaction, its
receipt is committed with the business fact it belongs to, or not at all.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so

from pos_referral.db.base import table
from pos_referral.db.engine import Database
from pos_referral.db.models import Code, Customer, PrintJob, Redemption
from pos_referral.domain.codes import format_display
from pos_referral.domain.money import format_money
from pos_referral.domain.money_text import fill_amounts
from pos_referral.domain.rules import Program
from pos_referral.services import owner_links
from pos_referral.services.context import StoreContext
from pos_referral.services.unit_of_work import UnitOfWork

_jobs = table(PrintJob)
_INSERT_JOB = sa.insert(_jobs).returning(_jobs.c.id)


def enqueue(db: so.Session | sa.Connection, template: str, context: Mapping[str, Any], now: datetime, *,
            redemption_id: str | None = None, reprint_of: int | None = None) -> int:
    """Insert a queued job in the caller's transaction; returns its id."""
    job_id = db.execute(_INSERT_JOB, dict(
        template=template, context=dict(context), status="queued", attempts=0, last_error="", bytes_sent=0,
        created_at=now, updated_at=now, next_attempt_at=now, redemption_id=redemption_id, reprint_of=reprint_of,
    )).scalar_one()
    return int(job_id)


def queue(ctx: StoreContext, template: str, context: Mapping[str, Any]) -> int | None:
    """Queue one job in a unit of work of its own; None when the shop has no printer."""
    if ctx.settings.config.printer.type == "none":
        return None
    with UnitOfWork(ctx.db, write=True) as uow:
        job_id = enqueue(uow.conn, template, context, ctx.clock())
        uow.commit()
    return job_id


def find(db: Database, job_id: int) -> PrintJob | None:
    with UnitOfWork(db, write=False) as read:
        return read.session.get(PrintJob, job_id)


def reprint(db: Database, job_id: int, now: datetime, *, ctx: StoreContext | None = None) -> PrintJob | None:
    """A new job with the same content, marked REPRINT on the paper; None for an unknown job.

    With the store's ``ctx``, a receipt footer or card gets its owner link signed again (today's expiry,
    the code's current generation, the configured address): the old paper's may have expired or been revoked."""
    with UnitOfWork(db, write=True) as uow:
        original = uow.session.get(PrintJob, job_id)
        if original is None:
            return None
        context = {**original.context, "reprint": True}
        code = str(context.get("code") or "")
        if ctx and original.template in ("referral_footer", "referral_card") and code and context.get("landing_url"):
            context["landing_url"] = owner_links.owner_url(ctx, ctx.landing_url(code), code,
                                                           owner_links.generation(uow.session, code))
        new_id = enqueue(uow.conn, original.template, context, now,
                         redemption_id=original.redemption_id, reprint_of=original.reprint_of or original.id)
        job = uow.session.get(PrintJob, new_id)
        uow.commit()
    return job


def footer_context(ctx: StoreContext, *, first_name: str, code: str, discount_minor: int, program: Program,
                   owner_url: str, language: str = "") -> dict[str, object]:
    """A footer's or card's values; the program's prose with its amounts written as money in ``language``."""
    lang = language or ctx.settings.config.store.language
    currency = ctx.settings.config.store.currency
    return {
        "first_name": first_name,
        "code": code,
        "display_code": format_display(code),
        "landing_url": owner_url,
        "discount": format_money(discount_minor),
        "currency": currency,
        "terms": fill_amounts(program.texts.terms, program, currency, lang),
        "headline": fill_amounts(program.texts.headline, program, currency, lang),
        "program_name": program.name,
        "store_name": ctx.settings.config.store.name,
        "lang": lang,
        "reprint": False,
    }


def queue_footer(db: so.Session | sa.Connection, ctx: StoreContext, *, first_name: str, language: str, code: str,
                 discount_minor: int, program: Program, landing_url: str, redemption_id: str) -> int | None:
    """The friend's receipt footer: their own new code as text, CODE128 and QR (its link signed for
    the owner here, only when there is a printer to print it), in the redemption's transaction."""
    if ctx.settings.config.printer.type == "none":
        return None
    owner_url = owner_links.owner_url(ctx, landing_url, code, owner_links.generation(db, code))
    context = footer_context(ctx, first_name=first_name, code=code, discount_minor=discount_minor, program=program,
                             owner_url=owner_url, language=language)
    return enqueue(db, "referral_footer", context, ctx.clock(), redemption_id=redemption_id)


def queue_card(ctx: StoreContext, *, code: str, first_name: str, language: str, program: Program,
               owner_url: str, extra: Mapping[str, object] | None = None) -> int | None:
    """A referral card to hand to the customer, queued after the code itself was committed."""
    context = footer_context(ctx, first_name=first_name, code=code, discount_minor=0, program=program,
                             owner_url=owner_url, language=language)
    return queue(ctx, "referral_card", {**context, **(extra or {})})


def redemption_footer(ctx: StoreContext, redemption_id: str) -> dict[str, object] | None:
    """The footer context the print queue would use for this redemption (the friend's own new code,
    the discount they got), for POS programs that print their own receipts; None when the redemption
    is unknown or had no referral code (a voucher)."""
    with UnitOfWork(ctx.db, write=False) as read:
        row = read.session.execute(
            sa.select(Redemption.friend_code, Redemption.discount_minor, Redemption.program_id,
                      Customer.first_name, Customer.language, Code.owner_generation)
            .join(Customer, Customer.id == Redemption.friend_id)
            .outerjoin(Code, Code.code == Redemption.friend_code)
            .where(Redemption.id == redemption_id)
        ).one_or_none()
    if row is None or not row.friend_code:
        return None
    program = ctx.settings.program(row.program_id) or ctx.settings.default_program
    landing = ctx.landing_url(row.friend_code)
    return footer_context(ctx, first_name=row.first_name, code=row.friend_code, discount_minor=row.discount_minor,
                          program=program,
                          owner_url=owner_links.owner_url(ctx, landing, row.friend_code, row.owner_generation or 0),
                          language=row.language)
