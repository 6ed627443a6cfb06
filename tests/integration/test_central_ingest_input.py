"""Central's ``POST /sync/v1/events`` on a real PostgreSQL: a good batch is applied, a bad one is a
problem+json 4xx that names the field, and no batch, however odd, gets a 500."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pos_referral import create_app
from pos_referral.bootstrap import Central
from pos_referral.central.stores import add_store
from pos_referral.db.models_central import CentralEvent
from tests.conftest import FakeClock
from tests.postgres_support import fresh_database, start_central

pytestmark = pytest.mark.postgres
AT = "2026-06-15T12:00:00+00:00"


@pytest.fixture(scope="module")
def central(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Central]:
    with fresh_database() as url:
        worker = start_central(url, tmp_path_factory.mktemp("central"), FakeClock(), pool_size=2)
        yield worker
        worker.close()


def _client(central: Central) -> tuple[FlaskClient, dict[str, str]]:
    token = add_store(central.ctx.db, 1, "fuzz", central.ctx.clock())
    app = create_app(central=central, test_config={"TESTING": True})
    return app.test_client(), {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}


def _events(seq: int) -> list[dict[str, Any]]:
    """A referrer's code, a friend's code and the friend's sale, as a store writes them."""
    referrer, friend, code, own = uuid.uuid4().hex, uuid.uuid4().hex, "0" + uuid.uuid4().hex[:13].upper(), \
        "1" + uuid.uuid4().hex[:13].upper()
    payloads = [
        ("code_issued", {"code": code, "customer_id": referrer, "program_id": "bring-a-friend", "channel": "api",
                         "store_no": 1, "till_id": "T1", "identity_hash": uuid.uuid4().hex * 2, "first_name": "Ann",
                         "at": AT}),
        ("code_issued", {"code": own, "customer_id": friend, "program_id": "bring-a-friend", "channel": "receipt",
                         "store_no": 1, "till_id": "T1", "identity_hash": None, "first_name": "", "at": AT}),
        ("redemption_recorded", {
            "redemption_id": uuid.uuid4().hex, "code": code, "program_id": "bring-a-friend", "referrer_id": referrer,
            "friend_id": friend, "friend_identity_hash": None, "sale_id": f"S{seq}", "till_id": "T1", "store_no": 1,
            "basket": "50.00", "discount": "5.00", "friend_code": own, "at": AT, "variant": "",
            "reward_id": uuid.uuid4().hex, "hold_until": "2026-06-29T12:00:00+00:00", "friend_points": 0}),
    ]
    return [{"event_id": uuid.uuid4().hex, "seq": seq + i, "type": t, "payload": p, "created_at": AT}
            for i, (t, p) in enumerate(payloads)]


def _push(client: FlaskClient, headers: dict[str, str], after: int, events: list[Any]) -> tuple[int, Any]:
    body = json.dumps({"store_no": 1, "after": after, "events": events})  # ensure_ascii: lone surrogates survive
    answer = client.post("/sync/v1/events", data=body, headers=headers)
    return answer.status_code, (answer.get_json(silent=True), answer.content_type)


def test_a_store_batch_is_applied_and_a_replay_is_acknowledged_again(central: Central) -> None:
    client, headers = _client(central)
    cursor = _push(client, headers, 0, [])[1][0]["cursor"]
    events = _events(cursor + 1)
    status, (body, _) = _push(client, headers, cursor, events)
    assert status == 200 and body["applied"] == 3 and body["cursor"] == events[-1]["seq"]
    status, (body, _) = _push(client, headers, cursor, events)
    assert status == 200 and body["applied"] == 0 and body["duplicates"] == 3


def test_an_event_id_central_holds_is_not_stored_or_applied_again_under_a_new_seq(central: Central) -> None:
    client, headers = _client(central)
    cursor = _push(client, headers, 0, [])[1][0]["cursor"]
    events = _events(cursor + 1)
    events[0]["payload"]["first_name"] = "Åse \u2603"  # stored as the store sent it, escapes and all
    assert _push(client, headers, cursor, events)[1][0]["applied"] == 3
    again = {**events[1], "seq": events[-1]["seq"] + 1}  # the same event, re-numbered by the store
    fresh = _events(again["seq"] + 1)[:1]
    status, (body, _) = _push(client, headers, events[-1]["seq"], [again, *fresh])
    assert status == 200 and body["applied"] == 1 and body["duplicates"] == 1 and body["cursor"] == fresh[0]["seq"]
    with central.ctx.db.read_engine.connect() as conn:
        stored = dict(conn.execute(sa.select(CentralEvent.event_id, CentralEvent.payload).where(
            CentralEvent.event_id.in_([e["event_id"] for e in events] + [fresh[0]["event_id"]]))).all())
        seqs = conn.execute(sa.select(CentralEvent.store_seq).where(CentralEvent.event_id == again["event_id"]))
        assert list(seqs.scalars()) == [events[1]["seq"]]
    assert stored == {e["event_id"]: e["payload"] for e in [*events, *fresh]}
    # a resend overlapping the cursor with an id central never saw below it: that one is not kept
    stranger = {**_events(1)[0], "seq": events[0]["seq"]}
    newer = _events(fresh[0]["seq"] + 1)[:1]
    status, (body, _) = _push(client, headers, cursor, [stranger, *newer])
    assert status == 200 and body["applied"] == 1 and body["cursor"] == newer[0]["seq"]
    with central.ctx.db.read_engine.connect() as conn:
        ids = set(conn.execute(sa.select(CentralEvent.event_id).where(
            CentralEvent.event_id.in_([stranger["event_id"], newer[0]["event_id"]]))).scalars())
    assert ids == {newer[0]["event_id"]}


def test_a_batch_with_an_escaped_nul_goes_in_row_by_row_and_is_applied_once(central: Central) -> None:
    client, headers = _client(central)
    cursor = _push(client, headers, 0, [])[1][0]["cursor"]
    events = _events(cursor + 1)
    events[2]["extra"] = "\x00"  # PostgreSQL's JSON functions refuse \u0000: this body takes the other path
    status, (body, _) = _push(client, headers, cursor, events)
    assert status == 200 and body["applied"] == 3
    assert _push(client, headers, cursor, events)[1][0]["duplicates"] == 3


@pytest.mark.parametrize(("where", "field", "value", "says"), [
    ("payload", "code", "X" * 40, "payload.code"),
    ("payload", "at", "2026-06-15T12:00:00", "payload.at"),  # no UTC offset
    ("payload", "discount", 5.0, "payload.discount"),  # floats never carry money
    ("payload", "sale_id", None, "payload.sale_id"),
    ("event", "event_id", "e" * 33, "event_id"),
    ("event", "type", "t" * 41, "type"),
])
def test_a_malformed_event_is_refused_as_problem_json_naming_the_field(
    central: Central, where: str, field: str, value: Any, says: str
) -> None:
    client, headers = _client(central)
    cursor = _push(client, headers, 0, [])[1][0]["cursor"]
    events = _events(cursor + 1)
    target = events[2]["payload"] if where == "payload" else events[2]
    target[field] = value
    status, (body, content_type) = _push(client, headers, cursor, events)
    assert status == 422 and content_type == "application/problem+json"
    assert body["code"] == "invalid_batch" and says in body["detail"]
    status, (body, _) = _push(client, headers, cursor, _events(cursor + 1))  # nothing of it was kept
    assert status == 200 and body["applied"] == 3


_json = st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=80),
                     lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner,
                                                                                  max_size=3), max_leaves=6)
_odd_text = st.text(st.characters(codec=None), max_size=70) | st.sampled_from(["\x00", "\ud800", "a\udfff", ""])


@pytest.mark.slow
def test_no_batch_however_odd_gets_a_500(central: Central) -> None:
    client, headers = _client(central)
    state = {"cursor": _push(client, headers, 0, [])[1][0]["cursor"]}

    @settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(index=st.integers(0, 2), in_payload=st.booleans(), field=st.sampled_from(
        ["code", "customer_id", "program_id", "at", "identity_hash", "first_name", "store_no", "channel", "till_id",
         "redemption_id", "friend_id", "referrer_id", "sale_id", "basket", "discount", "variant", "friend_code",
         "reward_id", "hold_until", "friend_points", "event_id", "seq", "type", "created_at", "payload"]),
        value=_json | _odd_text, drop=st.booleans())
    def one(index: int, in_payload: bool, field: str, value: Any, drop: bool) -> None:
        events = _events(state["cursor"] + 1)
        target = events[index]["payload"] if in_payload else events[index]
        if drop:
            target.pop(field, None)
        else:
            target[field] = value
        status, (body, content_type) = _push(client, headers, state["cursor"], events)
        assert status < 500, body
        if status == 200:
            state["cursor"] = body["cursor"]
        else:
            assert content_type == "application/problem+json" and body["code"], body

    one()



@pytest.mark.parametrize(("raw", "says"), [
    (b'{"events": ' + b"[" * 5000 + b"]" * 5000 + b"}", "nested too deeply"),
    (b'{"store_no": 1, "after": 0, "events": [], "x": "\xff\xfe"}', "UTF-8"),
    (b'{"store_no": 1, "after": 0, "events": [], "x": NaN}', "NaN"),
])
def test_a_sync_batch_central_cannot_read_is_a_readable_400(central: Central, raw: bytes, says: str) -> None:
    client, headers = _client(central)
    r = client.post("/sync/v1/events", data=raw, headers=headers)
    assert r.status_code == 400 and r.mimetype == "application/problem+json", r.get_data(as_text=True)
    assert r.json is not None and says in r.json["detail"] and "codec" not in r.json["detail"]
