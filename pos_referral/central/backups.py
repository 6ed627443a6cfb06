"""Central's copy of each store's newest backups (``PUT /sync/v1/backup``, ``[central] backup_folder``).

A store's backup arrives as a stream and is written to ``<folder>/S001/<name>.partial`` (0600) while its
SHA-256 is computed; only when the hash matches what the store sent and SQLite's integrity check passes is it
renamed to its name. Then the newest ``backups_per_store`` of that store are kept. Central does not require
the store's schema revision to be one it knows: a store may run a newer version than central.
"""

from __future__ import annotations

import hashlib
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from pos_referral.config import Settings
from pos_referral.private_files import private_dir, private_file
from pos_referral.services.backups.backup import BackupError, backup_name_of, list_backups, sync_folder, verify

logger = logging.getLogger(__name__)

CHUNK = 1 << 20


class BackupRefused(Exception):
    """The upload is not kept; ``status`` and ``code`` are the HTTP answer."""

    def __init__(self, status: int, code: str, detail: str) -> None:
        super().__init__(detail)
        self.status, self.code = status, code


@dataclass(frozen=True)
class Kept:
    name: str
    size: int
    kept: list[str]


def central_backup_folder(settings: Settings) -> Path:
    folder = Path(settings.config.central.backup_folder or "store-backups")
    return folder if folder.is_absolute() else settings.data_dir / folder


def receive_backup(settings: Settings, store_no: int, name: str, sha256: str, body: IO[bytes]) -> Kept:
    """Write, check and keep one store's backup; older ones of that store beyond the newest N are deleted."""
    if not backup_name_of(name, store_no):
        raise BackupRefused(422, "invalid_request", f"name must be a backup file name of store {store_no} "
                                                    f"(pos-referral-S{store_no:03d}-<time>.db)")
    if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
        raise BackupRefused(422, "invalid_request", "sha256 must be 64 lower-case hex digits")
    folder = private_dir(central_backup_folder(settings) / f"S{store_no:03d}")
    final = folder / name
    partial = private_file(folder / (name + ".partial"))
    digest, size = hashlib.sha256(), 0
    try:
        with partial.open("wb") as out:
            while chunk := body.read(CHUNK):
                digest.update(chunk)
                out.write(chunk)
                size += len(chunk)
            out.flush()
            os.fsync(out.fileno())
        if digest.hexdigest() != sha256:
            raise BackupRefused(422, "backup_damaged", "the file's SHA-256 is not the one sent: send it again")
        try:
            verify(partial, known_schema=False)
        except BackupError as exc:
            raise BackupRefused(422, "backup_damaged", f"not a sound database: {exc}") from None
        os.replace(partial, final)
        sync_folder(folder)
    finally:
        partial.unlink(missing_ok=True)
    newest = list_backups(folder)
    keep = settings.config.central.backups_per_store
    for old in newest[keep:]:
        old.unlink(missing_ok=True)
    logger.info("store %s backup %s kept (%s bytes)", store_no, name, size)
    return Kept(name, size, [p.name for p in newest[:keep]])
