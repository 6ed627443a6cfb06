"""Group options that may also come after a sub-command (``pos-referral serve --data-dir X``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

OptionFactory = Callable[[], list[click.Parameter]]


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
