"""The relay keeps two batches in flight; when the second overtakes the first at central, central
answers it with the lower cursor of that moment. Found by the sync benchmark: the relay took that
stale answer as "central lost events" and sent the first batch again."""

from __future__ import annotations

import json
import threading
from typing import Any

from pos_referral.bootstrap import Store
from pos_referral.domain.identity import normalise_phone
from pos_referral.services.customers import CustomerInput
from pos_referral.services.referral_codes import issue_code
from pos_referral.sync.relay import Relay


class OvertakingCentral:
    """A central whose answer to the second batch was computed before the first batch arrived."""

    def __init__(self) -> None:
        self.cursor = 0
        self.applied: list[int] = []
        self.overtaken = False
        self._lock = threading.Lock()

    def push(self, store_no: int, after: int, events_json: str) -> dict[str, Any]:
        seqs = [e["seq"] for e in json.loads(events_json)]
        with self._lock:
            if after > 0 and not self.overtaken:  # reached central first: a gap at that moment
                self.overtaken = True
                return {"cursor": 0, "applied": 0, "duplicates": 0, "conflicts": 0}
            if after > self.cursor:
                return {"cursor": self.cursor, "applied": 0, "duplicates": 0, "conflicts": 0}
            fresh = [s for s in seqs if s > self.cursor]
            self.applied.extend(fresh)
            self.cursor = max(self.cursor, *seqs)
            return {"cursor": self.cursor, "applied": len(fresh), "duplicates": len(seqs) - len(fresh),
                    "conflicts": 0}

    def changes(self, since: int, keys_version: int, limit: int = 2000) -> dict[str, Any]:
        return {"changes": [], "cursor": since, "more": False, "keys_version": keys_version}


def test_a_stale_answer_to_an_overtaking_batch_does_not_resend_what_central_confirmed(store: Store) -> None:
    for i in range(9):
        issue_code(store.ctx, CustomerInput(identity=normalise_phone(f"+4791{i:06d}")), channel="api", till_id="T1")
    central = OvertakingCentral()
    relay = Relay(store.ctx, central, batch_size=3, base_delay=0.001)  # type: ignore[arg-type]

    summary = relay.sync(max_attempts=3)

    assert central.overtaken
    assert sorted(central.applied) == list(range(1, 10))  # each event once, none lost
    assert summary.pushed == 9 and summary.duplicates == 0 and summary.backlog == 0
