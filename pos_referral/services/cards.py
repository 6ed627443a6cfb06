"""Referral cards: a customer's own code, printed as a card at the till or the join kiosk."""

from __future__ import annotations

from dataclasses import dataclass

from pos_referral.services import owner_links, print_jobs
from pos_referral.services.context import StoreContext
from pos_referral.services.customers import CustomerInput
from pos_referral.services.promo.ambassador import card_context
from pos_referral.services.referral_codes import IssuedCode, issue_code


@dataclass(frozen=True)
class IssuedCard:
    issued: IssuedCode
    landing_url: str
    print_job_id: int | None


def issue_with_card(ctx: StoreContext, given: CustomerInput, *, channel: str, till_id: str,
                    language: str, print_card: bool = True, reprint_owner: bool = False,
                    staff: str = "") -> IssuedCard:
    """A customer's referral code, then a referral card print job carrying the owner's signed link.

    The owner's link (progress, vouchers) goes only on the first card: whoever types a known phone
    number at a kiosk must not get its owner's vouchers printed. Staff at the till, who see the
    customer in person, may print it again (``reprint_owner``). The code commits first; should the
    card job fail to queue, the code stands and the till can print the card again.
    """
    issued = issue_code(ctx, given, channel=channel, till_id=till_id, staff=staff)
    landing = ctx.landing_url(issued.code)
    job_id = None
    if print_card and (issued.created or reprint_owner):
        program = ctx.settings.program(issued.program_id) or ctx.settings.default_program
        # a returning referrer's card shows their named status (services/promo/ambassador.py)
        extra = {} if issued.created else card_context(ctx, issued.customer_id, program)
        job_id = print_jobs.queue_card(ctx, code=issued.code, first_name=given.first_name, language=language,
                                       program=program,
                                       owner_url=owner_links.card_url(ctx, issued.code, created=issued.created),
                                       extra=extra)
    return IssuedCard(issued, landing, job_id)
