"""``pos-referral proxy``: the receipt print proxy alone, in the foreground (``serve`` runs it too when
``[proxy] enabled``), to try pointing the POS at this machine before switching the service over."""

from __future__ import annotations

import threading

import click

from pos_referral.bootstrap import footer_source
from pos_referral.cli.options import Obj
from pos_referral.cli.serving import check_port_free, describe_printer, port_error
from pos_referral.printing.printers import make_printer
from pos_referral.proxy.build import build_proxy, check_proxy_printer
from pos_referral.proxy.footer import FooterSource
from pos_referral.proxy.footers import FixedFooter
from pos_referral.proxy.server import parse_listen
from pos_referral.services.proxy_offers.footer import ProxyFooter


@click.command("proxy")
@click.option("--listen", default=None,
              help='host:port the POS prints to (default from [proxy] listen, "0.0.0.0:9100").')
@click.option("--footer", "footer_text", default=None,
              help="Print this line before every cut instead of the referral footer (to see where it lands).")
@click.pass_obj
def proxy(obj: Obj, listen: str | None, footer_text: str | None) -> None:
    """Run the print proxy: POS -> this machine -> [printer], the footer added before each cut."""
    settings = obj.settings(proxy={"listen": listen}) if listen else obj.settings()
    config = settings.config
    printer = make_printer(config.printer, settings.data_dir)
    try:
        check_proxy_printer(config, printer)
        host, port = parse_listen(config.proxy.listen)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    check_port_free(host, port)
    store = None
    referral: ProxyFooter | None = None
    if footer_text is not None:
        source: FooterSource = FixedFooter(footer_text.encode("ascii", "replace") + b"\n")
    else:
        store = obj.store()  # the referral side reads and records through the store
        source = referral = footer_source(store.ctx)
        referral.warm_up()
    server = build_proxy(config, printer, source)
    try:
        server.start()
    except OSError as exc:  # taken between the check and here
        raise port_error(exc, host, port) from None
    click.echo(f"Print proxy on {host}:{server.address[1]} -> {describe_printer(config.printer, settings.data_dir)}")
    click.echo("Point the POS's receipt printer at this machine's address, port "
               f"{server.address[1]} (raw TCP). Ctrl-C stops.")
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
        if referral is not None:
            referral.close()  # the sales it saw, recorded
        if store is not None:
            store.close()
