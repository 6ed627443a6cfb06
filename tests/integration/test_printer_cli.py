"""``pos-referral printer test``, ``printer status`` and ``receipt preview`` against real printers and files."""

from __future__ import annotations

import io
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import zxingcpp
from click.testing import CliRunner
from PIL import Image

from pos_referral.cli import main
from pos_referral.shop_config import set_values
from tests.printing_support import FakeNetworkPrinter, decode_escpos
from tests.server_support import make_config


@pytest.fixture
def fake() -> Iterator[FakeNetworkPrinter]:
    printer = FakeNetworkPrinter()
    yield printer
    printer.close()


def run(config: Path, data: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["--config", str(config), "--data-dir", str(data), *args])
    return result.exit_code, result.output


def network_config(root: Path, port: int) -> Path:
    config = make_config(root)
    config.write_text(set_values(config.read_text(), {"printer": {"type": "network", "host": "127.0.0.1",
                                                                   "port": port, "timeout": 0.5}}))
    return config


def test_printer_test_prints_the_test_page_on_a_network_printer(tmp_path: Path, fake: FakeNetworkPrinter) -> None:
    config = network_config(tmp_path, fake.port)
    code, out = run(config, tmp_path / "data", "printer", "test")
    assert code == 0, out
    assert "test page sent" in out and "printer: ready" in out
    deadline = time.monotonic() + 5
    while not fake.jobs and time.monotonic() < deadline:  # the fake records the job when the link closes
        time.sleep(0.02)
    assert len(fake.jobs) == 1
    commands = decode_escpos(fake.jobs[0])
    assert [c.data.decode() for c in commands if c.name == "QR store"] == ["https://example.com/test"]
    assert [c.name for c in commands][-1].startswith("GS V")  # cut last


def test_printer_test_and_status_report_a_dead_printer(tmp_path: Path, fake: FakeNetworkPrinter) -> None:
    config = network_config(tmp_path, fake.port)
    fake.refuse()
    code, out = run(config, tmp_path / "data", "printer", "test")
    assert code == 1 and "test page not printed" in out
    code, out = run(config, tmp_path / "data", "printer", "status")
    assert code == 1 and out.strip()


def test_printer_test_can_go_through_the_queue(tmp_path: Path) -> None:
    config = make_config(tmp_path)
    config.write_text(config.read_text().replace('type = "none"', 'type = "preview"'))
    code, out = run(config, tmp_path / "data", "db", "upgrade")
    assert code == 0, out
    code, out = run(config, tmp_path / "data", "printer", "test", "--queue")
    assert code == 0 and "queued as print job 1" in out


def test_receipt_preview_writes_a_png_that_scans(tmp_path: Path) -> None:
    config = make_config(tmp_path)
    target = tmp_path / "footer.png"
    code, out = run(config, tmp_path / "data", "receipt", "preview", "referral_footer", "--out", str(target),
                    "--paper", "58")
    assert code == 0, out
    image = Image.open(io.BytesIO(target.read_bytes()))
    code, _ = run(config, tmp_path / "data", "receipt", "preview", "referral_footer", "--out", str(tmp_path / "80.png"))
    assert code == 0 and image.width < Image.open(tmp_path / "80.png").width  # 58 mm paper is narrower
    found = {r.format.name: r.text for r in zxingcpp.read_barcodes(image.convert("L"))}
    assert found["Code128"] == "R7KQ2M9XW4HT3P" and found["QRCode"].endswith("/r/R7KQ2M9XW4HT3P")


def test_receipt_preview_names_the_templates_when_one_is_unknown(tmp_path: Path) -> None:
    code, out = run(make_config(tmp_path), tmp_path / "data", "receipt", "preview", "nope")
    assert code == 1 and "referral_footer" in out
