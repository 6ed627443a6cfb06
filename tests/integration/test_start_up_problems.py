"""Quiet when healthy, one clear line when not: printer settings, the port, fonts, central, the demo."""

from __future__ import annotations

import logging
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import click
import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from pos_referral.bootstrap import Store
from pos_referral.cli import main
from pos_referral.cli.serving import check_fonts
from pos_referral.config import ConfigError, load_settings
from pos_referral.db.models import Customer
from pos_referral.printing import fonts
from pos_referral.services.unit_of_work import UnitOfWork
from pos_referral.shop_config import set_values
from pos_referral.sync.client import Unavailable
from pos_referral.sync.relay import SyncSummary
from pos_referral.workers import CentralWatch
from tests.server_support import make_config


def _serve(config: Path, data: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "pos_referral", "--config", str(config), "--data-dir", str(data),
                           "serve", *args], capture_output=True, text=True, timeout=60, env=env)


def test_a_network_printer_without_host_stops_with_one_line(tmp_path: Path) -> None:
    config = make_config(tmp_path)
    config.write_text(set_values(config.read_text(), {"printer": {"type": "network"}}))
    out = _serve(config, tmp_path / "data", "--port", "1")
    lines = [line for line in out.stderr.splitlines() if line.strip()]
    assert out.returncode != 0 and len(lines) == 1, out.stderr
    assert "store.toml" in lines[0] and "printer" in lines[0] and "needs host" in lines[0]


def test_a_bad_value_from_the_environment_names_the_variable_not_the_file(config_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(config_path, environ={"POS_REFERRAL_SERVER__PORT": "0"})
    said = str(caught.value)
    assert said.startswith("environment variable POS_REFERRAL_SERVER__PORT: server.port:") and "store.toml" not in said
    config_path.write_text(set_values(config_path.read_text(), {"server": {"port": 0}}))
    with pytest.raises(ConfigError, match=r"store\.toml: server\.port"):  # the file, when it is at fault
        load_settings(config_path, environ={"POS_REFERRAL_PRINTER__TYPE": "none"})


@pytest.fixture
def busy_port() -> Iterator[int]:
    with socket.socket() as other:
        other.bind(("127.0.0.1", 0))
        other.listen(1)
        yield int(other.getsockname()[1])


def test_a_port_in_use_stops_with_one_line(tmp_path: Path, busy_port: int) -> None:
    result = CliRunner().invoke(main, ["--config", str(make_config(tmp_path)), "--data-dir", str(tmp_path / "d"),
                                       "serve", "--port", str(busy_port)])
    assert result.exit_code != 0
    assert result.output.strip() == f"Error: port {busy_port} is in use: stop the other service or use --port"
    assert not (tmp_path / "d" / "pos-referral.db").exists()  # stopped before anything was opened


@pytest.fixture
def no_fonts(tmp_path: Path) -> Iterator[None]:
    """A broken install: neither the package's fonts folder nor any font on the machine."""
    with fonts.using(fonts.FontLibrary([tmp_path / "no-fonts"])):
        yield


def test_a_missing_font_is_one_line_naming_the_fix(config_path: Path, tmp_path: Path, no_fonts: None,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    english = load_settings(config_path, data_dir=tmp_path / "d", environ={})
    check_fonts(english)  # a warning, not a stop
    said = capsys.readouterr().err.strip().splitlines()
    assert len(said) == 1 and said[0].startswith("Warning:") and "reinstall pos-referral" in said[0]
    thai = load_settings(config_path, data_dir=tmp_path / "d", environ={"POS_REFERRAL_STORE__LANGUAGE": "th"})
    with pytest.raises(click.ClickException, match="reinstall pos-referral"):
        check_fonts(thai)


def test_the_shipped_fonts_need_nothing_from_the_machine(config_path: Path, tmp_path: Path,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    thai = load_settings(config_path, data_dir=tmp_path / "d", environ={"POS_REFERRAL_STORE__LANGUAGE": "th"})
    with fonts.using(fonts.FontLibrary([fonts.SHIPPED])):
        check_fonts(thai)
    assert capsys.readouterr().err == ""


class DownThenUp:
    """A relay whose central is out of reach for ``down`` rounds, then answers."""

    def __init__(self, down: int) -> None:
        self.down = down

    def sync(self, *, max_attempts: int | None = None) -> SyncSummary:
        if self.down:
            self.down -= 1
            raise Unavailable("central unreachable: [Errno 111] Connection refused")
        return SyncSummary()


def test_central_out_of_reach_is_said_once_and_its_return_once(caplog: pytest.LogCaptureFixture) -> None:
    watch = CentralWatch(DownThenUp(down=5), "https://central.example")  # type: ignore[arg-type]
    with caplog.at_level(logging.INFO):
        for _ in range(8):
            watch()
    said = [r for r in caplog.records if r.levelno >= logging.INFO]
    assert len(said) == 2 and not any(r.exc_info for r in said)
    assert "out of reach" in said[0].getMessage() and "reachable again" in said[1].getMessage()


def _customers(store: Store) -> int:
    with UnitOfWork(store.db, write=False) as read:
        return int(read.conn.execute(sa.select(sa.func.count()).select_from(Customer)).scalar_one())


def test_demo_writes_to_its_own_folder_unless_told_to_use_the_live_one(config_path: Path, store: Store) -> None:
    live = store.settings.data_dir
    args = ["--config", str(config_path), "--data-dir", str(live), "demo", "--customers", "5", "--referrals", "3"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    assert _customers(store) == 0 and (live.parent / f"{live.name}-demo" / "pos-referral.db").exists()
    assert (live.parent / f"{live.name}-demo" / "config" / "store.toml").exists()  # the shop's config came along
    refused = CliRunner().invoke(main, [*args, "--into-live-database"], input="n\n")
    assert refused.exit_code != 0 and "made-up customers" in refused.output and _customers(store) == 0
    agreed = CliRunner().invoke(main, [*args, "--into-live-database", "--yes"])
    assert agreed.exit_code == 0, agreed.output
    assert _customers(store) > 0
