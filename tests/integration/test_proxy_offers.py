"""The print proxy's referral side: which receipts get a code, the footer's bytes, the sales it records."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import sqlalchemy as sa

from pos_referral.db.models import Code, Customer, Sale
from pos_referral.printing.escpos_renderer import RendererConfig
from pos_referral.proxy.footer import ReceiptSeen
from pos_referral.services import owner_links
from pos_referral.services.proxy_offers import arming
from pos_referral.services.proxy_offers.footer import ProxyFooter
from pos_referral.services.unit_of_work import UnitOfWork
from tests.conftest import FakeClock
from tests.printing_support import decode_escpos, text_lines


def receipt(number: str = "R-1001", total: str = "23.40") -> ReceiptSeen:
    return ReceiptSeen(text=f"CORNER SHOP\nReceipt No: {number}\nCoffee   3.50\nTOTAL   {total}\nCash  50.00\n",
                       peer="127.0.0.1:50000")


def footer_of(shop: Any) -> ProxyFooter:
    settings = shop.store.settings
    return ProxyFooter(shop.store.ctx, RendererConfig.from_section(settings.config.printer,
                                                                   settings.config.store.language))


def bearer_codes(shop: Any) -> list[Code]:
    with UnitOfWork(shop.store.ctx.db, write=False) as read:
        return list(read.session.scalars(sa.select(Code).where(Code.bearer.is_(True)).order_by(Code.created_at)))


def test_armed_gives_a_code_only_to_the_next_receipt_after_give_card(edited_shop: Any, clock: FakeClock) -> None:
    shop = edited_shop()
    footer = footer_of(shop)
    assert footer.footer_for(receipt("A1")) is None  # nobody pressed "Give card"
    status, body = shop.api.post("/api/v1/proxy/arm")
    assert status == 200 and body["armed"] and body["armed_seconds"] == 120
    assert footer.footer_for(receipt("A2"))  # the armed receipt
    assert footer.footer_for(receipt("A3")) is None  # one arm covers one receipt
    shop.api.post("/api/v1/proxy/arm")
    clock.advance(seconds=121)
    assert footer.footer_for(receipt("A4")) is None  # too late: the arm lapsed
    assert len(bearer_codes(shop)) == 1


def test_an_arm_can_be_taken_back_and_shows_on_the_api(edited_shop: Any) -> None:
    shop = edited_shop()
    shop.api.post("/api/v1/proxy/arm")
    assert shop.api.get("/api/v1/proxy/arm")[1]["armed"] is True
    r = shop.api.client.delete("/api/v1/proxy/arm", headers={"Authorization": f"Bearer {shop.api.token}"})
    assert r.status_code == 200
    assert shop.api.get("/api/v1/proxy/arm")[1]["armed"] is False
    assert footer_of(shop).footer_for(receipt()) is None


def test_arming_needs_a_till(edited_shop: Any) -> None:
    shop = edited_shop()
    r = shop.api.client.post("/api/v1/proxy/arm")
    assert r.status_code == 401 and r.mimetype == "application/problem+json"


def test_every_receipt_gets_its_own_code(edited_shop: Any) -> None:
    shop = edited_shop(overrides={"proxy": {"offer": "every"}})
    footer = footer_of(shop)
    assert all(footer.footer_for(receipt(f"E{i}")) for i in range(3))
    codes = bearer_codes(shop)
    assert len({c.code for c in codes}) == 3 and all(c.channel == "proxy" and c.claimed_at is None for c in codes)


def test_every_third_receipt_gets_a_code(edited_shop: Any) -> None:
    shop = edited_shop(overrides={"proxy": {"offer": "every_nth", "every_nth": 3}})
    footer = footer_of(shop)
    got = [footer.footer_for(receipt(f"N{i}")) is not None for i in range(7)]
    assert got == [False, False, True, False, False, True, False]


def test_only_receipts_reaching_the_minimum_get_a_code(edited_shop: Any) -> None:
    shop = edited_shop(overrides={"proxy": {"offer": "every", "minimum_total": "20.00"}})
    footer = footer_of(shop)
    assert footer.footer_for(receipt("M1", "19.99")) is None
    assert footer.footer_for(receipt("M2", "20.00")) is not None
    assert footer.footer_for(receipt("M3", "1.234,50")) is not None
    unreadable = ReceiptSeen(text="CORNER SHOP\nCoffee 3.50\n", peer="p")
    assert footer.footer_for(unreadable) is None  # with a minimum, a total that cannot be read gets nothing
    assert footer.counts["below_minimum"] == 1 and footer.counts["total_unknown"] == 1


def test_the_footer_prints_the_code_a_barcode_and_the_claim_qr_without_reset_or_cut(edited_shop: Any) -> None:
    shop = edited_shop(overrides={"proxy": {"offer": "every"}})
    data = footer_of(shop).footer_for(receipt())
    assert data is not None
    commands = decode_escpos(data)
    names = [c.name for c in commands]
    assert "ESC @" not in names and "GS V" not in names  # never resets the POS's printer, never cuts
    (code,) = bearer_codes(shop)
    assert [c.data.decode() for c in commands if c.name == "CODE128"] == ["{B" + code.code]
    (qr,) = [c.data.decode() for c in commands if c.name == "QR store"]
    url = urlsplit(qr)
    ctx = shop.store.ctx
    assert f"{url.scheme}://{url.netloc}" == shop.store.settings.public_base
    assert url.path == f"/r/{code.code}/claim"
    assert owner_links.is_owner(ctx, code.code, 0, url.query.removeprefix("s="))
    lines = text_lines(commands, "cp437")
    assert any(code.code[:4] in line for line in lines)
    assert "Scan to claim your code and rewards" in lines


def test_the_footer_speaks_the_shops_language(edited_shop: Any) -> None:
    shop = edited_shop(overrides={"proxy": {"offer": "every"}, "printer": {"language": "it"}})
    data = footer_of(shop).footer_for(receipt())
    assert data is not None
    assert b"Inquadra per registrare il tuo" in data


def test_a_bearer_code_has_no_customer_yet_and_syncs_as_one(edited_shop: Any) -> None:
    shop = edited_shop(overrides={"proxy": {"offer": "every"}})
    footer_of(shop).footer_for(receipt())
    (code,) = bearer_codes(shop)
    with UnitOfWork(shop.store.ctx.db, write=False) as read:
        holder = read.session.get(Customer, code.customer_id)
        events = read.conn.execute(sa.text("SELECT type, payload FROM outbox")).all()
    assert holder is not None and holder.identity_hash is None and holder.first_name == ""
    issued = [e for e in events if e[0] == "code_issued"]
    assert len(issued) == 1


def test_the_sale_on_the_receipt_is_recorded_once_and_a_reprint_adds_nothing(edited_shop: Any) -> None:
    shop = edited_shop()
    footer = footer_of(shop)
    footer.footer_for(receipt("S-77", "12.50"))
    footer.footer_for(receipt("S-77", "12.50"))  # the POS reprints the same receipt
    footer.footer_for(receipt("S-77", "99.00"))  # another total under the same number: logged, not raised
    footer.footer_for(ReceiptSeen(text="NO NUMBER HERE\nTOTAL 5.00\n", peer="p"))
    footer.drain()
    with UnitOfWork(shop.store.ctx.db, write=False) as read:
        sales = read.conn.execute(sa.select(Sale.sale_id, Sale.total_minor, Sale.source)).all()
    assert sales == [("S-77", 1250, "proxy")]


def test_arming_is_shared_through_the_database(edited_shop: Any) -> None:
    shop = edited_shop()
    arming.arm(shop.store.ctx)
    assert arming.armed_until(shop.store.ctx) is not None
    assert footer_of(shop).footer_for(receipt()) is not None
    assert arming.armed_until(shop.store.ctx) is None


def test_no_code_is_printed_while_the_program_is_not_running(edited_shop: Any) -> None:
    shop = edited_shop({'name = "Bring a friend"': 'name = "Bring a friend"\nends = 2026-01-31'},
                       overrides={"proxy": {"offer": "every"}})
    footer = footer_of(shop)
    assert footer.footer_for(receipt()) is None
    assert footer.counts == {"program_not_running": 1}


def test_warming_up_the_footer_at_start_issues_no_code_and_counts_no_receipt(edited_shop: Any) -> None:
    shop = edited_shop(overrides={"proxy": {"offer": "every"}})
    footer = footer_of(shop)
    footer.warm_up()  # what serve does before the proxy takes its first receipt
    assert bearer_codes(shop) == [] and footer.counts == {}
    assert footer.footer_for(receipt()) is not None
