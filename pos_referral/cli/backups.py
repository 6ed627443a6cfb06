"""``db backup`` (now, while the shop runs) and ``db restore FILE`` (service stopped): services/backups/."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import click

from pos_referral.cli.options import Obj
from pos_referral.db import migrate
from pos_referral.services.backups.backup import BackupError, backup_folder, take_backup
from pos_referral.services.backups.backup_status import record
from pos_referral.services.backups.restore import RestoreError, restore_file
from pos_referral.services.backups.restore_audit import record_restore, set_head_aside


def _now() -> datetime:
    return datetime.now(UTC)


@click.command("backup")
@click.option("--folder", type=click.Path(path_type=Path, file_okay=False),
              help="Write the backup here instead of [backup] folder (kept out of the automatic retention).")
@click.pass_obj
def db_backup(obj: Obj, folder: Path | None) -> None:
    """Back the database up now (safe while `serve` runs) and check the copy."""
    settings = obj.settings()
    now = _now()
    try:
        backup = take_backup(settings, now=now, folder=folder)
    except BackupError as exc:
        if folder is None:
            record(settings.data_dir, "last", {"at": now.isoformat(), "ok": False, "error": str(exc)})
        raise click.ClickException(str(exc)) from None
    if folder is None:
        record(settings.data_dir, "last", {"at": now.isoformat(), "ok": True, **backup.as_dict()})
    click.echo(f"backup: {backup.path}")
    click.echo(f"size: {backup.size} bytes, taken in {backup.seconds:.1f} s")
    click.echo(f"verified: {backup.verified.line()}")


@click.command("restore")
@click.argument("file", type=click.Path(path_type=Path, exists=True, dir_okay=False))
@click.option("--yes", "-y", "assume_yes", is_flag=True, help="Do not ask.")
@click.pass_obj
def db_restore(obj: Obj, file: Path, assume_yes: bool) -> None:
    """Replace the database with the backup FILE (checked first; the service must be stopped).

    The database it replaces is kept beside it as pos-referral.db.replaced-<time>."""
    settings = obj.settings()
    if not assume_yes:
        click.confirm(f"Replace the database in {settings.data_dir} with {file}? Sales recorded after that "
                      "backup was taken will be missing (the current database is kept beside it)", abort=True)
    now = _now()
    try:
        restored = restore_file(settings, file, now=now)
    except RestoreError as exc:
        raise click.ClickException(str(exc)) from None
    aside = set_head_aside(settings.data_dir, now)  # the restored log is shorter than the head says: recorded
    store = obj.store()  # an older schema is upgraded here (backed up first), as the next start would
    try:
        entries = record_restore(store.ctx, file, aside)
    finally:
        store.close()
    click.echo(f"restored: {restored.database} from {file}")
    click.echo(f"verified: {restored.verified.line()}")
    if restored.replaced is not None:
        click.echo(f"the database it replaced is kept as {restored.replaced}")
    click.echo(f"audit log: {entries} entries, the last one records this restore"
               + (f" (the head before it is kept as {aside.path})" if aside.path else ""))
    head = migrate.head_revision()
    if restored.verified.revision != head:
        click.echo(f"its schema ({restored.verified.revision}) was older than this version's ({head}): upgraded, "
                   f"after backing it up into {backup_folder(settings)}")
