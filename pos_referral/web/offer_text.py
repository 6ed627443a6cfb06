"""What a program promises, in the reader's language, built from the program's numbers.

Program files carry prose in the shop's language; the structured part (percent, amount, item,
tiers, minimum, hold days) is phrased here through the catalogs, so a Polish phone reads the
offer in Polish with złoty or euro formatted the Polish way. The shipped default program's
prose is in the catalogs too (see ``program_text``), so it reads translated as well.
"""

from __future__ import annotations

from decimal import Decimal

from flask_babel import format_percent
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from pos_referral.domain.rules import Program, Reward
from pos_referral.web.i18n import money, program_money


def reward_text(rule: Reward) -> str:
    if rule.type == "percent_off":
        text = _("%(percent)s off your purchase", percent=format_percent(rule.percent / Decimal(100)))
        if rule.max_amount:
            text += " " + _("(up to %(amount)s)", amount=money(rule.max_amount))
        return text
    if rule.type == "amount_off":
        return _("%(amount)s off your purchase", amount=money(rule.amount))
    if rule.type == "free_item":
        return _("A free %(item)s", item=program_text(rule.item))
    if rule.type == "points":
        return _("%(points)s bonus points", points=rule.points)
    return _("Early access: %(what)s", what=program_text(rule.item or rule.description))


def friend_offer(program: Program) -> list[str]:
    """Lines for "what you get": the reward, tiers, the minimum basket, new customers only."""
    if not program.friend_gets_reward():
        return []
    lines = [reward_text(program.friend_reward)]
    for tier in sorted(program.friend_tiers, key=lambda t: t.from_basket):
        lines.append(_("From %(basket)s: %(reward)s", basket=money(tier.from_basket), reward=reward_text(tier.reward)))
    if program.minimum_basket:
        lines.append(_("On a purchase of %(amount)s or more.", amount=money(program.minimum_basket)))
    if program.new_customers_only:
        lines.append(_("For your first purchase with us."))
    return lines


def referrer_offer(program: Program) -> list[str]:
    """Lines for "what the friend who invited you gets"."""
    if not program.referrer_gets_reward():
        return []
    rule = program.referrer_reward
    if rule.type == "amount_off":
        lines = [_("A %(amount)s voucher for every friend who shops with us", amount=money(rule.amount))]
    else:
        lines = [reward_text(rule)]
    if program.hold_days:
        lines.append(_("The reward comes %(days)d days after the friend's purchase (the return window).",
                       days=program.hold_days))
    return lines


def program_text(text: str, program: Program | None = None) -> str:
    """A program's own prose, translated when the catalogs know it (the shipped default program); with
    ``program``, its ``{minimum}``, ``{referrer_amount}``, ... written as money in the page's language."""
    if not text:
        return ""
    return program_money(_(text), program) if program is not None else _(text)


# The shipped default program's prose (config/programs/bring-a-friend.toml), listed here only so
# the catalog extractor finds it; a shop that rewrites these texts sees its own words untranslated.
SHIPPED_PROGRAM_TEXTS = (
    _l("Give 10%, get {referrer_amount}"),
    _l("Every customer of ours may invite friends. Friends must be new to our shop and spend at least {minimum}."),
    _l("One discount per new customer. Voucher after the 14-day return window, valid 90 days. "
       "Max 10 rewards a year."),
    _l("How does my friend use my code?"),
    _l("Your friend shows the code or the QR at the till when paying."),
    _l("When do I get my reward?"),
    _l("14 days after your friend's purchase, when the return window has passed."),
    _l("Is there a limit?"),
    _l("Up to 10 rewards ({cap_amount}) per calendar year."),
    _l("Tote bag"),
    _l("Ambassador"),
    _l("a free tote bag and early access to sales"),
)
