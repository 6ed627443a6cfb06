"""Exports are safe to open in a spreadsheet: formula-like text is written as text, numbers as numbers."""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from pathlib import Path

from click.testing import CliRunner
from flask.testing import FlaskClient

from pos_referral.bootstrap import Store
from pos_referral.cli import main
from pos_referral.domain.csv_cells import safe_cell
from pos_referral.services import staff
from tests.conftest import Api

HOSTILE = ['=HYPERLINK("http://e.example","x")', "@SUM(1)", "-2+3", "+1-1"]
PASSWORD = "correct horse battery"


def _customers_with_hostile_names(api: Api) -> None:
    for i, name in enumerate(HOSTILE):
        code = api.issue(f"+479111111{i}", name)["code"]
        assert api.redeem(code, f"S{i}", "50.00", phone=f"+479444444{i}")[0] == 201


def _names(rows: list[list[str]]) -> set[str]:
    return {row[0] for row in rows[1:]}


def _assert_neutralised(rows: list[list[str]]) -> None:
    assert _names(rows) == {"'" + name for name in HOSTILE}
    for row in rows[1:]:
        assert row[2:4] == ["1", "50.00"]  # friends brought, referred revenue: plain numbers, untouched


def test_a_customer_named_like_a_formula_is_text_in_the_web_export(app: object, api: Api, store: Store) -> None:
    _customers_with_hostile_names(api)
    staff.add_staff(store.ctx, "Mia", "manager", password=PASSWORD)
    client: FlaskClient = api.client
    html = client.get("/manager/login").get_data(as_text=True)
    token = html.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    assert client.post("/manager/login", data={"name": "Mia", "password": PASSWORD,
                                               "csrf_token": token}).status_code == 302
    body = client.get("/manager/export/top_referrers.csv?from=2026-06-01&to=2026-06-30").get_data(as_text=True)
    _assert_neutralised(list(csv.reader(io.StringIO(body))))


def test_a_customer_named_like_a_formula_is_text_in_the_cli_report(config_path: Path, store: Store,
                                                                    api: Api) -> None:
    _customers_with_hostile_names(api)
    result = CliRunner().invoke(main, ["--config", str(config_path), "--data-dir", str(store.settings.data_dir),
                                       "report", "--format", "csv", "--table", "top_referrers",
                                       "--from", "2026-06-01", "--to", "2026-06-30"])
    assert result.exit_code == 0, result.output
    _assert_neutralised(list(csv.reader(io.StringIO(result.output))))


def test_numbers_stay_numbers_and_only_formula_text_is_quoted() -> None:
    assert [safe_cell(v) for v in (-5, Decimal("-5.00"), "-5.00", "+12", "12.50", None)] == [
        "-5", "-5.00", "-5.00", "+12", "12.50", ""]
    assert [safe_cell(v) for v in ("=1+1", "-2+3", "@SUM(1)", "\tx", "\rx", "Kari", "Kari=1")] == [
        "'=1+1", "'-2+3", "'@SUM(1)", "'\tx", "'\rx", "Kari", "Kari=1"]
