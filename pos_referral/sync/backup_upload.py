"""A chain store's newest verified backup to central (``[backup] send_to_central``), by its sync token."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from pos_referral.config import Settings
from pos_referral.services.backups.backup_schedule import Send
from pos_referral.sync.client import CentralClient


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def sender_for(settings: Settings) -> Send | None:
    """What sends a backup file to this store's central, or None (standalone, or not asked to)."""
    central = settings.config.central
    if not (settings.config.backup.send_to_central and central.url):
        return None
    client = CentralClient(central.url, central.token)
    store_no = settings.config.store.number

    def send(path: Path) -> dict[str, Any]:
        return client.put_backup(store_no, path, file_sha256(path))

    return send
