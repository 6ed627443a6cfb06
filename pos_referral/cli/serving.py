"""What ``serve`` and ``central serve`` both do to waitress before it starts."""

from __future__ import annotations

import logging

import click

from pos_referral.config import Settings


def quiet_queue_warnings() -> None:
    """Silence waitress's "Task queue depth is N" warning, logged on every request that finds all
    threads busy: at a till a burst of requests queued for a millisecond is normal, and formatting
    and writing that line per request cost ~5% of a quote under load (the bench baseline is quiet too)."""
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)


def say_where_links_point(settings: Settings) -> None:
    """Said once at start-up (not per mail or per receipt): where printed QR codes and mails lead,
    when ``[store] public_base_url`` is empty and phones may not reach that address."""
    warning = settings.public_base_warning()
    if warning:
        click.echo(f"Warning: {warning}", err=True)
