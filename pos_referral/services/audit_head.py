"""The audit log's head, kept outside the database: ``<data_dir>/audit-head.json`` (0600).

The head is the number of entries, and the id and MAC of the last one, as of the last committed audit
write. It is written after the commit (atomically: temp file, fsync, rename), so it may lag behind the
log by the entries of a write whose process died between the two; the entries past the head are still
checked by the keyed chain. What it catches is what the chain alone cannot: the log's tail cut off
(fewer entries than the head says) or the whole log rewritten (the entry at the head has another MAC).
The head only moves forward along the chain it already vouches for: when the log no longer holds the
head's entry unchanged, a new write does not move it (the evidence stays). The relay sends it to
central on every sync that finds it moved (sync/relay.py), which keeps a copy the shop cannot change.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so

from pos_referral.db.models import AuditEntry
from pos_referral.private_files import replace_private

logger = logging.getLogger(__name__)

FILE_NAME = "audit-head.json"
_MAC = re.compile(r"[0-9a-f]{64}")


class HeadError(ValueError):
    """The head file or a head sent to central is not a head."""


@dataclass(frozen=True)
class Head:
    entries: int
    last_id: int
    mac: str

    def as_dict(self) -> dict[str, Any]:
        return {"entries": self.entries, "last_id": self.last_id, "mac": self.mac}

    @classmethod
    def from_dict(cls, data: Any) -> Head:
        if not isinstance(data, dict):
            raise HeadError("an audit head is an object with entries, last_id and mac")
        entries, last_id, mac = data.get("entries"), data.get("last_id"), data.get("mac")
        if not all(isinstance(n, int) and not isinstance(n, bool) and 0 < n < 2**63 for n in (entries, last_id)):
            raise HeadError("entries and last_id must be positive integers")
        if not isinstance(mac, str) or not _MAC.fullmatch(mac):
            raise HeadError("mac must be 64 lower-case hex digits")
        return cls(int(entries), int(last_id), mac)  # type: ignore[arg-type]


def head_path(data_dir: Path) -> Path:
    return data_dir / FILE_NAME


def read_head(path: Path) -> Head | None:
    """The head in ``path``; None when there is none yet. Raises HeadError when it is unreadable."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    try:
        return Head.from_dict(json.loads(text))
    except ValueError as exc:
        raise HeadError(f"{path}: {exc}") from None


def write_head(path: Path, head: Head) -> None:
    replace_private(path, json.dumps(head.as_dict()).encode())


def may_advance(session: so.Session, path: Path, entries: int) -> bool:
    """Whether the log (in this transaction, now ``entries`` long) still holds the head's entry unchanged
    and is longer than the head says, so a new head may replace it. False (and an error in the log)
    when the log was shortened or rewritten since."""
    try:
        old = read_head(path)
    except HeadError:
        logger.error("the audit head file is unreadable; keeping it as it is for `audit verify`")
        return False
    if old is None:
        return True
    mac = session.scalar(sa.select(AuditEntry.hash).where(AuditEntry.id == old.last_id))
    if mac != old.mac or entries <= old.entries:
        logger.error("the audit log no longer holds entry %s as its head file says: it was shortened or "
                     "rewritten; run `pos-referral audit verify`", old.last_id)
        return False
    return True
