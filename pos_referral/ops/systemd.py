"""``pos-referral service install`` on Linux: a systemd unit that runs ``serve`` as an unprivileged user.

The plan is data (``Step``s) before it is action, so ``--dry-run`` shows exactly what ``install`` does and
tests check it without root. The user is a system account with no shell and no login, owning the data
folder (0700) and nothing else; the unit keeps the rest of the file system read-only to it
(``ProtectSystem=strict`` with the data folder as the one ``ReadWritePaths``), gives it no new
privileges, and restarts it when it fails. The serial scanner and USB/serial printers need the
``dialout`` / ``lp`` groups, which are added when this machine has them.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from pos_referral.ops import ServiceError

UNIT_DIR = Path("/etc/systemd/system")
DEVICE_GROUPS = ("dialout", "lp")  # serial ports; USB and parallel printers


@dataclass(frozen=True)
class ServiceSpec:
    """What the service runs, as whom, where."""

    data_dir: Path
    user: str = "pos-referral"
    name: str = "pos-referral"
    config: Path | None = None
    python: str = sys.executable
    groups: tuple[str, ...] = ()  # supplementary groups (devices)
    log_level: str | None = None
    writable: tuple[Path, ...] = ()  # folders outside the data folder the service writes (an absolute [log] file's)

    @property
    def unit_name(self) -> str:
        return f"{self.name}.service"

    def command(self) -> list[str]:
        """The ``serve`` command line the unit runs."""
        argv = [self.python, "-m", "pos_referral", "--data-dir", str(self.data_dir)]
        if self.config is not None:
            argv += ["--config", str(self.config)]
        if self.log_level:
            argv += ["--log-level", self.log_level]
        return [*argv, "serve"]


def _quote(arg: str) -> str:
    """One ExecStart word: ``%`` doubled (systemd specifiers), quoted when it holds a space, quote or backslash."""
    arg = arg.replace("%", "%%")
    if any(ch in arg for ch in ' \t"\'\\;$'):
        return '"' + arg.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return arg


def _path(path: Path) -> str:
    """A path in a setting that takes paths: no quoting there, so refuse the characters that would need it."""
    text = str(path)
    if any(ch.isspace() for ch in text) or '"' in text:
        raise ServiceError(f"{text}: choose a data folder whose path has no spaces or quotes")
    return text.replace("%", "%%")


def unit_text(spec: ServiceSpec) -> str:
    """The unit file: restarted on failure, stopped with SIGTERM (``serve`` stops cleanly), hardened."""
    data = _path(spec.data_dir)
    groups = f"SupplementaryGroups={' '.join(spec.groups)}\n" if spec.groups else ""
    # a private /tmp would hide a data folder kept under /tmp (a trial install)
    private_tmp = "" if spec.data_dir.is_relative_to("/tmp") or spec.data_dir.is_relative_to("/var/tmp") \
        else "PrivateTmp=yes\n"
    return f"""\
# Written by `pos-referral service install`; `pos-referral service uninstall` removes it.
[Unit]
Description=pos-referral: the shop's referral service
After=network-online.target
Wants=network-online.target

[Service]
Type=simple
User={spec.user}
Group={spec.user}
{groups}WorkingDirectory={data}
ExecStart={' '.join(_quote(arg) for arg in spec.command())}
Environment=PYTHONUNBUFFERED=1
Restart=on-failure
RestartSec=5
KillSignal=SIGTERM
TimeoutStopSec=30
UMask=0077
NoNewPrivileges=yes
ProtectSystem=strict
ReadWritePaths={' '.join([data, *('-' + _path(p) for p in spec.writable)])}
ProtectHome=read-only
{private_tmp}ProtectKernelTunables=yes
ProtectKernelModules=yes
ProtectKernelLogs=yes
ProtectControlGroups=yes
ProtectClock=yes
ProtectHostname=yes
RestrictSUIDSGID=yes
RestrictRealtime=yes
RestrictNamespaces=yes
LockPersonality=yes
SystemCallArchitectures=native
CapabilityBoundingSet=

[Install]
WantedBy=multi-user.target
"""


@dataclass(frozen=True)
class Step:
    """One thing ``install`` or ``uninstall`` does, said as the shop's administrator would read it."""

    says: str
    argv: tuple[str, ...] = ()  # a command to run
    write: tuple[Path, str] | None = None  # a file to write (the unit)
    remove: Path | None = None
    own: tuple[Path, str] | None = None  # a folder to create 0700 and give to the user, with all in it


@dataclass
class Machine:
    """What the plan asks of this machine (tests pass their own answers)."""

    user_exists: Callable[[str], bool] = field(default=lambda name: _exists("pwd", name))
    group_exists: Callable[[str], bool] = field(default=lambda name: _exists("grp", name))


def _exists(database: str, name: str) -> bool:
    import grp  # Unix only: imported here so Windows can import this module (``--print`` works there)
    import pwd

    try:
        (pwd.getpwnam if database == "pwd" else grp.getgrnam)(name)
    except KeyError:
        return False
    return True


def device_groups(machine: Machine) -> tuple[str, ...]:
    return tuple(group for group in DEVICE_GROUPS if machine.group_exists(group))


def install_plan(spec: ServiceSpec, machine: Machine, unit_dir: Path = UNIT_DIR) -> list[Step]:
    steps: list[Step] = []
    if not machine.user_exists(spec.user):
        steps.append(Step(f"create the system user {spec.user} (no login, no shell)",
                          argv=("useradd", "--system", "--user-group", "--no-create-home", "--home-dir",
                                str(spec.data_dir), "--shell", "/usr/sbin/nologin", spec.user)))
    steps.append(Step(f"give the data folder {spec.data_dir} to {spec.user} (0700)", own=(spec.data_dir, spec.user)))
    if spec.config is not None and not spec.config.resolve().is_relative_to(spec.data_dir.resolve()):
        steps.append(Step(f"note: {spec.config} must stay readable by {spec.user}"))
    steps += [Step(f"note: {folder} must be writable by {spec.user}") for folder in spec.writable]
    unit = unit_dir / spec.unit_name
    steps.append(Step(f"write {unit}", write=(unit, unit_text(spec))))
    steps.append(Step("reload systemd", argv=("systemctl", "daemon-reload")))
    steps.append(Step(f"start {spec.unit_name} now and at every boot",
                      argv=("systemctl", "enable", "--now", spec.unit_name)))
    return steps


def installed_user(unit: Path) -> str | None:
    """The ``User=`` of an installed unit (uninstall names the account it leaves behind)."""
    try:
        lines = unit.read_text(encoding="utf-8").splitlines()
    except OSError:
        return None
    return next((line.split("=", 1)[1].strip() for line in lines if line.startswith("User=")), None)


def uninstall_plan(spec: ServiceSpec, unit_dir: Path = UNIT_DIR) -> list[Step]:
    unit = unit_dir / spec.unit_name
    return [Step(f"stop {spec.unit_name} and take it off the boot", argv=("systemctl", "disable", "--now",
                                                                          spec.unit_name)),
            Step(f"remove {unit}", remove=unit),
            Step("reload systemd", argv=("systemctl", "daemon-reload")),
            Step(f"kept: the data folder {spec.data_dir} and the user {spec.user} "
                 f"(remove them yourself: userdel {spec.user})")]


def give_folder(folder: Path, user: str) -> None:
    """Create ``folder`` 0700 and make ``user`` own it and everything in it."""
    import pwd

    account = pwd.getpwnam(user)
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    folder.chmod(0o700)
    for root, dirs, files in os.walk(folder):
        os.chown(root, account.pw_uid, account.pw_gid)
        for name in [*dirs, *files]:
            os.chown(os.path.join(root, name), account.pw_uid, account.pw_gid, follow_symlinks=False)


def carry_out(steps: Sequence[Step], say: Callable[[str], None],
              run: Callable[[Sequence[str]], object] = lambda argv: subprocess.run(argv, check=True)) -> None:
    """Do each step, saying it first; a failing command stops with what failed."""
    for step in steps:
        say(f"- {step.says}")
        if step.argv:
            try:
                run(step.argv)
            except (subprocess.CalledProcessError, OSError) as exc:
                raise ServiceError(f"{' '.join(step.argv)} failed: {exc}") from None
        if step.own is not None:
            give_folder(*step.own)
        if step.write is not None:
            path, text = step.write
            path.write_text(text, encoding="utf-8")
            path.chmod(0o644)
        if step.remove is not None:
            path = step.remove
            path.unlink(missing_ok=True)
