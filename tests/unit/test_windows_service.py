"""The Windows service's parts that need no Windows: command lines, the folder's ACL, and what install and
uninstall ask of the win32service API (a fake of that module records the calls)."""

from __future__ import annotations

import subprocess
from pathlib import Path, PureWindowsPath
from types import SimpleNamespace
from typing import Any

import pytest

from pos_referral.ops import ServiceError, windows_service
from pos_referral.ops.windows_service import WindowsSpec

PYTHON = r"C:\Program Files\Python312\python.exe"


class FakeWin32Service(SimpleNamespace):
    """The few ``win32service`` functions and constants install/uninstall use; every call is recorded."""

    def __init__(self, *, running: bool = True) -> None:
        names = ("SC_MANAGER_ALL_ACCESS", "SERVICE_ALL_ACCESS", "SERVICE_WIN32_OWN_PROCESS", "SERVICE_AUTO_START",
                 "SERVICE_ERROR_NORMAL", "SERVICE_CONFIG_DESCRIPTION", "SERVICE_CONFIG_FAILURE_ACTIONS",
                 "SERVICE_CONFIG_FAILURE_ACTIONS_FLAG", "SC_ACTION_RESTART", "SERVICE_STOPPED", "SERVICE_RUNNING",
                 "SERVICE_CONTROL_STOP")
        super().__init__(**{name: name for name in names})
        self.calls: list[tuple[str, tuple[Any, ...]]] = []
        self.running = running

    def _record(self, name: str, *args: Any) -> str:
        self.calls.append((name, args))
        return f"handle:{name}"

    def OpenSCManager(self, *args: Any) -> str:
        return self._record("OpenSCManager", *args)

    def CreateService(self, *args: Any) -> str:
        return self._record("CreateService", *args)

    def OpenService(self, *args: Any) -> str:
        return self._record("OpenService", *args)

    def ChangeServiceConfig2(self, *args: Any) -> None:
        self._record("ChangeServiceConfig2", *args)

    def StartService(self, *args: Any) -> None:
        self._record("StartService", *args)

    def QueryServiceStatus(self, *args: Any) -> tuple[str, str]:
        self._record("QueryServiceStatus", *args)
        return ("SERVICE_WIN32_OWN_PROCESS", "SERVICE_RUNNING" if self.running else "SERVICE_STOPPED")

    def ControlService(self, *args: Any) -> None:
        self._record("ControlService", *args)

    def DeleteService(self, *args: Any) -> None:
        self._record("DeleteService", *args)

    def CloseServiceHandle(self, *args: Any) -> None:
        self._record("CloseServiceHandle", *args)

    def names(self) -> list[str]:
        return [name for name, _ in self.calls]


def spec(tmp_path: Path, **kw: Any) -> WindowsSpec:
    return WindowsSpec(data_dir=tmp_path / "pos-referral", python=PYTHON, **kw)


def test_the_service_command_lines(tmp_path: Path) -> None:
    s = WindowsSpec(data_dir=Path(r"C:\ProgramData\pos-referral"), python=PYTHON, log_level="warning")
    assert s.host_command() == (f'"{PYTHON}" -m pos_referral.ops.windows_service --name pos-referral '
                                r"--data-dir C:\ProgramData\pos-referral --log-level warning")
    assert s.serve_command() == [PYTHON, "-m", "pos_referral", "--data-dir", r"C:\ProgramData\pos-referral",
                                 "--log-level", "warning", "serve", "--stop-on-stdin-close"]
    back = windows_service.spec_from_args(["--name", "shop2", "--data-dir", r"D:\shop data", "--config", r"D:\s.toml"])
    assert (back.name, str(PureWindowsPath(back.data_dir)), back.config) == ("shop2", r"D:\shop data",
                                                                             Path(r"D:\s.toml"))
    with pytest.raises(ServiceError):
        windows_service.spec_from_args(["--name", "x"])


def test_install_creates_an_automatic_service_that_restarts_and_starts_it(tmp_path: Path) -> None:
    api, ran, said = FakeWin32Service(), [], []
    windows_service.install(spec(tmp_path), said.append, api=api, run=ran.append)  # type: ignore[arg-type]
    assert ran == [["icacls", str(tmp_path / "pos-referral"), "/inheritance:r", "/grant:r", "*S-1-5-19:(OI)(CI)F",
                    "*S-1-5-18:(OI)(CI)F", "*S-1-5-32-544:(OI)(CI)F"]]
    assert (tmp_path / "pos-referral").is_dir()
    assert api.names() == ["OpenSCManager", "CreateService", "ChangeServiceConfig2", "ChangeServiceConfig2",
                           "ChangeServiceConfig2", "StartService", "CloseServiceHandle", "CloseServiceHandle"]
    create = dict(api.calls)["CreateService"]
    assert create[1:8] == ("pos-referral", windows_service.DISPLAY_NAME, "SERVICE_ALL_ACCESS",
                           "SERVICE_WIN32_OWN_PROCESS", "SERVICE_AUTO_START", "SERVICE_ERROR_NORMAL",
                           spec(tmp_path).host_command())
    assert create[11:] == (windows_service.LOCAL_SERVICE, None)  # the unprivileged built-in account, no password
    failure = [args for name, args in api.calls if name == "ChangeServiceConfig2"][1]
    assert failure[1] == "SERVICE_CONFIG_FAILURE_ACTIONS"
    assert failure[2]["Actions"] == [("SC_ACTION_RESTART", 5000), ("SC_ACTION_RESTART", 5000),
                                     ("SC_ACTION_RESTART", 60000)]
    assert [args for name, args in api.calls if name == "ChangeServiceConfig2"][2][1:] == (
        "SERVICE_CONFIG_FAILURE_ACTIONS_FLAG", True)  # an error exit of serve restarts it too, not only a crash
    assert any("restart after 5 s, 5 s, 60 s" in line for line in said)


def test_install_as_another_account_grants_that_account_the_folder(tmp_path: Path) -> None:
    api, ran = FakeWin32Service(), []
    windows_service.install(spec(tmp_path, user=r".\posref", password="pw"), lambda _: None, api=api,
                            run=ran.append)  # type: ignore[arg-type]
    assert r".\posref:(OI)(CI)F" in ran[0]
    assert dict(api.calls)["CreateService"][11:] == (r".\posref", "pw")


@pytest.mark.parametrize("running", [True, False])
def test_uninstall_stops_a_running_service_then_deletes_it(tmp_path: Path, running: bool) -> None:
    api, said = FakeWin32Service(running=running), []
    windows_service.uninstall(spec(tmp_path), said.append, api=api)  # type: ignore[arg-type]
    stop = ["ControlService"] if running else []
    assert api.names() == ["OpenSCManager", "OpenService", "QueryServiceStatus", *stop, "DeleteService",
                           "CloseServiceHandle", "CloseServiceHandle"]
    assert said[-1].startswith("- kept: the data folder")


def test_without_pywin32_install_says_what_to_install(tmp_path: Path) -> None:
    with pytest.raises(ServiceError, match="pip install pywin32"):
        windows_service.install(spec(tmp_path), lambda _: None, run=lambda _: None)


def test_the_supervisor_kills_a_child_that_does_not_stop_in_time() -> None:
    supervisor = windows_service.Supervisor(["sleep", "30"], stop_wait=0.2)
    supervisor.child = subprocess.Popen(["sleep", "30"], stdin=subprocess.PIPE)
    supervisor.stop()
    assert supervisor.child.wait(5) != 0 and supervisor.stopping.is_set()
