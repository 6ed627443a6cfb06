"""Quotes counted for the reports name the customer at the till, resolved in batches by the flusher."""

from __future__ import annotations

import sqlalchemy as sa

from pos_referral.bootstrap import Store
from pos_referral.db.models import ReportEvent
from pos_referral.services.customers import CustomerInput
from pos_referral.services.referral_codes import issue_code
from pos_referral.services.reports_events import LOOKUP_CHUNK, EventRecorder, Noted
from tests.conftest import FakeClock


def _events(store: Store) -> dict[str, str | None]:
    with store.db.read_engine.connect() as conn:
        return {row.till_id: row.customer_id for row in conn.execute(sa.select(ReportEvent))}


def test_each_quote_is_counted_against_the_right_customer(store: Store, clock: FakeClock) -> None:
    kari = issue_code(store.ctx, CustomerInput.parse({"phone": "+4791234567"}), channel="api", till_id="T1")
    ola = issue_code(store.ctx, CustomerInput.parse({"email": "Ola@Example.com"}), channel="api", till_id="T1")
    recorder = EventRecorder(store.ctx)
    for till, customer in (("by-phone", {"phone": "+47 912 34 567"}), ("by-email", {"email": "ola@example.com"}),
                           ("by-id", {"customer_id": ola.customer_id}), ("stranger", {"email": "new@example.com"}),
                           ("no-customer", None), ("bad-input", {"phone": "not a phone"})):
        recorder.note(Noted(at=clock(), kind="quote", till_id=till, code=kari.code, customer=customer))
    assert recorder.flush() == 6
    assert _events(store) == {"by-phone": kari.customer_id, "by-email": ola.customer_id, "by-id": ola.customer_id,
                              "stranger": None, "no-customer": None, "bad-input": None}
    recorder.stop()


def test_a_flush_larger_than_one_lookup_resolves_every_known_customer(store: Store, clock: FakeClock) -> None:
    known = {}
    for n in range(0, 2 * LOOKUP_CHUNK + 50, 7):  # every seventh friend is already a customer
        known[f"T{n}"] = issue_code(store.ctx, CustomerInput.parse({"email": f"f{n}@example.com"}), channel="api",
                                    till_id="T1").customer_id
    recorder = EventRecorder(store.ctx)
    for n in range(2 * LOOKUP_CHUNK + 50):  # one till each: no quote is a re-quote of another
        recorder.note(Noted(at=clock(), kind="quote", till_id=f"T{n}", code="0ABCDEFGHJKMNP",
                            customer={"email": f"f{n}@example.com"}))
    assert recorder.flush() == 2 * LOOKUP_CHUNK + 50
    events = _events(store)
    assert {till: cid for till, cid in events.items() if cid is not None} == known
    recorder.stop()
