"""``/healthz`` says what a till shows: the printer's state in one word, and sync only where there is one."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask

from pos_referral import create_app
from pos_referral.bootstrap import Store
from tests.conftest import Api, FakeClock
from tests.printing_support import FakeNetworkPrinter
from tests.till_support import attach_network_printer, chain_twin


@pytest.fixture
def fake() -> Iterator[FakeNetworkPrinter]:
    printer = FakeNetworkPrinter()
    yield printer
    printer.close()


@pytest.mark.parametrize(("mode", "state"), [("ok", "ready"), ("paper_near_end", "paper_low"),
                                             ("paper_out", "paper_out"), ("cover_open", "cover_open")])
def test_healthz_names_the_printers_state(store: Store, app: Flask, fake: FakeNetworkPrinter, mode: str,
                                          state: str) -> None:
    worker = attach_network_printer(store, fake)
    fake.mode = mode
    worker.refresh_status()
    assert app.test_client().get("/healthz").get_json()["printer"]["state"] == state


def test_healthz_says_offline_when_the_printer_does_not_answer(store: Store, app: Flask,
                                                              fake: FakeNetworkPrinter) -> None:
    worker = attach_network_printer(store, fake)
    fake.refuse()
    worker.refresh_status()
    assert app.test_client().get("/healthz").get_json()["printer"]["state"] == "offline"


def test_a_standalone_shop_has_nothing_to_sync_however_many_sales(store: Store, api: Api, clock: FakeClock) -> None:
    code = api.issue()["code"]
    assert api.redeem(code, "S1", phone="+4798765432")[0] == 201
    clock.advance(hours=5)
    health = api.client.get("/healthz").get_json()
    assert health["sync"] == {"mode": "standalone"}


def test_a_chain_store_is_late_only_after_two_sync_intervals_and_a_minute(
        store: Store, api: Api, config_path: Path, clock: FakeClock) -> None:
    code = api.issue()["code"]
    chain = chain_twin(store, config_path, clock)
    try:
        client = create_app(store=chain, test_config={"TESTING": True}).test_client()
        assert client.get("/healthz").get_json()["sync"]["state"] == "ok"  # an event waits, but only just
        clock.advance(seconds=59)
        assert client.get("/healthz").get_json()["sync"]["state"] == "ok"  # 2 x 10 s interval < 60 s floor
        clock.advance(minutes=4)
        sync = client.get("/healthz").get_json()["sync"]
        assert sync["mode"] == "chain" and sync["state"] == "late" and sync["late_after_seconds"] == 60
        assert sync["waiting"] >= 1 and sync["oldest_waiting_seconds"] >= 299
    finally:
        chain.close()
    assert code
