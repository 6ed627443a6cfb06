"""The proxy from config: listen address, the printer it forwards to, the profile's code pages."""

from __future__ import annotations

import codecs
import logging

from pos_referral.config import StoreConfig
from pos_referral.printing.profiles import pinned_code_page, profile_info
from pos_referral.proxy.footer import FooterSource
from pos_referral.proxy.footers import FooterCaller
from pos_referral.proxy.server import Decoding, PrinterDevice, ProxyServer, parse_listen
from pos_referral.proxy.stats import ProxyStats

logger = logging.getLogger(__name__)

_ALIASES = {"WPC1252": "cp1252", "PC437": "cp437"}


def _codec(name: str) -> str | None:
    candidate = _ALIASES.get(name, name.lower())
    try:
        return codecs.lookup(candidate).name
    except LookupError:
        return None


def decoding(config: StoreConfig) -> Decoding:
    """ESC t n -> codec per the printer profile (python-escpos capabilities); unknown pages read as cp437."""
    section = config.printer
    info = profile_info(section.profile)
    table: dict[int, str] = {}
    for name, number in info.code_pages.items():
        codec = _codec(name)
        if codec:
            table.setdefault(number, codec)
    table.setdefault(0, "cp437")
    return Decoding(table, pinned_code_page(info, section.language or config.store.language).number)


def check_proxy_printer(config: StoreConfig, printer: object) -> PrinterDevice:
    """The printer as a device the proxy can forward to, or a ValueError naming the keys to change."""
    if not isinstance(printer, PrinterDevice):
        raise ValueError(f'[proxy] forwards to a [printer] of type "network", "serial" or "usb", '
                         f'not "{config.printer.type}": set [printer] type and its address')
    return printer


def build_proxy(config: StoreConfig, printer: object, source: FooterSource,
                stats: ProxyStats | None = None) -> ProxyServer:
    """Not started yet: ``start()`` opens the port (``serve`` and ``pos-referral proxy`` do)."""
    device = check_proxy_printer(config, printer)
    stats = stats or ProxyStats()
    footers = FooterCaller(source, config.proxy.footer_timeout_ms, stats)
    return ProxyServer(parse_listen(config.proxy.listen), device, footers, decoding(config), stats,
                       chunk=write_size(config))


def write_size(config: StoreConfig) -> int:
    """The largest single write to the printer: a serial link at 9600 baud moves ~960 bytes a second and
    each write must end within ``[printer] timeout``, so half of what fits in it; 64 KB otherwise."""
    section = config.printer
    if section.type == "serial":
        return max(256, int(section.baudrate / 10 * section.timeout / 2))
    return 65536
