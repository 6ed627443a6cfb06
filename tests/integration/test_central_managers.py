"""A chain manager is created on central's PostgreSQL by the CLI and signs in to the chain dashboard."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from flask.testing import FlaskClient

from pos_referral import create_app
from pos_referral.cli import main
from tests.conftest import FakeClock
from tests.postgres_support import fresh_database, start_central
from tests.server_support import make_config

pytestmark = [pytest.mark.postgres]
PASSWORD = "chain chief pw 1"


def _sign_in(client: FlaskClient, name: str, password: str) -> int:
    page = client.get("/manager/login").get_data(as_text=True)
    token = page.split('name="csrf_token" value="')[1].split('"')[0]
    return client.post("/manager/login", data={"name": name, "password": password, "csrf_token": token}).status_code


def test_a_manager_added_on_the_command_line_signs_in_to_the_chain_dashboard(tmp_path: Path,
                                                                           clock: FakeClock) -> None:
    config = make_config(tmp_path)
    with fresh_database() as url:
        added = CliRunner().invoke(main, ["--config", str(config), "--data-dir", str(tmp_path / "d"), "central",
                                          "manager", "add", "chief", "--password", PASSWORD, "--database", url])
        assert added.exit_code == 0, added.output
        assert "chief" in added.output and PASSWORD not in added.output
        central = start_central(url, tmp_path, clock)
        try:
            client = create_app(central=central, test_config={"TESTING": True}).test_client()
            assert _sign_in(client, "chief", "not the password") == 401
            assert _sign_in(client, "chief", PASSWORD) == 302
            report = client.get("/manager/?from=2026-06-01&to=2026-06-30")
            assert report.status_code == 200
            html = report.get_data(as_text=True)
            assert "all stores" in html and "Sync lag per store" in html  # the chain's report, not a store's
            home = client.get("/").get_data(as_text=True)  # central's front page leads to the dashboard
            assert '<a href="/manager/">Chain dashboard</a>' in home and "/till/" not in home
            assert "This is the chain&#39;s central service" in home
            assert client.get("/healthz").get_json()["sync"] == {"mode": "central"}
        finally:
            central.close()


def test_a_short_central_manager_password_is_refused_in_one_line(tmp_path: Path) -> None:
    config = make_config(tmp_path)
    with fresh_database() as url:
        refused = CliRunner().invoke(main, ["--config", str(config), "--data-dir", str(tmp_path / "d"), "central",
                                            "--database", url, "manager", "add", "chief", "--password", "short"])
        assert refused.exit_code == 1
        assert refused.output.strip() == "Error: a password is at least 10 characters"
