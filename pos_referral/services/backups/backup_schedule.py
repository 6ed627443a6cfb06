"""The backup round ``serve`` runs every few minutes (workers.py): back up when due, prune, send to central.

Due is read from the folder (the newest backup's time in its name), not from memory, so a restart neither
backs up again nor skips one, and a backup folder that was emptied or swapped (a new USB drive) is filled
at the next round. A failure is recorded for /healthz and the manager page and logged once, with one more
line when backups work again; the next round simply tries again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from pos_referral.config import Settings
from pos_referral.services.backups.backup import BackupError, backup_folder, list_backups, prune, take_backup, taken_at
from pos_referral.services.backups.backup_status import read_status, record

logger = logging.getLogger(__name__)

CHECK_SECONDS = 300.0  # how often the round looks whether a backup is due
Send = Callable[[Path], dict[str, Any]]  # sends one backup file to central; raises on failure


class ScheduledBackups:
    """One round per call (``PeriodicTask``); ``send`` is given for a chain store with ``send_to_central``."""

    def __init__(self, settings: Settings, clock: Callable[[], datetime], send: Send | None = None) -> None:
        self.settings, self.clock, self.send = settings, clock, send
        self.problem = ""  # what was last logged about a failing backup; empty while they work
        self.central_problem = ""

    @property
    def interval(self) -> float:
        return min(CHECK_SECONDS, self.settings.config.backup.every_hours * 3600)

    def due(self, now: datetime) -> bool:
        newest = list_backups(backup_folder(self.settings))[:1]
        at = taken_at(newest[0]) if newest else None
        return at is None or now - at >= timedelta(hours=self.settings.config.backup.every_hours)

    def __call__(self) -> None:
        now = self.clock()
        if self.due(now):
            self.back_up(now)
        if self.send is not None:
            self.send_newest()

    def back_up(self, now: datetime) -> None:
        data_dir = self.settings.data_dir
        try:
            backup = take_backup(self.settings, now=now)
        except BackupError as exc:
            record(data_dir, "last", {"at": now.isoformat(), "ok": False, "error": str(exc)})
            if str(exc) != self.problem:
                logger.error("backup failed: %s (the shop goes on; the next try is in %.0f minutes)",
                             exc, self.interval / 60)
            self.problem = str(exc)
            return
        record(data_dir, "last", {"at": now.isoformat(), "ok": True, **backup.as_dict()})
        if self.problem:
            logger.warning("backups work again: %s", backup.path)
            self.problem = ""
        try:
            prune(self.settings)
        except OSError as exc:
            logger.warning("backup retention could not delete old backups: %s", exc)

    def send_newest(self) -> None:
        """Send the newest verified backup to central unless central already has it."""
        assert self.send is not None
        newest = list_backups(backup_folder(self.settings))[:1]
        sent = read_status(self.settings.data_dir).get("central") or {}
        if not newest or (sent.get("ok") and sent.get("file") == newest[0].name):
            return
        now = self.clock()
        try:
            answer = self.send(newest[0])
        except Exception as exc:  # the sync client's Unavailable/Rejected, a file gone: said once, tried again
            record(self.settings.data_dir, "central", {"at": now.isoformat(), "ok": False,
                                                        "file": newest[0].name, "error": str(exc)})
            if str(exc) != self.central_problem:
                logger.warning("sending backup %s to central failed: %s (tried again later)", newest[0].name, exc)
            self.central_problem = str(exc)
            return
        record(self.settings.data_dir, "central", {"at": now.isoformat(), "ok": True, "file": newest[0].name,
                                                    "size": answer.get("size")})
        if self.central_problem:
            logger.warning("backups reach central again")
            self.central_problem = ""
