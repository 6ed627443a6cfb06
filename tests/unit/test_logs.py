"""The log: one line per event, UTC, no whole codes, contacts, tokens or PINs; a 0600 file that rotates."""

from __future__ import annotations

import logging
import re
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from pos_referral.domain.text import short_code
from pos_referral.logs import add_log_file, redact, remove_log_file

LINE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z (DEBUG|INFO|WARNING|ERROR|CRITICAL) [\w.]+: .*$")


@pytest.mark.parametrize(("said", "logged"), [
    ("redeemed R7KQ2M9XW4HT3P at T1", "redeemed R7KQ… at T1"),
    ("code R7KQ-2M9X-W4HT-3P refused", "code R7KQ… refused"),
    ("GET /r/R7KQ2M9XW4HT3P", "GET /r/R7KQ…"),
    ("scanned r7kq-2m9x-w4ht-3p", "scanned r7kq…"),
    ("550 rejected <ada.lovelace+shop@example.co.uk>", "550 rejected <<email>>"),
    ("customer +47 912 34 567 joined", "customer <phone> joined"),
    ("customer +6281234567890 joined", "customer <phone> joined"),
    ("call 91234567 back", "call <phone> back"),
    ("Authorization: Bearer till_abc.def-123", "Authorization: Bearer <redacted>"),
    ("header bearer till_x1y2z3", "header bearer <redacted>"),
    ("pin=123456 tried", "pin=<redacted> tried"),
    ('{"password": "hunter2hunter2"}', '{"password": "<redacted>"}'),
    ("token store3_h4Kx9s0dPq8vWz1L2mN3bV4cX5zA6sD7", "token <token>"),
    ("unsubscribe 9f86d081884c7d659a2feaa0c55ad015", "unsubscribe <token>"),
])
def test_secrets_and_personal_data_never_reach_the_log(said: str, logged: str) -> None:
    assert redact(said) == logged


@pytest.mark.parametrize("plain", [
    "print job 12 not printed (attempt 3, retry at 2026-12-06T21:40:12+00:00): paper out",
    "store 1 serving on 127.0.0.1:8000",
    "event 0b8f6a0e-3c1d-4b8e-9a51-2f6d8c0e7a11 resent",
    "report rollup caught up: 1234567 runs",
    "the templates were rendered successfully",
    "bearer code 0RS1\u2026 claimed (claimed)",
    "backup /srv/shop/backups/pos-referral-S001-20261206T230403Z.db: 540672 bytes in 0.1 s",
    "backup x.db: 589824 bytes in 0.1 s (integrity ok, schema 0017_sale_customer_totals, 0 customers)",
    "central https://central.example:8443 is out of reach ([Errno 111] Connection refused)",
])
def test_ordinary_lines_pass_unchanged(plain: str) -> None:
    assert redact(plain) == plain


def test_codes_are_logged_shortened() -> None:
    assert short_code("R7KQ-2M9X-W4HT-3P") == "R7KQ…"
    assert short_code("R7K") == "R7K"


@pytest.fixture
def log_file(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "data" / "pos-referral.log"
    handler = add_log_file(path, max_bytes=10_000, backup_count=2)
    root = logging.getLogger()
    old = root.level
    root.setLevel(logging.INFO)
    yield path
    root.setLevel(old)
    remove_log_file(handler)


def test_the_log_file_is_private_one_line_per_event_and_rotates(log_file: Path) -> None:
    log = logging.getLogger("pos_referral.test")
    try:
        raise ValueError("bad value for customer ada@example.com\nsecond line")
    except ValueError:
        log.exception("redemption of %s failed", "R7KQ2M9XW4HT3P")
    log.info("a\nmultiline\nmessage")
    lines = log_file.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 2 and all(LINE.match(line) for line in lines)
    assert "R7KQ…" in lines[0] and "R7KQ2M9XW4HT3P" not in lines[0]
    assert "Traceback" in lines[0] and "ValueError" in lines[0] and "ada@example.com" not in lines[0]
    assert stat.S_IMODE(log_file.stat().st_mode) == 0o600
    assert stat.S_IMODE(log_file.parent.stat().st_mode) == 0o700
    for n in range(400):  # ~40 kB: rotated, at most two older files kept
        log.info("filler line %d %s", n, "x" * 60)
    rotated = sorted(p.name for p in log_file.parent.iterdir())
    assert rotated == ["pos-referral.log", "pos-referral.log.1", "pos-referral.log.2"]
    for path in log_file.parent.iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path.name
        assert path.stat().st_size <= 10_000
