"""The service's log: one greppable line per event, in the console and in a rotating file in the data folder.

``2026-12-06T21:40:12.345Z WARNING pos_referral.services.print_worker: print job 12 not printed ...``:
UTC time, level, the logger (the part of the program), the message; a traceback is folded into the
same line (``\\n`` written as ``⏎``) so one ``grep`` finds the whole event.

What a log must never hold: a customer's contact, a staff PIN, a token or a whole code (a code is a
voucher's value, or a referrer's reward). Log calls write codes shortened (``domain.text.short_code``); the
``RedactingFilter`` on every handler is the safety net for what a message or an exception text carries
anyway (an SMTP error quoting an address, a path with a code in it). The file is created 0600
(``private_files``), rotated files too.
"""

from __future__ import annotations

import logging
import re
import sys
import time
from logging.handlers import RotatingFileHandler
from pathlib import Path
from typing import TextIO

from pos_referral.private_files import private_dir, private_file

LEVELS = ("debug", "info", "warning", "error")
FORMAT = "%(asctime)s.%(msecs)03dZ %(levelname)s %(name)s: %(message)s"
DATE_FORMAT = "%Y-%m-%dT%H:%M:%S"
NEWLINE = " ⏎ "

_CROCKFORD = "[0-9A-HJKMNP-TV-Z]"
# a whole code: 14 symbols, or printed in groups of four (R7KQ-2M9X-W4HT-3P); upper case as codes are written
_CODE = re.compile(rf"(?<![\w-])({_CROCKFORD}{{4}})(?:[- ]?{_CROCKFORD}{{4}}){{2}}[- ]?{_CROCKFORD}{{2}}(?![\w-])")
# the same typed in lower case (a scan before normalising), when it has a digit (so a long word is not one)
_LOWER_CODE = re.compile(r"(?<![\w-])(?=[0-9a-z -]*\d)([0-9a-hjkmnp-tv-z]{4})(?:[- ]?[0-9a-hjkmnp-tv-z]{4}){2}"
                         r"[- ]?[0-9a-hjkmnp-tv-z]{2}(?![\w-])")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_BEARER = re.compile(r"(?i)\b(bearer\s+)(?!codes?\b)\S+")  # a token after it; "bearer code" is our word
_SECRET_FIELD = re.compile(r"(?i)\b(pin|password|passwd|token|secret|api[_-]?key|authorization)(\"?\s*[=:]\s*\"?)"
                           r"(?!bearer\s|<redacted>)[^\s\",;&]+")
# a phone: + and 7 or more further digits, or 8 or more digits, each maybe apart by one space, dot or hyphen;
# an ISO date (2026-12-06) or time stamp is not one
_PHONE = re.compile(r"(?<![\w.+-])(?!\d{4}-\d{2}-\d{2})(?:\+\d(?:[ .\-]?\d){6,14}|\d(?:[ \-]?\d){7,14})(?![\w.-])")
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.I)
# a long random string (API token, session key, hash): letters and digits mixed, 24 or more; not a file's
# name (followed by .db, .png: a backup or receipt named by store and time)
_TOKEN = re.compile(r"(?<![\w-])(?=[\w-]*\d)(?=[\w-]*[A-Za-z])[\w-]{24,}(?![\w-]|\.[A-Za-z])")


# a schema revision ("0017_sale_customer_totals"): four digits and lower-case words, never a random token
_REVISION = re.compile(r"\d{4}(?:_[a-z]+)+")


def _token(match: re.Match[str]) -> str:
    text = match.group(0)
    return text if _UUID.fullmatch(text) or _REVISION.fullmatch(text) else "<token>"


def redact(text: str) -> str:
    """``text`` with whole codes shortened and contacts, PINs, tokens and bearer credentials blanked."""
    text = _BEARER.sub(r"\1<redacted>", text)
    text = _SECRET_FIELD.sub(r"\1\2<redacted>", text)
    text = _EMAIL.sub("<email>", text)
    text = _CODE.sub(lambda m: m.group(1) + "…", text)
    text = _LOWER_CODE.sub(lambda m: m.group(1) + "…", text)
    text = _TOKEN.sub(_token, text)
    return _PHONE.sub("<phone>", text)


class RedactingFilter(logging.Filter):
    """On every handler: the message (arguments filled in) and any traceback, redacted before formatting."""

    def __init__(self) -> None:
        super().__init__()
        self._traceback = logging.Formatter()

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = redact(record.getMessage())
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = self._traceback.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


class OneLineFormatter(logging.Formatter):
    """UTC time stamps; a message or traceback over several lines becomes one line."""

    converter = time.gmtime  # type: ignore[assignment]  # (typeshed: gmtime takes an optional float, as asked)

    def __init__(self) -> None:
        super().__init__(FORMAT, DATE_FORMAT)

    def format(self, record: logging.LogRecord) -> str:
        return super().format(record).replace("\r\n", "\n").replace("\n", NEWLINE)


class PrivateRotatingFileHandler(RotatingFileHandler):
    """A rotating file whose every new file (the first, and each after a rotation) is 0600 from its first byte."""

    def _open(self):  # type: ignore[no-untyped-def]  # (the base class's signature is untyped)
        private_file(Path(self.baseFilename))
        return super()._open()


class StderrHandler(logging.StreamHandler[TextIO]):
    """Writes to whatever ``sys.stderr`` is at the time (a test runner swaps it; a service's is the journal)."""

    def __init__(self) -> None:
        super().__init__()

    @property
    def stream(self) -> TextIO:
        return sys.stderr

    @stream.setter
    def stream(self, _value: object) -> None:
        pass


def _handlers_ready(handler: logging.Handler) -> logging.Handler:
    handler.setFormatter(OneLineFormatter())
    handler.addFilter(RedactingFilter())
    return handler


def level_number(level: str) -> int:
    return int(logging.getLevelName(level.upper()))


def configure_console(level: str) -> None:
    """The level, and the console's handler (stderr: a terminal, or the journal under systemd) once per process."""
    root = logging.getLogger()
    root.setLevel(level_number(level))
    if not root.handlers:  # as logging.basicConfig: not when someone (a test runner) already set logging up
        root.addHandler(_handlers_ready(StderrHandler()))
    if level != "debug":  # quiet when healthy: a migration that worked needs no lines at every start
        logging.getLogger("alembic").setLevel(logging.WARNING)


def add_log_file(path: Path, *, max_bytes: int, backup_count: int) -> logging.Handler:
    """The rotating log file (created 0600 in a 0700 folder); returns the handler (``remove_log_file``)."""
    private_dir(path.parent)
    handler = _handlers_ready(PrivateRotatingFileHandler(path, maxBytes=max_bytes, backupCount=backup_count,
                                                         encoding="utf-8", delay=False))
    logging.getLogger().addHandler(handler)
    return handler


def remove_log_file(handler: logging.Handler) -> None:
    logging.getLogger().removeHandler(handler)
    handler.close()
