"""``pos-referral service install`` on Windows: a Windows service that keeps ``serve`` running.

The service process is a small supervisor hosted by pywin32's ``servicemanager``
(``python -m pos_referral.ops.windows_service --data-dir ...`` is what the Service Control Manager
starts). It runs ``serve`` as a child process with a pipe on its standard input and stops it by
closing that pipe: ``serve --stop-on-stdin-close`` then stops exactly as on Ctrl+C (waitress finishes
the requests in hand, the print worker its job). A console control event cannot be used, as a
service has no console to send it through. When ``serve`` ends by itself with an error, the service
process ends without reporting "stopped", which the Service Control Manager counts as a failure: the
recovery actions set at install restart it (after 5 s, 5 s, then 60 s).

It runs as ``NT AUTHORITY\\LocalService`` unless ``--user`` names another account, and the data
folder's ACL is cut down to that account, SYSTEM and Administrators (``icacls``; SIDs, so it works on
every Windows language).

Every win32 module is imported inside a function: this module imports on Linux, where its tests run
against a fake of the ``win32service`` module.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from pos_referral.ops import ServiceError

SERVICE_NAME = "pos-referral"
DISPLAY_NAME = "pos-referral (shop referral service)"
DESCRIPTION = "The shop's referral program: till API, receipts, landing pages. Data in {data_dir}."
LOCAL_SERVICE = "NT AUTHORITY\\LocalService"
LOCAL_SERVICE_SID = "*S-1-5-19"
STOP_WAIT_SECONDS = 30
RESTART_DELAYS_MS = (5_000, 5_000, 60_000)


@dataclass(frozen=True)
class WindowsSpec:
    data_dir: Path
    user: str = LOCAL_SERVICE
    password: str | None = None  # for an account other than LocalService
    name: str = SERVICE_NAME
    config: Path | None = None
    python: str = sys.executable
    log_level: str | None = None

    def shared_args(self) -> list[str]:
        args = ["--data-dir", str(self.data_dir)]
        if self.config is not None:
            args += ["--config", str(self.config)]
        if self.log_level:
            args += ["--log-level", self.log_level]
        return args

    def serve_command(self) -> list[str]:
        """What the supervisor runs: ``serve``, stopped by closing its standard input."""
        return [self.python, "-m", "pos_referral", *self.shared_args(), "serve", "--stop-on-stdin-close"]

    def host_command(self) -> str:
        """The service's binary path as the Service Control Manager stores it (one quoted command line)."""
        return subprocess.list2cmdline([self.python, "-m", "pos_referral.ops.windows_service", "--name", self.name,
                                        *self.shared_args()])

    def account_sid(self) -> str:
        return LOCAL_SERVICE_SID if self.user == LOCAL_SERVICE else self.user


def acl_command(spec: WindowsSpec) -> list[str]:
    """The data folder for the service's account, SYSTEM and Administrators only (inherited by what is inside)."""
    return ["icacls", str(spec.data_dir), "/inheritance:r", "/grant:r", f"{spec.account_sid()}:(OI)(CI)F",
            "*S-1-5-18:(OI)(CI)F", "*S-1-5-32-544:(OI)(CI)F"]


def _win32service() -> ModuleType:
    try:
        import win32service  # type: ignore[import-not-found,unused-ignore]  # pywin32, Windows only
    except ImportError:
        raise ServiceError("the Windows service needs pywin32: pip install pywin32") from None
    module: ModuleType = win32service
    return module


def install(spec: WindowsSpec, say: Callable[[str], None], *, api: ModuleType | None = None,
            run: Callable[[Sequence[str]], object] = lambda argv: subprocess.run(argv, check=True)) -> None:
    """Create the service (automatic start, recovery: restart), set the folder's ACL, and start it."""
    ws = api or _win32service()
    say(f"- data folder {spec.data_dir}: only {spec.user}, SYSTEM and Administrators")
    spec.data_dir.mkdir(parents=True, exist_ok=True)
    run(acl_command(spec))
    say(f"- create the service {spec.name} running as {spec.user}: {spec.host_command()}")
    scm = ws.OpenSCManager(None, None, ws.SC_MANAGER_ALL_ACCESS)
    try:
        handle = ws.CreateService(scm, spec.name, DISPLAY_NAME, ws.SERVICE_ALL_ACCESS, ws.SERVICE_WIN32_OWN_PROCESS,
                                  ws.SERVICE_AUTO_START, ws.SERVICE_ERROR_NORMAL, spec.host_command(), None, 0,
                                  None, spec.user, spec.password)
        try:
            ws.ChangeServiceConfig2(handle, ws.SERVICE_CONFIG_DESCRIPTION,
                                    DESCRIPTION.format(data_dir=spec.data_dir))
            actions = [(ws.SC_ACTION_RESTART, delay) for delay in RESTART_DELAYS_MS]
            ws.ChangeServiceConfig2(handle, ws.SERVICE_CONFIG_FAILURE_ACTIONS,
                                    {"ResetPeriod": 86_400, "RebootMsg": None, "Command": None, "Actions": actions})
            ws.ChangeServiceConfig2(handle, ws.SERVICE_CONFIG_FAILURE_ACTIONS_FLAG, True)  # an error exit counts too
            say(f"- on failure: restart after {', '.join(f'{d // 1000} s' for d in RESTART_DELAYS_MS)}")
            say(f"- start {spec.name}")
            ws.StartService(handle, None)
        finally:
            ws.CloseServiceHandle(handle)
    finally:
        ws.CloseServiceHandle(scm)


def uninstall(spec: WindowsSpec, say: Callable[[str], None], *, api: ModuleType | None = None) -> None:
    """Stop the service (``serve`` stops cleanly) and delete it; the data folder stays."""
    ws = api or _win32service()
    scm = ws.OpenSCManager(None, None, ws.SC_MANAGER_ALL_ACCESS)
    try:
        handle = ws.OpenService(scm, spec.name, ws.SERVICE_ALL_ACCESS)
        try:
            status = ws.QueryServiceStatus(handle)
            if status[1] != ws.SERVICE_STOPPED:
                say(f"- stop {spec.name}")
                ws.ControlService(handle, ws.SERVICE_CONTROL_STOP)
            say(f"- delete the service {spec.name}")
            ws.DeleteService(handle)
        finally:
            ws.CloseServiceHandle(handle)
    finally:
        ws.CloseServiceHandle(scm)
    say(f"- kept: the data folder {spec.data_dir}")


class Supervisor:
    """Runs ``serve`` as a child and stops it by closing its standard input (the service's body)."""

    def __init__(self, command: Sequence[str], *, stop_wait: float = STOP_WAIT_SECONDS,
                 popen: Callable[..., subprocess.Popen[bytes]] = subprocess.Popen) -> None:
        self.command, self.stop_wait, self._popen = list(command), stop_wait, popen
        self.child: subprocess.Popen[bytes] | None = None
        self.stopping = threading.Event()

    def run(self) -> int:
        """Start ``serve`` and wait for it; its exit code (0 after ``stop``)."""
        flags = getattr(subprocess, "CREATE_NO_WINDOW", 0)
        self.child = self._popen(self.command, stdin=subprocess.PIPE, creationflags=flags)
        return self.child.wait()

    def stop(self) -> None:
        """Close ``serve``'s standard input; kill it only if it has not stopped within ``stop_wait`` seconds."""
        self.stopping.set()
        child = self.child
        if child is None or child.poll() is not None:
            return
        if child.stdin is not None:
            child.stdin.close()
        try:
            child.wait(self.stop_wait)
        except subprocess.TimeoutExpired:
            child.kill()


def _service_class(spec: WindowsSpec) -> type:
    """The pywin32 service class, made on first use (its base class exists only on Windows)."""
    import servicemanager  # type: ignore[import-not-found,unused-ignore]
    import win32service  # type: ignore[import-not-found,unused-ignore]
    import win32serviceutil  # type: ignore[import-not-found,unused-ignore]

    class PosReferralService(win32serviceutil.ServiceFramework):  # type: ignore[misc,unused-ignore]
        _svc_name_ = spec.name
        _svc_display_name_ = DISPLAY_NAME

        def __init__(self, args: Any) -> None:
            super().__init__(args)
            self.supervisor = Supervisor(spec.serve_command())

        def SvcStop(self) -> None:
            self.ReportServiceStatus(win32service.SERVICE_STOP_PENDING, waitHint=STOP_WAIT_SECONDS * 1000)
            self.supervisor.stop()

        def SvcDoRun(self) -> None:
            servicemanager.LogInfoMsg(f"{spec.name}: starting serve for {spec.data_dir}")
            code = self.supervisor.run()
            if code != 0 and not self.supervisor.stopping.is_set():
                servicemanager.LogErrorMsg(f"{spec.name}: serve ended with exit code {code}")
                os._exit(code)  # end without reporting "stopped": the SCM sees a failure and its recovery restarts us

    return PosReferralService


def spec_from_args(argv: Sequence[str]) -> WindowsSpec:
    """The host's command line (``host_command``) back into a spec."""
    args = list(argv)
    values: dict[str, str] = {}
    while args:
        key = args.pop(0)
        if key in ("--name", "--data-dir", "--config", "--log-level") and args:
            values[key] = args.pop(0)
    if "--data-dir" not in values:
        raise ServiceError("--data-dir is required")
    return WindowsSpec(data_dir=Path(values["--data-dir"]), name=values.get("--name", SERVICE_NAME),
                       config=Path(values["--config"]) if "--config" in values else None,
                       log_level=values.get("--log-level"))


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point of the service process (started by the Service Control Manager)."""
    import servicemanager  # type: ignore[import-not-found,unused-ignore]

    spec = spec_from_args(sys.argv[1:] if argv is None else argv)
    servicemanager.Initialize()
    servicemanager.PrepareToHostSingle(_service_class(spec))
    servicemanager.StartServiceCtrlDispatcher()


if __name__ == "__main__":
    main()
