"""The referral footer of one past redemption, for POS programs that print their own receipts."""

from __future__ import annotations

import sqlalchemy as sa

from pos_referral.db.models import Customer, Redemption
from pos_referral.services import links
from pos_referral.services.context import StoreContext
from pos_referral.services.print_jobs import footer_context
from pos_referral.services.unit_of_work import UnitOfWork


def redemption_footer(ctx: StoreContext, redemption_id: str, base_url: str) -> dict[str, object] | None:
    """The footer context the print queue would use for this redemption (the friend's own new code,
    the discount they got); None when the redemption is unknown or had no referral code (a voucher)."""
    with UnitOfWork(ctx.db, write=False) as uow:
        row = uow.session.execute(
            sa.select(Redemption.friend_code, Redemption.discount_minor, Redemption.program_id,
                      Customer.first_name, Customer.language)
            .join(Customer, Customer.id == Redemption.friend_id)
            .where(Redemption.id == redemption_id)
        ).one_or_none()
    if row is None or not row.friend_code:
        return None
    program = ctx.settings.program(row.program_id) or ctx.settings.default_program
    landing = ctx.landing_url(row.friend_code, base_url)
    return footer_context(ctx, first_name=row.first_name, code=row.friend_code, discount_minor=row.discount_minor,
                          program=program, owner_url=links.owner_url(ctx, landing, row.friend_code),
                          language=row.language)
