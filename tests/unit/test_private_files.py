"""Owner-only files written atomically, also when two writers replace the same file at once."""

from __future__ import annotations

import stat
import threading
from pathlib import Path

from pos_referral.private_files import replace_private


def test_two_writers_replacing_one_file_at_once_both_succeed_and_leave_one_whole_file(tmp_path: Path) -> None:
    # serve's scheduled backup and a `db backup` beside it both rewrite backups/secrets.json; with one
    # shared temp name one writer renamed the other's temp file away (FileNotFoundError in CI)
    target = tmp_path / "secrets.json"
    payloads = [bytes([65 + n]) * 50_000 for n in range(2)]
    errors: list[BaseException] = []
    start = threading.Barrier(2)

    def write(data: bytes) -> None:
        start.wait()
        try:
            for _ in range(200):
                replace_private(target, data)
        except BaseException as exc:  # collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(p,)) for p in payloads]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert target.read_bytes() in payloads
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["secrets.json"]  # no temp file left behind
