"""Till API tokens: a new token for a till (``pos-referral till add T1`` again, from another process)
ends the old one on a running service within the verifier's few seconds of trust."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from pos_referral.bootstrap import Store
from pos_referral.services.tills import TokenVerifier, add_till
from tests.server_support import Server, make_config


class Ticks:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_rotated_token_stops_working_once_its_cached_answer_is_stale(store: Store) -> None:
    ticks = Ticks()
    verifier = TokenVerifier(store.ctx, ttl=5.0, clock=ticks)
    old = add_till(store.ctx, "T7")
    assert verifier.till_for(old) == "T7"
    new = add_till(store.ctx, "T7")  # what `till add T7` does for a till that exists
    ticks.now += 4.9
    assert verifier.till_for(old) == "T7"  # still inside the few seconds it is trusted
    ticks.now += 0.2
    assert verifier.till_for(old) is None
    assert verifier.till_for(new) == "T7"
    assert verifier.till_for("till_not-a-token") is None


@pytest.mark.slow
def test_rotating_a_till_token_from_the_cli_ends_the_old_one_on_the_running_server(tmp_path: Path) -> None:
    config = make_config(tmp_path)
    server = Server(config, tmp_path / "data")
    old = server.add_till("T1")
    server.start()
    try:
        server.token = old
        assert server.call("GET", "/api/v1/customers/nobody/rewards")[0] != 401
        out = subprocess.run([sys.executable, "-m", "pos_referral", "--config", str(config), "--data-dir",
                              str(tmp_path / "data"), "till", "add", "T1"], check=True, capture_output=True, text=True)
        new = out.stdout.strip().splitlines()[-1]
        deadline = time.monotonic() + 15
        while server.call("GET", "/api/v1/customers/nobody/rewards")[0] != 401:
            assert time.monotonic() < deadline, "the old token still works"
            time.sleep(0.5)
        server.token = new
        assert server.call("GET", "/api/v1/customers/nobody/rewards")[0] != 401
    finally:
        server.stop()
