"""``service install``: the systemd unit (checked by systemd-analyze where it exists), the install plan carried
out for real into a scratch folder, and the Windows service's supervisor stopping a real ``serve``."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from click.testing import CliRunner

from pos_referral.cli import main
from pos_referral.ops import ServiceError, systemd
from pos_referral.ops.windows_service import Supervisor, WindowsSpec
from tests.server_support import free_port, make_config

HARDENING = ("NoNewPrivileges=yes", "ProtectSystem=strict", "ProtectHome=read-only", "PrivateTmp=yes",
             "RestrictSUIDSGID=yes", "CapabilityBoundingSet=", "UMask=0077")


def spec(data_dir: Path = Path("/var/lib/pos-referral"), **kw: object) -> systemd.ServiceSpec:
    return systemd.ServiceSpec(data_dir=data_dir, **kw)  # type: ignore[arg-type]


def test_the_unit_runs_serve_as_the_user_restarts_on_failure_and_is_hardened() -> None:
    text = systemd.unit_text(spec(user="shop", groups=("dialout", "lp"), log_level="warning"))
    lines = text.splitlines()
    assert "User=shop" in lines and "Group=shop" in lines and "SupplementaryGroups=dialout lp" in lines
    assert "Restart=on-failure" in lines and "KillSignal=SIGTERM" in lines and "WantedBy=multi-user.target" in lines
    assert f"ExecStart={sys.executable} -m pos_referral --data-dir /var/lib/pos-referral --log-level warning serve" \
        in lines
    assert "ReadWritePaths=/var/lib/pos-referral" in lines  # the one place it may write
    assert all(option in lines for option in HARDENING)


def test_an_absolute_log_folder_is_writable_too(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["--data-dir", str(tmp_path / "d"), "service", "install", "--print"],
                                env={"POS_REFERRAL_LOG__FILE": "/var/log/pos-referral/pos-referral.log"})
    assert result.exit_code == 0, result.output
    assert f"ReadWritePaths={(tmp_path / 'd').resolve()} -/var/log/pos-referral" in result.output.splitlines()


def test_odd_paths_are_quoted_or_refused() -> None:
    text = systemd.unit_text(spec(python="/opt/my python/bin/python3", config=Path("/etc/pos 100%/store.toml")))
    assert 'ExecStart="/opt/my python/bin/python3" -m pos_referral' in text
    assert '--config "/etc/pos 100%%/store.toml" serve' in text
    with pytest.raises(ServiceError, match="no spaces"):
        systemd.unit_text(spec(Path("/srv/my shop")))


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze is not on this machine")
def test_systemd_analyze_verify_finds_nothing_to_say(tmp_path: Path) -> None:
    unit = tmp_path / "pos-referral.service"
    unit.write_text(systemd.unit_text(spec(groups=("dialout",))), encoding="utf-8")
    done = subprocess.run(["systemd-analyze", "verify", str(unit)], capture_output=True, text=True, timeout=60)
    about_ours = [line for line in done.stderr.splitlines() if "pos-referral" in line]
    assert done.returncode == 0 and about_ours == [], done.stderr


class Answers(systemd.Machine):
    def __init__(self, users: set[str], groups: set[str]) -> None:
        super().__init__(user_exists=users.__contains__, group_exists=groups.__contains__)


def test_the_plan_creates_the_user_only_when_missing(tmp_path: Path) -> None:
    missing = systemd.install_plan(spec(), Answers(set(), {"lp"}), unit_dir=tmp_path)
    assert missing[0].argv == ("useradd", "--system", "--user-group", "--no-create-home", "--home-dir",
                               "/var/lib/pos-referral", "--shell", "/usr/sbin/nologin", "pos-referral")
    present = systemd.install_plan(spec(), Answers({"pos-referral"}, set()), unit_dir=tmp_path)
    assert [s.argv for s in present if s.argv] == [("systemctl", "daemon-reload"),
                                                   ("systemctl", "enable", "--now", "pos-referral.service")]
    assert systemd.device_groups(Answers(set(), {"lp"})) == ("lp",)


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="giving a folder to a user needs root")
def test_install_then_uninstall_for_real_into_a_scratch_unit_folder(tmp_path: Path) -> None:
    data, units = tmp_path / "data", tmp_path / "units"
    units.mkdir()
    data.mkdir()
    (data / "pos-referral.db").write_bytes(b"")
    ran: list[tuple[str, ...]] = []
    said: list[str] = []
    s = spec(data, user="nobody")
    systemd.carry_out(systemd.install_plan(s, systemd.Machine(), unit_dir=units), said.append,
                      run=lambda argv: ran.append(tuple(argv)))
    nobody = int(subprocess.run(["id", "-u", "nobody"], capture_output=True, text=True, check=True).stdout)
    assert data.stat().st_uid == nobody and (data / "pos-referral.db").stat().st_uid == nobody
    assert stat.S_IMODE(data.stat().st_mode) == 0o700
    unit = units / "pos-referral.service"
    assert unit.read_text() == systemd.unit_text(s) and stat.S_IMODE(unit.stat().st_mode) == 0o644
    assert systemd.installed_user(unit) == "nobody"
    assert ran == [("systemctl", "daemon-reload"), ("systemctl", "enable", "--now", "pos-referral.service")]
    assert said[0].startswith("- give the data folder")
    ran.clear()
    systemd.carry_out(systemd.uninstall_plan(s, unit_dir=units), said.append, run=lambda argv: ran.append(tuple(argv)))
    assert not unit.exists() and data.is_dir()  # the shop's data stays
    assert ran == [("systemctl", "disable", "--now", "pos-referral.service"), ("systemctl", "daemon-reload")]


def test_dry_run_and_print_change_nothing(tmp_path: Path) -> None:
    data = tmp_path / "shop"
    dry = CliRunner().invoke(main, ["--data-dir", str(data), "service", "install", "--dry-run", "--user", "shop"])
    assert dry.exit_code == 0, dry.output
    assert "Would:" in dry.output and "systemctl enable --now pos-referral.service" in dry.output
    assert f"ReadWritePaths={data.resolve()}" in dry.output and not data.exists()
    printed = CliRunner().invoke(main, ["service", "install", "--print", "--data-dir", str(data)])
    assert printed.exit_code == 0 and printed.output.startswith("# Written by `pos-referral service install`")
    gone = CliRunner().invoke(main, ["--data-dir", str(data), "service", "uninstall", "--dry-run"])
    assert gone.exit_code == 0 and "systemctl" not in gone.output and "kept: the data folder" in gone.output


def _healthy(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as answer:
            return bool(answer.status == 200)
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return False


@pytest.mark.slow
def test_the_windows_supervisor_stops_serve_by_closing_its_input(tmp_path: Path) -> None:
    port = free_port()
    config = make_config(tmp_path)
    s = WindowsSpec(data_dir=tmp_path / "data", config=config, python=sys.executable)
    command = [*s.serve_command()[:-2], "serve", "--port", str(port), "--stop-on-stdin-close"]
    supervisor = Supervisor(command, stop_wait=20)
    codes: list[int] = []
    thread = threading.Thread(target=lambda: codes.append(supervisor.run()))
    thread.start()
    deadline = time.monotonic() + 30
    while not _healthy(port) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _healthy(port)
    supervisor.stop()
    thread.join(30)
    assert codes == [0]
    assert "standard input closed: stopping" in (tmp_path / "data" / "pos-referral.log").read_text(encoding="utf-8")
