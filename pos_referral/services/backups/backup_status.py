"""What the last backups did, kept in ``<data_dir>/backup-status.json`` (0600) for /healthz and the manager page.

A file beside the database rather than a table in it: the record must say "the last backup failed" even
when the failure is the database itself, and a restored database must not bring back an older record.
Written atomically (temp file, fsync, rename); an unreadable file reads as "no backup yet".
"""

from __future__ import annotations

import json
import logging
import threading
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from pos_referral.config import Settings
from pos_referral.private_files import replace_private, restrict

logger = logging.getLogger(__name__)

FILE_NAME = "backup-status.json"
LATE_AFTER = 2  # the backup is late when the last good one is older than this many intervals
_lock = threading.Lock()  # one writer at a time in this process (the worker and ``db backup`` in tests)


def status_path(data_dir: Path) -> Path:
    return data_dir / FILE_NAME


def read_status(data_dir: Path) -> dict[str, Any]:
    path = status_path(data_dir)
    try:
        restrict(path)
        data = json.loads(path.read_text())
    except FileNotFoundError:
        return {}
    except (OSError, ValueError):
        logger.warning("%s is unreadable: it is written again after the next backup", path)
        return {}
    return data if isinstance(data, dict) else {}


def record(data_dir: Path, key: str, entry: dict[str, Any]) -> None:
    """Record ``entry`` under ``key`` (``last``, ``last_ok``, ``central``); never raises."""
    with _lock:
        data = read_status(data_dir)
        data[key] = entry
        if key == "last" and entry.get("ok"):
            data["last_ok"] = entry
        try:
            replace_private(status_path(data_dir), json.dumps(data, indent=1).encode())
        except OSError as exc:
            logger.warning("cannot write %s: %s", status_path(data_dir), exc)


def backup_health(settings: Settings, now: datetime) -> dict[str, Any]:
    """The ``backup`` field of /healthz: ``state`` is off, none (no backup yet), ok, late or failed."""
    section = settings.config.backup
    data = read_status(settings.data_dir)
    last, good = data.get("last") or {}, data.get("last_ok") or {}
    body: dict[str, Any] = {"state": "ok", "last_ok_at": good.get("taken_at"), "file": good.get("file"),
                            "size": good.get("size"), "every_hours": section.every_hours}
    if last and not last.get("ok"):
        body.update(state="failed", failed_at=last.get("at"), error=last.get("error"))
    elif not good:
        body["state"] = "none" if section.enabled else "off"
    elif section.enabled and _older(good.get("taken_at"), now, timedelta(hours=section.every_hours * LATE_AFTER)):
        body["state"] = "late"
    central = data.get("central")
    if settings.config.backup.send_to_central and central:
        body["central"] = central
    return body


def _older(stamp: object, now: datetime, age: timedelta) -> bool:
    try:
        return now - datetime.fromisoformat(str(stamp)) > age
    except (TypeError, ValueError):
        return True
