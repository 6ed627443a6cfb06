"""What every sub-command shares: ``Obj`` (the settings, loaded once) and ``--config``/``--data-dir``,
which may also come after a sub-command (``pos-referral serve --data-dir X``)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from pos_referral.bootstrap import Store, build_store
from pos_referral.config import ConfigError, Settings, load_settings
from pos_referral.logs import LEVELS, configure_console
from pos_referral.services.backups.upgrade import UpgradeError

OptionFactory = Callable[[], list[click.Parameter]]


class Obj:
    """Options shared by every sub-command; settings are loaded lazily, once."""

    def __init__(self, config: Path | None, data_dir: Path | None, *, log_level: str | None = None) -> None:
        self.config, self.data_dir = config, data_dir
        self.log_level = log_level  # from --log-level / -v; None: [log] level
        self._settings: Settings | None = None

    def settings(self, **overrides: Any) -> Settings:
        if self._settings is None:
            try:
                self._settings = load_settings(self.config, data_dir=self.data_dir, overrides=overrides or None)
            except ConfigError as exc:
                raise click.ClickException(f"config error: {exc}") from None
        return self._settings

    def store(self, **overrides: Any) -> Store:
        try:
            return build_store(self.settings(**overrides))
        except UpgradeError as exc:  # a failed schema upgrade: where the database is and how to go back
            raise click.ClickException(str(exc)) from None


class PassDownGroup(click.Group):
    """A group whose sub-commands, at every depth, also take the options ``pass_down()`` makes.

    Those options do not reach the command function (``expose_value=False``); their callbacks store
    the value where the group's own option would have put it."""

    def __init__(self, *args: Any, pass_down: OptionFactory, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.pass_down = pass_down

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        cmd = super().get_command(ctx, cmd_name)
        if cmd is not None:
            add_options(cmd, self.pass_down)
        return cmd


def add_options(cmd: click.Command, make: OptionFactory) -> None:
    """Add the options ``make()`` builds to ``cmd`` and its sub-commands, except those a command has."""
    taken = {opt for p in cmd.params for opt in getattr(p, "opts", [])}
    cmd.params.extend(p for p in make() if not taken & set(getattr(p, "opts", [])))
    if isinstance(cmd, click.Group):
        for sub in cmd.commands.values():
            add_options(sub, make)


def _set_shared(ctx: click.Context, param: click.Parameter, value: Path | None) -> None:
    """``--config``/``--data-dir`` given after a sub-command (``pos-referral serve --data-dir X``)."""
    if value is not None and param.name:
        setattr(ctx.ensure_object(Obj), param.name, value)


def _set_log_level(ctx: click.Context, param: click.Parameter, value: str | None) -> None:
    """``--log-level`` after a sub-command (``pos-referral serve --log-level debug``): the console now."""
    if value is not None:
        ctx.ensure_object(Obj).log_level = value.lower()
        configure_console(value.lower())


def shared_options() -> list[click.Parameter]:
    """The main group's ``--config``, ``--data-dir`` and ``--log-level``, for every sub-command
    (``PassDownGroup``)."""
    return [
        click.Option(["--log-level"], type=click.Choice(LEVELS, case_sensitive=False), expose_value=False,
                     callback=_set_log_level, help="debug, info, warning or error; same as before the sub-command."),
        click.Option(["--config"], type=click.Path(path_type=Path), expose_value=False, callback=_set_shared,
                     help="store.toml (programs/ beside it); same as before the sub-command."),
        click.Option(["--data-dir"], type=click.Path(path_type=Path), expose_value=False, callback=_set_shared,
                     help="Folder for the database, secrets and receipts; same as before the sub-command."),
    ]
