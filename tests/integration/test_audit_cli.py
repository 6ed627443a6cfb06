"""The command line for managers: add a manager, verify the audit chain, print a report."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
from pathlib import Path

from click.testing import CliRunner

from pos_referral.bootstrap import Store
from pos_referral.cli import main
from pos_referral.services import staff
from tests.conftest import Api


def run(config_path: Path, store: Store, *args: str, stdin: str | None = None) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["--config", str(config_path), "--data-dir", str(store.settings.data_dir),
                                       *args], input=stdin)
    return result.exit_code, result.output


def test_manager_add_asks_for_the_password_twice_and_hides_it(config_path: Path, store: Store) -> None:
    code, out = run(config_path, store, "manager", "add", "Mia", stdin="long enough pw\nlong enough pw\n")
    assert code == 0, out
    assert "long enough pw" not in out and "Repeat for confirmation" in out and "manager Mia saved." in out
    assert isinstance(staff.sign_in(store.ctx, secret="long enough pw", name="Mia", use_password=True),
                      staff.SignedIn)


def test_manager_add_refuses_a_short_or_mistyped_password(config_path: Path, store: Store) -> None:
    code, out = run(config_path, store, "manager", "add", "Mia", stdin="short\nshort\n")
    assert code == 1 and "at least 10 characters" in out
    code, out = run(config_path, store, "manager", "add", "Mia", stdin="long enough pw\nother one pw\n"
                    "long enough pw\nlong enough pw\n")
    assert code == 0 and "do not match" in out


def test_staff_add_prompts_for_a_cashier_pin(config_path: Path, store: Store) -> None:
    code, out = run(config_path, store, "staff", "add", "Ann", "--role", "cashier", stdin="2468\n2468\n")
    assert code == 0 and "2468" not in out
    assert isinstance(staff.sign_in(store.ctx, secret="2468", name="Ann"), staff.SignedIn)


def test_audit_verify_passes_then_finds_the_tampered_entry(config_path: Path, store: Store) -> None:
    staff.add_staff(store.ctx, "Mia", "manager", password="long enough pw")
    staff.sign_in(store.ctx, secret="wrong", name="Mia", use_password=True)
    staff.sign_in(store.ctx, secret="long enough pw", name="Mia", use_password=True)
    code, out = run(config_path, store, "audit", "verify")
    assert (code, out.strip()) == (0, "audit log intact: 3 entries")
    with sqlite3.connect(store.settings.data_dir / "pos-referral.db") as db:
        db.execute("UPDATE audit_log SET actor = 'Someone else' WHERE id = 2")
    code, out = run(config_path, store, "audit", "verify")
    assert code == 1 and "entry 2 does not match" in out


def test_audit_verify_notices_a_deleted_entry(config_path: Path, store: Store) -> None:
    for name in ("A1", "A2", "A3"):
        staff.add_staff(store.ctx, name, "cashier", pin="1234")
    with sqlite3.connect(store.settings.data_dir / "pos-referral.db") as db:
        db.execute("DELETE FROM audit_log WHERE id = 2")
    code, out = run(config_path, store, "audit", "verify")
    assert code == 1 and "entry 3 does not match" in out


def test_report_prints_the_same_tables_as_json_and_csv(config_path: Path, store: Store, api: Api) -> None:
    referral = api.issue("+4791111111", "Kari")["code"]
    assert api.redeem(referral, "S1", "50.00", phone="+4794444441")[0] == 201
    code, out = run(config_path, store, "report", "--from", "2026-06-01", "--to", "2026-06-30")
    assert code == 0, out
    body = json.loads(out)
    assert (body["from"], body["to"]) == ("2026-06-01", "2026-06-30")
    assert body["tables"]["top_referrers"][0]["referred_revenue"] == "50.00"
    assert body["tables"]["top_referrers"][0]["friends_brought"] == 1
    code, out = run(config_path, store, "report", "--format", "csv", "--table", "activity", "--from", "2026-06-01",
                    "--to", "2026-06-30")
    rows = list(csv.reader(io.StringIO(out)))
    assert rows[0] == ["Event", "Count", "Ratio to the row above"] and rows[4] == ["Redemptions", "1", ""]
    code, out = run(config_path, store, "report", "--format", "csv")
    assert code == 0 and "# funnel" in out and "# reconciliation" in out
    code, out = run(config_path, store, "report", "--from", "2026-07-01", "--to", "2026-06-01")
    assert code == 2 and "after the last day" in out
