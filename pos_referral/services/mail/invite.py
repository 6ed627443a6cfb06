"""A referrer invites up to five friends by email from their own landing page.

Not an open relay: the sender is the shop's fixed address, the referrer's words go only into
the ``note`` slot of the shop's own template (plain text, links removed, 500 characters), the
link is always the referrer's own public page, and each referrer may invite a few friends a
day. A friend's address lives only in the outbox row until the mail is sent or given up.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import timedelta

import sqlalchemy as sa

from pos_referral.db.models import Customer
from pos_referral.db.models_promo import MailMessage
from pos_referral.domain.rules import Program
from pos_referral.services import messages
from pos_referral.services.context import StoreContext
from pos_referral.services.mail import contacts
from pos_referral.services.mail.outbox import queue_mail
from pos_referral.services.unit_of_work import UnitOfWork

MAX_FRIENDS = 5
PER_DAY = 10  # invitations per referrer in any 24 hours
NOTE_LIMIT = 500
# A word is a link when it has a scheme or a host name in it: "http://x", "www.x.co", "evil.com", "bit.ly/x",
# "ann@evil.shop", "evil .com" (any top-level domain, compared after NFKC so that full-width "ｅｖｉｌ．ｃｏｍ"
# counts too). The price: a sentence typed without a space after its full stop ("Hi.How") loses that word.
_LINKISH = re.compile(r"(?i)(?:^|[^\w.])(?:[a-z][a-z0-9+.-]*:/{1,3}|www\.)"
                      r"|(?:^|\w)[.\u3002\uff61](?:xn--|[^\W\d_]{2,63}(?![^\W_]))")


def _looks_like_link(word: str) -> bool:
    return _LINKISH.search(unicodedata.normalize("NFKC", word)) is not None


class InviteError(ValueError):
    """Why no invitation went out (shown to the referrer)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass
class InviteResult:
    queued: int = 0
    blocked: int = 0  # friends who asked for no more invitations (never shown to the referrer)
    duplicates: int = 0
    left_today: int = 0
    invalid: list[str] = field(default_factory=list)


def clean_note(raw: str) -> str:
    """The referrer's message as plain text: no control characters, no links, at most 500 characters."""
    text = "".join(ch for ch in raw if ch in "\n" or unicodedata.category(ch)[0] != "C")
    text = "\n".join(" ".join(w for w in line.split() if not _looks_like_link(w)) for line in text.splitlines())
    return re.sub(r"\n{3,}", "\n\n", text).strip()[:NOTE_LIMIT]


def default_note(ctx: StoreContext, program: Program, lang: str) -> str:
    context = messages.program_context(ctx.settings, program, lang)
    return messages.render("invitation_note", lang, context, folder=messages.messages_folder(ctx.settings)).text


def invite(ctx: StoreContext, *, code: str, referrer_id: str, program: Program, emails: list[str], note: str,
           lang: str) -> InviteResult:
    """Queue one invitation per valid, new, unblocked address (all in one transaction)."""
    if not ctx.settings.config.mail.enabled:
        raise InviteError("mail_off", "Invitations by email are not switched on in this shop.")
    wanted = [e.strip() for e in emails if e.strip()]
    if not wanted:
        raise InviteError("no_address", "Type at least one email address.")
    if len(wanted) > MAX_FRIENDS:
        raise InviteError("too_many", f"At most {MAX_FRIENDS} friends at a time.")
    result = InviteResult()
    addresses: list[str] = []
    for raw in wanted:
        try:
            address = contacts.clean_address(raw)
        except contacts.ContactError:
            result.invalid.append(raw[:80])
            continue
        if address in addresses:
            result.duplicates += 1
        else:
            addresses.append(address)
    if result.invalid:
        raise InviteError("invalid_address", "Please check: " + ", ".join(result.invalid))
    lang = messages.language(lang)
    now = ctx.clock()
    public_link = ctx.landing_url(code)  # the referrer's own public page, never the owner's link
    with UnitOfWork(ctx.db, write=True) as uow:  # BEGIN IMMEDIATE: the daily count cannot be raced
        session = uow.session
        used = int(session.scalar(sa.select(sa.func.count()).select_from(MailMessage).where(
            MailMessage.customer_id == referrer_id, MailMessage.kind == "invitation",
            MailMessage.created_at >= now - timedelta(days=1))) or 0)
        if used + len(addresses) > PER_DAY:
            raise InviteError("rate_limited", f"You can invite {max(PER_DAY - used, 0)} more friends today.")
        first_name = session.scalar(sa.select(Customer.first_name).where(Customer.id == referrer_id)) or ""
        base = messages.program_context(ctx.settings, program, lang, code=code, link=public_link,
                                        referrer_name=first_name, note=clean_note(note))
        for address in addresses:
            if contacts.is_blocked(session, ctx, address):
                # answered as if sent (the referrer must not learn who opted out), and counted against the
                # day's invitations like one: a row without an address, which the mail worker cancels
                result.blocked += 1
                queue_mail(session, kind="invitation", customer_id=referrer_id, language=lang, to_addr="",
                           context={}, now=now)
                continue
            token = contacts.block_token(ctx, address)
            unsubscribe = f"{ctx.public_base}/unsubscribe/{token}"
            queue_mail(session, kind="invitation", customer_id=referrer_id, language=lang, to_addr=address,
                       context={**base, "unsubscribe_url": unsubscribe}, now=now)
            result.queued += 1
        uow.commit()
    result.left_today = max(PER_DAY - used - result.queued - result.blocked, 0)
    return result
