"""``pos-referral service install|uninstall``: run ``serve`` as a system service (systemd, or a Windows service)."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import click

from pos_referral.cli.options import Obj
from pos_referral.ops import ServiceError, systemd, windows_service


def _data_dir(obj: Obj) -> Path:
    """The data folder the service will use, as an absolute path (a service has no working folder of ours)."""
    return (obj.data_dir or obj.settings().data_dir).resolve()


def _config(obj: Obj) -> Path | None:
    return obj.config.resolve() if obj.config is not None else None


def _writable(obj: Obj, data_dir: Path) -> tuple[Path, ...]:
    """Folders outside the data folder that the configuration has the service write to."""
    config = obj.settings().config
    wanted = [Path(config.log.file).parent if config.log.file else None,
              Path(config.printer.folder) if config.printer.type == "preview" else None]
    return tuple(dict.fromkeys(path for path in wanted
                               if path is not None and path.is_absolute() and not path.is_relative_to(data_dir)))


def _linux_spec(obj: Obj, user: str, name: str) -> systemd.ServiceSpec:
    groups = systemd.device_groups(systemd.Machine())
    data_dir = _data_dir(obj)
    return systemd.ServiceSpec(data_dir=data_dir, user=user, name=name, config=_config(obj), groups=groups,
                               log_level=obj.log_level, writable=_writable(obj, data_dir))


def _windows_spec(obj: Obj, user: str | None, password: str | None, name: str) -> windows_service.WindowsSpec:
    return windows_service.WindowsSpec(data_dir=_data_dir(obj), user=user or windows_service.LOCAL_SERVICE,
                                       password=password, name=name, config=_config(obj), log_level=obj.log_level)


def _need_root() -> None:
    if hasattr(os, "geteuid") and os.geteuid() != 0:
        raise click.ClickException("installing a service needs root: run it with sudo (or see it first with --dry-run)")
    if shutil.which("systemctl") is None:
        raise click.ClickException("no systemd on this machine: `service install --print` shows the unit to adapt")


@click.group()
def service() -> None:
    """Run ``serve`` as a system service that starts at boot and restarts after a failure."""


@service.command("install")
@click.option("--user", default=None,
              help="Account the service runs as. Linux: a system user, created when missing (default pos-referral). "
                   "Windows: default NT AUTHORITY\\LocalService.")
@click.option("--password", default=None, help="Windows only: the password of --user when it is a real account.")
@click.option("--name", default="pos-referral", show_default=True, help="The service's name.")
@click.option("--dry-run", is_flag=True, help="Say what install would do, and show the unit, without doing it.")
@click.option("--print", "print_only", is_flag=True, help="Print the systemd unit only.")
@click.pass_obj
def service_install(obj: Obj, user: str | None, password: str | None, name: str, dry_run: bool,
                    print_only: bool) -> None:
    """Install and start the service; the data folder is given to the service's account."""
    try:
        if sys.platform == "win32" and not print_only:
            spec = _windows_spec(obj, user, password, name)
            if dry_run:
                click.echo(f"Would create the Windows service {spec.name} running as {spec.user}:")
                click.echo(f"  {spec.host_command()}")
                click.echo(f"  data folder ACL: {' '.join(windows_service.acl_command(spec))}")
                return
            windows_service.install(spec, click.echo)
            click.echo(f"Installed. Stop and start it in Services (services.msc), or: sc stop {spec.name}")
            return
        linux = _linux_spec(obj, user or "pos-referral", name)
        if print_only:
            click.echo(systemd.unit_text(linux), nl=False)
            return
        steps = systemd.install_plan(linux, systemd.Machine())
        if dry_run:
            click.echo("Would:")
            for step in steps:
                click.echo(f"- {step.says}" + (f": {' '.join(step.argv)}" if step.argv else ""))
            click.echo(f"\n{linux.unit_name}:\n{systemd.unit_text(linux)}", nl=False)
            return
        _need_root()
        systemd.carry_out(steps, click.echo)
    except ServiceError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"Installed. Status: systemctl status {linux.unit_name}; log: journalctl -u {linux.unit_name} "
               f"and the log file in {linux.data_dir}")


@service.command("uninstall")
@click.option("--name", default="pos-referral", show_default=True, help="The service's name.")
@click.option("--dry-run", is_flag=True, help="Say what uninstall would do without doing it.")
@click.pass_obj
def service_uninstall(obj: Obj, name: str, dry_run: bool) -> None:
    """Stop and remove the service; the data folder and the user stay."""
    try:
        if sys.platform == "win32":
            spec = _windows_spec(obj, None, None, name)
            if dry_run:
                click.echo(f"Would stop and delete the Windows service {spec.name}; the data folder stays.")
                return
            windows_service.uninstall(spec, click.echo)
            return
        user = systemd.installed_user(systemd.UNIT_DIR / f"{name}.service") or "pos-referral"
        linux = systemd.ServiceSpec(data_dir=_data_dir(obj), name=name, user=user)
        steps = systemd.uninstall_plan(linux)
        if dry_run:
            click.echo("Would:")
            for step in steps:
                click.echo(f"- {step.says}")
            return
        _need_root()
        systemd.carry_out(steps, click.echo)
    except ServiceError as exc:
        raise click.ClickException(str(exc)) from None
