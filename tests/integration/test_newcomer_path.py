"""A new shop owner's first day, end to end: ``pip install .`` into a fresh venv, ``init`` with flags,
``serve``, a sale whose receipt QR holds the shop's public address, and a config edit after a restart."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import sysconfig
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import zxingcpp
from PIL import Image

from pos_referral.shop_config import set_values
from tests.server_support import free_port

REPO = Path(__file__).resolve().parents[2]
PUBLIC = "http://192.0.2.10"  # a documentation address: what the owner typed for the shop's Wi-Fi


def _run(*args: str | Path, cwd: Path) -> str:
    out = subprocess.run([str(a) for a in args], capture_output=True, text=True, timeout=600, cwd=cwd)
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-2000:]
    return out.stdout


@pytest.fixture
def fresh_venv(tmp_path: Path) -> Path:
    """A new venv with the worktree installed by ``pip install .``; its dependencies come from this test's
    venv through a .pth line (no network), but pos_referral itself only from the fresh install."""
    venv = tmp_path / "venv"
    _run(sys.executable, "-m", "venv", venv, cwd=tmp_path)
    site = next(venv.glob("lib/python*/site-packages"))
    (site / "_deps_from_test_venv.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    _run(venv / "bin" / "python", "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation", REPO, cwd=tmp_path)
    return venv / "bin" / "pos-referral"


class Shop:
    def __init__(self, command: Path, data: Path, port: int, cwd: Path) -> None:
        self.command, self.data, self.port, self.cwd = command, data, port, cwd
        self.proc: subprocess.Popen[str] | None = None
        self.token = ""

    def cli(self, *args: str) -> str:
        return _run(self.command, "--data-dir", self.data, *args, cwd=self.cwd)

    def start(self) -> None:
        self.proc = subprocess.Popen([str(self.command), "--data-dir", str(self.data), "serve"], cwd=self.cwd,
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/healthz", timeout=1):
                    return
            except OSError:
                assert self.proc.poll() is None, self.stop()
                time.sleep(0.1)
        raise AssertionError(f"serve did not answer: {self.stop()}")

    def stop(self) -> str:
        assert self.proc is not None
        self.proc.terminate()
        said, _ = self.proc.communicate(timeout=30)
        return said

    def post(self, path: str, body: dict[str, Any], **headers: str) -> dict[str, Any]:
        request = urllib.request.Request(f"http://127.0.0.1:{self.port}{path}", data=json.dumps(body).encode(),
                                         headers={"Authorization": f"Bearer {self.token}",
                                                  "Content-Type": "application/json", **headers})
        with urllib.request.urlopen(request, timeout=30) as answer:
            return dict(json.loads(answer.read()))

    def receipt(self, template: str, suffix: str) -> Path:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            found = sorted((self.data / "receipts").glob(f"*-{template}.{suffix}"))
            if found and (self.data / "receipts" / f"{found[-1].stem}.bin").exists():  # .bin: the job is done
                return found[-1]
            time.sleep(0.1)
        raise AssertionError(f"no {template} receipt printed")


@pytest.fixture
def shop(fresh_venv: Path, tmp_path: Path) -> Iterator[Shop]:
    elsewhere = tmp_path / "elsewhere"  # not the checkout: the installed copy must find its own files
    elsewhere.mkdir()
    made = Shop(fresh_venv, tmp_path / "shop-data", free_port(), elsewhere)
    yield made
    if made.proc is not None and made.proc.poll() is None:
        made.stop()


@pytest.mark.slow
def test_a_new_shop_installs_sets_up_sells_and_edits_its_config(shop: Shop) -> None:
    public = f"{PUBLIC}:{shop.port}"
    said = shop.cli("init", "--yes", "--name", "Corner Shop", "--language", "en", "--currency", "EUR",
                    "--timezone", "Europe/Oslo", "--public-url", public, "--port", str(shop.port),
                    "--manager-name", "Kari", "--manager-password", "a long password", "--manager-pin", "246813")
    config = shop.data / "config" / "store.toml"
    assert str(config) in said and "site-packages" not in said
    shop.token = shop.cli("till", "add", "T1").strip().splitlines()[-1]

    shop.start()
    referrer = shop.post("/api/v1/referral-codes", {"customer": {"phone": "+4791234567", "first_name": "Ann"},
                                                    "channel": "receipt"})
    shop.post("/api/v1/redemptions", {"code": referrer["code"], "sale_id": "S1", "basket_total": "50.00",
                                      "customer": {"phone": "+4798765432", "first_name": "Bob"}},
              **{"Idempotency-Key": "first-sale"})
    footer = Image.open(io.BytesIO(shop.receipt("referral_footer", "png").read_bytes()))
    [qr] = [r.text for r in zxingcpp.read_barcodes(footer.convert("L")) if r.format.name == "QRCode"]
    assert qr.startswith(f"{public}/r/")  # a phone on the shop's network can open it
    started = shop.stop()
    assert f"Config: {config}" in started and f"Receipts' QR codes point at: {public}" in started
    assert "Traceback" not in started and "Warning" not in started  # quiet when healthy

    config.write_text(set_values(config.read_text(), {"store": {"name": "Corner Shop North"}}))
    shop.start()
    shop.post("/api/v1/referral-codes", {"customer": {"phone": "+4791111111", "first_name": "Cy"},
                                         "channel": "receipt", "print": "card"})
    assert "Corner Shop North" in shop.receipt("referral_card", "txt").read_text()
    assert "Corner Shop North" in urllib.request.urlopen(f"http://127.0.0.1:{shop.port}/r/{referrer['code']}",
                                                         timeout=10).read().decode()
    [installed] = shop.command.parents[1].glob("lib/*/site-packages/pos_referral/_data/config/store.toml")
    assert installed.read_text() == (REPO / "config" / "store.toml").read_text()  # the package stays as shipped
    assert os.stat(shop.data).st_mode & 0o077 == 0  # the data folder is the owner's only
