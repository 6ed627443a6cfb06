"""Promotion commands: ``signage`` (PDF), ``printer sign`` / ``printer staff-guide``, ``mail send``.

``sign`` and ``staff-guide`` join the ``printer`` group of cli/printer.py (cli/__init__.py adds them).
"""

from __future__ import annotations

from pathlib import Path

import click

from pos_referral.cli.options import Obj
from pos_referral.services import messages
from pos_referral.services.mail.worker import MailWorker
from pos_referral.services.promo import signage
from pos_referral.services.promo.printed_signs import queue_sign, queue_staff_guide


@click.command("signage")
@click.option("--size", type=click.Choice(list(signage.SIZES)), default="A4", show_default=True)
@click.option("--out", "out", type=click.Path(path_type=Path, dir_okay=False), required=True, help="FILE.pdf")
@click.option("--lang", type=click.Choice(messages.LANGUAGES), default=None, help="Default: [store] language.")
@click.option("--program", "program_id", default=None, help="Program id (default: the default program).")
@click.option("--base-url", default="", help="Public address phones can reach (default: [store] public_base_url).")
@click.option("--font", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="A TrueType font with the language's letters (default: found on this machine).")
@click.pass_obj
def signage_command(obj: Obj, size: str, out: Path, lang: str | None, program_id: str | None, base_url: str,
                    font: Path | None) -> None:
    """Write a print-ready PDF sign: the offer, how it works in three steps, a QR to the join page."""
    settings = obj.settings()
    program = settings.program(program_id) if program_id else settings.default_program
    if program is None:
        raise click.ClickException(f"no program {program_id!r}")
    try:
        url = signage.join_url(settings, program, base_url)
        pdf = signage.sign_pdf(settings, program, size=size, lang=lang or settings.config.store.language, url=url,
                               font=font)
    except (signage.SignageError, messages.MessageError) as exc:
        raise click.ClickException(str(exc)) from None
    out.write_bytes(pdf)
    click.echo(f"{out}: {size} sign, QR to {url}")


@click.command("sign")
@click.option("--lang", type=click.Choice(messages.LANGUAGES), default=None)
@click.option("--base-url", default="", help="Public address phones can reach (default: [store] public_base_url).")
@click.pass_obj
def printer_sign(obj: Obj, lang: str | None, base_url: str) -> None:
    """Print the counter sign on the receipt printer (through the print queue)."""
    store = obj.store()
    try:
        job = queue_sign(store.ctx, base_url=base_url, lang=lang)
    except (signage.SignageError, messages.MessageError) as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        store.close()
    click.echo(f"sign queued as print job {job}" if job else "no receipt printer configured ([printer] type)")


@click.command("staff-guide")
@click.pass_obj
def printer_staff_guide(obj: Obj) -> None:
    """Print the one-page staff guide (with demo codes for practice)."""
    store = obj.store()
    try:
        job = queue_staff_guide(store.ctx)
    finally:
        store.close()
    click.echo(f"staff guide queued as print job {job}" if job else "no receipt printer configured ([printer] type)")


@click.group("mail")
def mail() -> None:
    """Invitations and status mails."""


@mail.command("send")
@click.pass_obj
def mail_send(obj: Obj) -> None:
    """Plan status mails and send what is due now (``serve`` does this every 30 seconds)."""
    store = obj.store()
    try:
        if not store.settings.config.mail.enabled:
            raise click.ClickException("mail is off: set [mail] enabled = true, host and sender in store.toml")
        summary = MailWorker.from_settings(store.ctx).run_once()
    finally:
        store.close()
    click.echo(f"sent {summary.sent}, retrying {summary.retrying}, failed {summary.failed}, "
               f"cancelled {summary.cancelled}")
