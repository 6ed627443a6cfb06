"""The whole print proxy as a shop runs it: the POS (python-escpos) prints through ``serve``'s proxy, the
recording printer gets the POS's receipt with the referral footer before the cut, the sale on it is
recorded, and the printed code is claimed on the phone."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

import sqlalchemy as sa
from escpos.printer import Network

from pos_referral.db.models import Code, Sale
from pos_referral.proxy.server import ProxyServer
from pos_referral.services.unit_of_work import UnitOfWork
from pos_referral.workers import start_store_workers
from tests.integration.test_bearer_claims import post_claim
from tests.proxy_support import PROFILE, RecordingPrinter

CLAIM_LINK = re.compile(rb"https?://[!-~]+?/r/[0-9A-Z]{14}/claim\?s=[!-~]+?(?=[\x00-\x20]|\x1d|$)")


def pos_receipt(pos: Network, number: str, total: str) -> None:
    pos.text(f"CORNER SHOP\nReceipt No: {number}\n")
    pos.text(f"{'Coffee beans':<20}{total:>8}\n{'TOTAL':<20}{total:>8}\n")
    pos.cut()


def test_a_pos_receipt_through_serve_gets_a_claimable_code_and_its_sale_is_seen(edited_shop: Any) -> None:
    printer = RecordingPrinter()
    shop = edited_shop(overrides={
        "printer": {"type": "network", "host": "127.0.0.1", "port": printer.port, "profile": PROFILE},
        "proxy": {"enabled": True, "listen": "127.0.0.1:0", "offer": "every", "footer_timeout_ms": 2000}})
    start_store_workers(shop.store)
    try:
        server = next(task for task in shop.store.background if isinstance(task, ProxyServer))
        pos = Network("127.0.0.1", server.address[1], timeout=5, profile=PROFILE)
        pos.open()
        pos_receipt(pos, "P-4711", "42.50")
        pos.close()
        printer.wait_for(lambda p: any(b"CORNER SHOP" in bytes(c.received) and c.closed.is_set()
                                       for c in p.connections))
        (printed,) = [bytes(c.received) for c in printer.connections if b"CORNER SHOP" in bytes(c.received)]
        assert printed.startswith(b"\x1bt\x00CORNER SHOP\nReceipt No: P-4711\n")  # POS bytes first
        (link,) = CLAIM_LINK.finditer(printed)  # the QR's payload (GS ( k store), once
        assert printed.count(b"\x1dV") == 1 and link.start() < printed.index(b"\x1dV")  # footer before the cut
        qr = link.group().decode()
        code = urlsplit(qr).path.split("/")[2]
        shop.store.close()  # stops the proxy, then records the sales it saw
        with UnitOfWork(shop.store.ctx.db, write=False) as read:
            sale = read.conn.execute(sa.select(Sale.sale_id, Sale.total_minor, Sale.source)).one()
            row = read.session.get(Code, code)
        assert tuple(sale) == ("P-4711", 4250, "proxy")
        assert row is not None and row.bearer and row.claimed_at is None
        client = shop.app.test_client()
        url = urlsplit(qr)
        assert post_claim(client, f"{url.path}?{url.query}", "+47 912 34 567", "Kari").status_code == 303
        with UnitOfWork(shop.store.ctx.db, write=False) as read:
            claimed = read.session.get(Code, code)
        assert claimed is not None and claimed.claimed_at is not None
    finally:
        shop.store.close()
        printer.close()
