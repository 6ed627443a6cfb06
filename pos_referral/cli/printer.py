"""Printer commands: ``printer test``, ``printer status`` and ``receipt preview TEMPLATE``.

The promotion prints (cli/promo.py) join the same ``printer`` group.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import cast
from zoneinfo import ZoneInfo

import click

from pos_referral.cli.options import Obj
from pos_referral.config import Settings
from pos_referral.printing.escpos_renderer import RendererConfig
from pos_referral.printing.markup import TemplateError, validate_all_templates
from pos_referral.printing.previews import sample_context
from pos_referral.printing.printers import PreviewSink, make_printer
from pos_referral.printing.profiles import UnknownProfileError, pinned_code_page
from pos_referral.printing.render import Format, render, render_job
from pos_referral.printing.status import PrinterError
from pos_referral.services import print_jobs

SUFFIXES = {"png": "png", "text": "txt", "escpos": "bin"}
printer = click.Group("printer", help="The receipt printer: test page, status.")
receipt = click.Group("receipt", help="Receipt templates.")


def _test_context(settings: Settings, config: RendererConfig) -> dict[str, object]:
    return {"store_name": settings.config.store.name, "profile": config.profile, "paper_mm": config.paper_mm,
            "code_page": pinned_code_page(config.info, config.language or "en").name, "lang": config.language,
            "printed_at": datetime.now(ZoneInfo(settings.config.store.timezone)).strftime("%Y-%m-%d %H:%M")}


@printer.command("test")
@click.option("--queue", "through_queue", is_flag=True,
              help="Queue the page for the running service's print worker instead of printing now.")
@click.pass_obj
def printer_test(obj: Obj, through_queue: bool) -> None:
    """Print the test page: every element once (code page letters, columns, sizes, barcode, QR, cut)."""
    settings = obj.settings()
    section = settings.config.printer
    if section.type == "none":
        raise click.ClickException("no receipt printer configured ([printer] type = none)")
    config = RendererConfig.from_section(section, settings.config.store.language)
    if through_queue:
        store = obj.store()
        try:
            job_id = print_jobs.queue(store.ctx, "test_page", _test_context(settings, config))
        finally:
            store.close()
        click.echo(f"test page queued as print job {job_id}")
        return
    try:
        said = print_test_page(settings)
    except (PrinterError, OSError) as exc:
        raise click.ClickException(f"test page not printed: {exc}") from None
    click.echo(said)


def print_test_page(settings: Settings) -> str:
    """Print the test page on the configured printer now; what happened, in one line (also ``init``)."""
    section = settings.config.printer
    config = RendererConfig.from_section(section, settings.config.store.language)
    device = make_printer(section, settings.data_dir)
    try:
        rendered = render_job("test_page", _test_context(settings, config), config,
                              preview=isinstance(device, PreviewSink))
        if isinstance(device, PreviewSink):
            device.save_preview("test_page", rendered.text, rendered.png)
        device.send(rendered.escpos)
        status = device.status()
    finally:
        device.close()
    return (f"test page sent: {len(rendered.escpos)} bytes, {config.profile} {config.paper_mm} mm, "
            f"printer: {status.summary()}")


@printer.command("status")
@click.pass_obj
def printer_status(obj: Obj) -> None:
    """Ask the printer how it is (online, paper, cover) where it answers."""
    settings = obj.settings()
    device = make_printer(settings.config.printer, settings.data_dir)
    try:
        status = device.status()
    finally:
        device.close()
    click.echo(status.summary())
    if not status.ready:
        raise SystemExit(1)


@receipt.command("preview")
@click.argument("template")
@click.option("--out", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="Where to write it (default: TEMPLATE.png, .txt or .bin in this folder).")
@click.option("--format", "fmt", type=click.Choice(list(SUFFIXES)), default="png", show_default=True)
@click.option("--lang", default=None, help="Language (default: [printer] language, else [store] language).")
@click.option("--profile", default=None, help="Printer profile (default: [printer] profile).")
@click.option("--paper", type=click.Choice(["58", "80"]), default=None, help="Paper width in mm.")
@click.pass_obj
def receipt_preview(obj: Obj, template: str, out: Path | None, fmt: str, lang: str | None, profile: str | None,
                    paper: str | None) -> None:
    """Render TEMPLATE (e.g. referral_footer) with sample values, as the paper would look."""
    settings = obj.settings()
    section = settings.config.printer
    try:
        names = validate_all_templates()
    except TemplateError as exc:
        raise click.ClickException(str(exc)) from None
    if template not in names:
        raise click.ClickException(f"no template {template!r}; templates: {', '.join(names)}")
    config = RendererConfig(profile=profile or section.profile, paper_mm=int(paper or section.paper_mm),
                            language=lang or section.language or settings.config.store.language)
    context = {**sample_context(template), "lang": config.language}
    try:
        data = render(template, context, config, cast(Format, fmt))
    except UnknownProfileError as exc:
        raise click.ClickException(str(exc)) from None
    target = out or Path(f"{template}.{SUFFIXES[fmt]}")
    target.write_bytes(data)
    click.echo(f"{target}: {template}, {config.profile} {config.paper_mm} mm, {config.language}, {len(data)} bytes")
