"""An audit log that cannot be quietly shortened or rewritten: keyed MAC chain, head kept outside the database."""

from __future__ import annotations

import sqlite3
from datetime import datetime
from pathlib import Path

from click.testing import CliRunner

from pos_referral.bootstrap import Store, build_store
from pos_referral.cli import main
from pos_referral.config import load_settings
from pos_referral.db import migrate
from pos_referral.db.base import UTCDateTime
from pos_referral.services import audit, staff
from pos_referral.services.audit_head import head_path, read_head
from tests.conftest import FakeClock


def db_file(store: Store) -> Path:
    return store.settings.data_dir / "pos-referral.db"


def six_entries(store: Store) -> None:
    for name in ("A1", "A2", "A3", "A4", "A5", "A6"):
        staff.add_staff(store.ctx, name, "cashier", pin="246813")


def verify_cli(config_path: Path, store: Store) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["--config", str(config_path), "--data-dir", str(store.settings.data_dir),
                                       "audit", "verify"])
    return result.exit_code, result.output


def rechain_without_the_key(store: Store, from_id: int, *, through: int = 2**31, as_old_format: bool = False) -> None:
    """What someone with only the database can do: recompute the hashes of ``from_id..through`` with plain SHA-256."""
    with sqlite3.connect(db_file(store)) as con:
        rows = con.execute("SELECT id, at, actor, action, detail, hash FROM audit_log ORDER BY id").fetchall()
        prev = audit.GENESIS
        for entry_id, at, actor, action, detail, old in rows:
            if from_id <= entry_id <= through:
                when = UTCDateTime().process_result_value(datetime.fromisoformat(at), None)
                assert when is not None
                new = audit._legacy_digest(prev, when, actor, action, detail)
                con.execute("UPDATE audit_log SET prev_hash = ?, hash = ? WHERE id = ?", (prev, new, entry_id))
                if as_old_format:
                    con.execute("UPDATE audit_log SET mac_version = 0 WHERE id = ?", (entry_id,))
                old = new
            prev = old


def test_an_intact_log_verifies_and_its_key_is_not_in_the_database(config_path: Path, store: Store) -> None:
    six_entries(store)
    assert verify_cli(config_path, store) == (0, "audit log intact: 6 entries\n")
    head = read_head(head_path(store.settings.data_dir))
    assert head is not None and (head.entries, head.last_id) == (6, 6)
    assert store.ctx.secrets.audit_key.hex().encode() not in db_file(store).read_bytes()
    assert store.ctx.secrets.audit_key not in db_file(store).read_bytes()


def test_an_entry_edited_in_sql_is_named(config_path: Path, store: Store) -> None:
    six_entries(store)
    with sqlite3.connect(db_file(store)) as con:
        con.execute("UPDATE audit_log SET detail = 'A3 as manager' WHERE id = 3")
    code, out = verify_cli(config_path, store)
    assert code == 1 and "entry 3 does not match the chain: it was changed" in out


def test_an_edit_re_chained_with_plain_sha256_is_detected(config_path: Path, store: Store) -> None:
    six_entries(store)
    with sqlite3.connect(db_file(store)) as con:
        con.execute("UPDATE audit_log SET detail = 'A3 as manager' WHERE id = 3")
    rechain_without_the_key(store, 3)
    code, out = verify_cli(config_path, store)
    assert code == 1 and "entry 3 does not match the chain" in out and "without the audit key" in out


def test_a_log_rewritten_whole_in_the_old_unkeyed_format_is_caught_by_the_head(config_path: Path,
                                                                                 store: Store) -> None:
    six_entries(store)
    with sqlite3.connect(db_file(store)) as con:
        con.execute("UPDATE audit_log SET detail = 'A3 as manager' WHERE id = 3")
    rechain_without_the_key(store, 1, as_old_format=True)
    check = audit.verify(store.ctx)
    assert not check.ok and check.bad_id == 6 and "audit head outside the database" in check.problem


def test_a_deleted_middle_entry_is_named(config_path: Path, store: Store) -> None:
    six_entries(store)
    with sqlite3.connect(db_file(store)) as con:
        con.execute("DELETE FROM audit_log WHERE id = 4")
    code, out = verify_cli(config_path, store)
    assert code == 1 and "entry 5 does not match the chain: entry 4 before it was deleted" in out


def test_a_cut_off_tail_is_reported_as_truncated_even_after_new_entries(config_path: Path, store: Store) -> None:
    six_entries(store)
    with sqlite3.connect(db_file(store)) as con:
        con.execute("DELETE FROM audit_log WHERE id > 3")
    code, out = verify_cli(config_path, store)
    assert code == 1 and "audit log truncated: log ends at 3, head says 6" in out
    staff.sign_in(store.ctx, secret="246813", name="A1")  # the service goes on writing: the head stays put
    code, out = verify_cli(config_path, store)
    assert code == 1 and "audit log truncated: log ends at 4, head says 6" in out


def test_a_deleted_head_file_is_not_taken_for_an_intact_log(config_path: Path, store: Store) -> None:
    six_entries(store)
    head_path(store.settings.data_dir).unlink()
    code, out = verify_cli(config_path, store)
    assert code == 1 and "head file is missing" in out


def test_a_log_from_before_the_key_is_kept_and_protected_from_the_upgrade_on(config_path: Path, store: Store,
                                                                            clock: FakeClock) -> None:
    """Upgrading: entries written under the old plain SHA-256 chain stay as they are (the key is not in the
    database, so a migration cannot re-MAC them); the first keyed entry's MAC covers the last of them."""
    for name in ("A1", "A2", "A3"):
        staff.add_staff(store.ctx, name, "cashier", pin="246813")
    data = store.settings.data_dir
    migrate.downgrade(store.db, "0001")
    rechain_without_the_key(store, 1)  # as the old version wrote them
    head_path(data).unlink()  # the old version kept no head
    store.close()
    upgraded = build_store(load_settings(config_path, data_dir=data, environ={}), clock=clock)
    try:
        check = audit.verify(upgraded.ctx)
        assert (check.ok, check.entries, check.legacy) == (True, 4, 3)
        code, out = verify_cli(config_path, upgraded)
        assert (code, out) == (0, "audit log intact: 4 entries (3 from before the audit key, under plain SHA-256)\n")
        with sqlite3.connect(db_file(upgraded)) as con:
            con.execute("UPDATE audit_log SET detail = 'A2 as manager' WHERE id = 2")
        rechain_without_the_key(upgraded, 2, through=3)  # a consistent old-style chain again, up to entry 3
        check = audit.verify(upgraded.ctx)
        assert not check.ok and check.bad_id == 4 and "the entry before it was changed" in check.problem
    finally:
        upgraded.close()
