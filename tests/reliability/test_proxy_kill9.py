"""kill -9 of ``pos-referral proxy`` in the middle of a receipt: the printer keeps what the POS sent before
the kill (no footer byte), and the next receipt, through the restarted proxy, gets its whole footer once."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.proxy_support import LAYOUTS, RecordingPrinter, receipt_bytes, with_footer
from tests.server_support import free_port, make_config

pytestmark = [pytest.mark.reliability, pytest.mark.slow]

FOOTER_TEXT = "Bring a friend: KILL-9-SAFE"


class ProxyProcess:
    def __init__(self, config: Path, data_dir: Path, printer_port: int) -> None:
        self.config, self.data_dir, self.port = config, data_dir, free_port()
        self.env = {**os.environ, "POS_REFERRAL_PRINTER__TYPE": "network", "POS_REFERRAL_PRINTER__HOST": "127.0.0.1",
                    "POS_REFERRAL_PRINTER__PORT": str(printer_port), "POS_REFERRAL_PRINTER__PROFILE": "TM-T88V"}
        self.proc: subprocess.Popen[str] | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "pos_referral", "--config", str(self.config), "--data-dir", str(self.data_dir),
             "proxy", "--listen", f"127.0.0.1:{self.port}", "--footer", FOOTER_TEXT],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=self.env, text=True)
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()  # said once the port is open
        assert line.startswith("Print proxy on"), line

    def kill9(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)


@pytest.fixture
def printer() -> Iterator[RecordingPrinter]:
    recorder = RecordingPrinter()
    yield recorder
    recorder.close()


def test_kill_9_mid_receipt_never_prints_half_a_footer(tmp_path: Path, printer: RecordingPrinter) -> None:
    _layout, cut, restore, unfinished = LAYOUTS["code_pages"]
    receipt = receipt_bytes(LAYOUTS["code_pages"][0])
    footer = FOOTER_TEXT.encode() + b"\n"
    proxy = ProxyProcess(make_config(tmp_path), tmp_path / "data", printer.port)
    try:
        for round_no in range(2):
            proxy.start()
            with socket.create_connection(("127.0.0.1", proxy.port), timeout=5) as pos:
                pos.sendall(receipt)  # one whole receipt: footer and all
                half = receipt[: len(receipt) // 2 + round_no * 7]
                pos.sendall(half)  # then the next one, cut off by the kill
                expected = with_footer(receipt, cut, restore, footer=footer, unfinished=unfinished) + half
                killed = 2 * round_no  # the printer connection of this POS connection
                printer.wait_for(lambda p, n=killed, e=expected: len(p.connections) > n and p.received(n) == e)
                proxy.kill9()
                got = printer.wait_closed(killed)
                assert got == expected  # what came before the kill, and not one byte more
            # the next receipt through the restarted proxy: its whole footer, exactly once
            proxy.start()
            with socket.create_connection(("127.0.0.1", proxy.port), timeout=5) as pos:
                pos.sendall(b"\x1b@" + receipt)
            expected_next = with_footer(b"\x1b@" + receipt, cut, restore, footer=footer, unfinished=unfinished)
            assert printer.wait_closed(2 * round_no + 1) == expected_next
            proxy.stop()
    finally:
        proxy.stop()
