"""Sixteen tills at once against the real server: exactly one wins, nobody sees a 500 or a lock error."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.server_support import Server, cli, make_config

pytestmark = [pytest.mark.reliability, pytest.mark.slow]
CLIENTS = 16


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    config = make_config(tmp_path, {"hold_days = 14": "hold_days = 0"})
    srv = Server(config, tmp_path / "data")
    srv.add_till()
    srv.start(threads=8)
    yield srv
    srv.stop()


def _race(server: Server, requests: list[tuple[str, dict[str, object], str]]) -> list[tuple[int, object]]:
    def one(item: tuple[str, dict[str, object], str]) -> tuple[int, object]:
        path, body, key = item
        return server.call("POST", path, body, {"Idempotency-Key": key})

    with ThreadPoolExecutor(CLIENTS) as pool:
        return list(pool.map(one, requests))


def test_sixteen_tills_redeeming_for_one_friend_record_exactly_one(server: Server) -> None:
    status, ann = server.call("POST", "/api/v1/referral-codes", {"customer": {"phone": "+4790000001"}})
    assert status == 201
    results = _race(server, [
        ("/api/v1/redemptions", {"code": ann["code"], "sale_id": f"S{i}", "basket_total": "50.00",
                                 "customer": {"email": "friend@example.com"}}, f"k{i}")
        for i in range(CLIENTS)
    ])
    statuses = Counter(s for s, _ in results)
    assert statuses[201] == 1, results
    assert statuses[409] == CLIENTS - 1
    assert all(body["code"] == "already_referred" for s, body in results if s == 409)  # type: ignore[index]
    assert "locked" not in repr(results)


def test_sixteen_tills_using_one_voucher_succeed_once(server: Server) -> None:
    _, ann = server.call("POST", "/api/v1/referral-codes", {"customer": {"phone": "+4790000001"}})
    assert server.call("POST", "/api/v1/redemptions", {"code": ann["code"], "sale_id": "S0", "basket_total": "50.00",
                                                       "customer": {"email": "f@example.com"}},
                       {"Idempotency-Key": "first"})[0] == 201
    assert "released 1" in cli(server.config, server.data_dir, "rewards", "release")
    voucher = server.call("GET", f"/api/v1/customers/{ann['customer_id']}/rewards")[1]["rewards"][0]["voucher_code"]
    results = _race(server, [
        (f"/api/v1/vouchers/{voucher}/redeem", {"sale_id": f"V{i}", "basket_total": "30.00"}, f"v{i}")
        for i in range(CLIENTS)
    ])
    statuses = Counter(s for s, _ in results)
    assert statuses[201] == 1 and statuses[409] == CLIENTS - 1, results


def test_same_idempotency_key_from_sixteen_retries_gives_one_answer(server: Server) -> None:
    _, ann = server.call("POST", "/api/v1/referral-codes", {"customer": {"phone": "+4790000001"}})
    body = {"code": ann["code"], "sale_id": "S1", "basket_total": "50.00", "customer": {"email": "f@example.com"}}
    results = _race(server, [("/api/v1/redemptions", body, "same-key")] * CLIENTS)
    assert {s for s, _ in results} == {201}
    assert len({b["redemption_id"] for _, b in results}) == 1  # type: ignore[index]


def test_sixteen_tills_with_sixteen_friends_all_record_once_and_replay(server: Server) -> None:
    """Concurrent redemptions share commits (group commit): every one is kept, each exactly once."""
    codes = [server.call("POST", "/api/v1/referral-codes", {"customer": {"phone": f"+47900000{i:02d}"}})[1]
             for i in range(CLIENTS)]
    requests = [("/api/v1/redemptions", {"code": ann["code"], "sale_id": f"S{i}", "basket_total": "50.00",
                                         "customer": {"email": f"friend{i}@example.com"}}, f"k{i}")
                for i, ann in enumerate(codes)]
    first = _race(server, requests)
    assert [s for s, _ in first] == [201] * CLIENTS, first
    again = _race(server, requests)  # the tills retry every call: the same answers, nothing new
    assert [b for _, b in again] == [b for _, b in first]
    assert len({b["redemption_id"] for _, b in first}) == CLIENTS  # type: ignore[index]
    for ann in codes:
        status, rewards = server.call("GET", f"/api/v1/customers/{ann['customer_id']}/rewards")
        assert status == 200 and len(rewards["rewards"]) == 1, rewards
