"""Build a MIME mail from an outbox row, and hand it to an SMTP server (with timeouts).

Every mail: a fixed sender from the config (never from a request), a plain-text and an HTML part
in the customer's language, ``List-Unsubscribe`` with one-click POST (RFC 8058) pointing at the
same link as the footer, and for vouchers the QR code as an inline image.
"""

from __future__ import annotations

import io
import logging
import os
import smtplib
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr
from typing import Any, Protocol

import qrcode

from pos_referral.config import MailSection, Settings
from pos_referral.services import messages

logger = logging.getLogger(__name__)
TIMEOUT_SECONDS = 20.0


class MailFailure(Exception):
    """A send that did not end with the server accepting the mail; ``permanent`` = do not retry."""

    def __init__(self, message: str, *, permanent: bool) -> None:
        super().__init__(message)
        self.permanent = permanent


class Transport(Protocol):
    def send(self, message: EmailMessage) -> None: ...


def qr_png(data: str) -> bytes:
    image = qrcode.make(data, border=2, box_size=8)
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def compose(settings: Settings, *, kind: str, to_addr: str, language: str, context: Mapping[str, Any],
            unsubscribe_url: str) -> EmailMessage:
    """The whole mail; ``kind`` is the outbox kind (``reward_ready``), the template is ``mail_<kind>``."""
    sender = settings.config.mail.sender
    domain = parseaddr(sender)[1].rpartition("@")[2] or "pos-referral.local"
    voucher = str(context.get("voucher_code") or "")
    qr_cid = make_msgid("voucher", domain=domain)[1:-1] if voucher else ""
    values = {**context, "unsubscribe_url": unsubscribe_url, "qr_cid": qr_cid}
    rendered = messages.render(f"mail_{kind}", language, values, folder=messages.messages_folder(settings))
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = to_addr
    msg["Subject"] = rendered.subject
    msg["Date"] = formatdate(localtime=False)
    msg["Message-ID"] = make_msgid("mail", domain=domain)
    msg["Content-Language"] = messages.language(language)
    msg["List-Unsubscribe"] = f"<{unsubscribe_url}>"
    msg["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    msg["Auto-Submitted"] = "auto-generated"
    msg.set_content(rendered.text)
    if rendered.html is not None:
        msg.add_alternative(rendered.html, subtype="html")
        if qr_cid:
            html_part = msg.get_payload()[1]  # type: ignore[index]
            assert isinstance(html_part, EmailMessage)
            html_part.add_related(qr_png(voucher), "image", "png", cid=f"<{qr_cid}>",
                                  filename="voucher-qr.png", disposition="inline")
    return msg


@dataclass(frozen=True)
class SmtpTransport:
    """One connection per mail (a shop sends a handful an hour); every step has a timeout."""

    host: str
    port: int
    starttls: bool
    user: str = ""
    password: str = ""
    timeout: float = TIMEOUT_SECONDS

    @classmethod
    def from_config(cls, mail: MailSection, environ: Mapping[str, str] | None = None) -> SmtpTransport:
        env = os.environ if environ is None else environ
        return cls(mail.host, mail.port, mail.starttls, mail.user, env.get(mail.password_env, "") if mail.user else "")

    def send(self, message: EmailMessage) -> None:
        try:
            smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        except (OSError, smtplib.SMTPException) as exc:
            raise MailFailure(f"cannot connect to {self.host}:{self.port}: {exc}", permanent=False) from None
        try:
            smtp.ehlo()
            if self.starttls:
                smtp.starttls(context=ssl.create_default_context())
                smtp.ehlo()
            if self.user:
                smtp.login(self.user, self.password)
            smtp.send_message(message)  # returns only after the server's 250 to the data: accepted
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [code for code, _ in exc.recipients.values()]
            raise MailFailure(f"recipient refused: {codes}", permanent=all(c >= 500 for c in codes)) from None
        except (smtplib.SMTPAuthenticationError, smtplib.SMTPNotSupportedError) as exc:
            raise MailFailure(f"mail server set-up: {exc}", permanent=False) from None  # fixable: keep it
        except smtplib.SMTPResponseException as exc:
            raise MailFailure(f"{exc.smtp_code} {exc.smtp_error!r}", permanent=exc.smtp_code >= 500) from None
        except (OSError, smtplib.SMTPException) as exc:  # dropped connection, timeout, TLS failure
            raise MailFailure(f"connection lost: {exc or type(exc).__name__}", permanent=False) from None
        finally:
            try:
                smtp.quit()
            except (OSError, smtplib.SMTPException):
                smtp.close()
