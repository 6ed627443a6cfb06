"""The mail worker: plan status mails from the event outbox, then send what is due, with retry.

Each step is its own short transaction (claim, then send outside any transaction, then mark),
so a slow or dead mail server never holds the store's write lock and a till never waits on mail.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from email.message import EmailMessage

from pos_referral.services.context import StoreContext
from pos_referral.services.mail import contacts
from pos_referral.services.mail import outbox as mail_outbox
from pos_referral.services.mail.sender import MailFailure, SmtpTransport, Transport, compose
from pos_referral.services.mail.status import plan_reminders, plan_status_mails
from pos_referral.services.messages import MessageError
from pos_referral.services.reports import budget
from pos_referral.services.reports.budget import plan_budget_mails
from pos_referral.services.reports.budget_mail import budget_message
from pos_referral.services.unit_of_work import UnitOfWork

logger = logging.getLogger(__name__)
INTERVAL_SECONDS = 30.0
BUDGET_CHECK_SECONDS = 600.0


@dataclass
class SendSummary:
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    cancelled: int = 0


class MailWorker:
    """``run_once`` plans and sends; ``serve`` runs it every ``interval`` seconds (workers.py)."""

    def __init__(self, ctx: StoreContext, transport: Transport, *, batch: int = 20,
                 interval: float = INTERVAL_SECONDS) -> None:
        self.ctx, self.transport, self.batch, self.interval = ctx, transport, batch, interval
        self._budget_checked: float | None = None  # monotonic time of the last budget check

    @classmethod
    def from_settings(cls, ctx: StoreContext) -> MailWorker:
        return cls(ctx, SmtpTransport.from_config(ctx.settings.config.mail))

    def run_once(self) -> SendSummary:
        plan_status_mails(self.ctx)
        plan_reminders(self.ctx)
        now = time.monotonic()  # the budget check reads the report rollup: every few minutes is plenty
        if self._budget_checked is None or now - self._budget_checked >= BUDGET_CHECK_SECONDS:
            self._budget_checked = now
            plan_budget_mails(self.ctx)
        return self.send_due()

    def send_due(self) -> SendSummary:
        summary = SendSummary()
        with UnitOfWork(self.ctx.db, write=False) as uow:
            ids = mail_outbox.due_ids(uow.session, self.ctx.clock(), self.batch)
        for mail_id in ids:
            outcome = self._send_one(mail_id)
            if outcome == "sent":
                summary.sent += 1
            elif outcome == "queued":
                summary.retrying += 1
            elif outcome == "failed":
                summary.failed += 1
            elif outcome == "cancelled":
                summary.cancelled += 1
        return summary

    def _build(self, mail: mail_outbox.Claimed) -> EmailMessage | None:
        """The message, or None when there is nobody (left) to send it to."""
        settings = self.ctx.settings
        if mail.kind == budget.MAIL_KIND:  # to a manager: no consent row, no unsubscribe link
            return budget_message(settings, mail.to_addr, mail.context) if mail.to_addr else None
        if mail.kind == "invitation":
            if not mail.to_addr:
                return None
            return compose(settings, kind=mail.kind, to_addr=mail.to_addr, language=mail.language,
                           context=mail.context, unsubscribe_url=str(mail.context.get("unsubscribe_url", "")))
        with UnitOfWork(self.ctx.db, write=False) as uow:
            contact = contacts.active_contact(uow.session, mail.customer_id)
        if contact is None:  # unsubscribed since the mail was queued: it must not go
            return None
        url = f"{settings.public_base}/unsubscribe/{contact.token}"
        context = {**mail.context, "first_name": contact.first_name or mail.context.get("first_name", "")}
        return compose(settings, kind=mail.kind, to_addr=contact.email, language=contact.language or mail.language,
                       context=context, unsubscribe_url=url)

    def _send_one(self, mail_id: int) -> str:
        with UnitOfWork(self.ctx.db, write=True) as uow:
            mail = mail_outbox.claim(uow.session, mail_id, self.ctx.clock())
            uow.commit()
        if mail is None:
            return "taken"  # another worker has it, or it is no longer due
        try:
            message = self._build(mail)
        except MessageError as exc:  # a broken template: the shop can fix it, so keep retrying for a while
            logger.error("mail %s (%s) cannot be rendered: %s", mail.id, mail.kind, exc)
            return self._finish(mail, str(exc), permanent=False)
        if message is None:
            with UnitOfWork(self.ctx.db, write=True) as uow:
                mail_outbox.cancel(uow.session, mail.id, "no consent")
                uow.commit()
            return "cancelled"
        try:
            self.transport.send(message)
        except MailFailure as exc:
            logger.warning("mail %s (%s) not sent, attempt %d: %s", mail.id, mail.kind, mail.attempts, exc)
            return self._finish(mail, str(exc), permanent=exc.permanent)
        with UnitOfWork(self.ctx.db, write=True) as uow:  # accepted by the server: mark it at once
            mail_outbox.mark_sent(uow.session, mail.id, self.ctx.clock())
            uow.commit()
        return "sent"

    def _finish(self, mail: mail_outbox.Claimed, error: str, *, permanent: bool) -> str:
        with UnitOfWork(self.ctx.db, write=True) as uow:
            status = mail_outbox.mark_failed(uow.session, mail, self.ctx.clock(), error, permanent=permanent)
            uow.commit()
        return status
