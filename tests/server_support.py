"""Run the real ``pos-referral serve`` in a subprocess for reliability tests and benchmarks."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pos_referral.resources import config_dir


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def make_config(root: Path, replace_program: dict[str, str] | None = None, store_extra: str = "") -> Path:
    target = root / "config"
    shutil.copytree(config_dir(), target)
    prog = target / "programs" / "bring-a-friend.toml"
    text = prog.read_text()
    for old, new in (replace_program or {}).items():
        text = text.replace(old, new)
    prog.write_text(text)
    store = target / "store.toml"
    store.write_text(store.read_text().replace('type = "preview"', 'type = "none"') + store_extra)
    return store


def cli(config: Path, data_dir: Path, *args: str) -> str:
    out = subprocess.run(
        [sys.executable, "-m", "pos_referral", "--config", str(config), "--data-dir", str(data_dir), *args],
        check=True, capture_output=True, text=True, timeout=120,
    )
    return out.stdout


@dataclass
class Server:
    config: Path
    data_dir: Path
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen[bytes] | None = None
    token: str = ""

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def add_till(self, till_id: str = "T1") -> str:
        self.token = cli(self.config, self.data_dir, "till", "add", till_id).strip().splitlines()[-1]
        return self.token

    def start(self, threads: int = 8) -> None:
        env = {**os.environ, "POS_REFERRAL_SERVER__THREADS": str(threads)}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "pos_referral", "--config", str(self.config), "--data-dir", str(self.data_dir),
             "serve", "--port", str(self.port)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(self.base + "/healthz", timeout=1) as r:
                    if r.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.05)
        raise RuntimeError("server did not start")

    def kill9(self) -> None:
        assert self.proc is not None
        self.proc.kill()
        self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()

    def call(self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None,
             timeout: float = 30) -> tuple[int, Any]:
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.base + path, data=data, method=method, headers={
            "Authorization": f"Bearer {self.token}", "Content-Type": "application/json", **(headers or {})})
        try:
            with urllib.request.urlopen(req, timeout=timeout) as r:
                return r.status, json.loads(r.read() or b"null")
        except urllib.error.HTTPError as e:
            raw = e.read()
            try:
                return e.code, json.loads(raw)
            except ValueError:
                return e.code, raw.decode(errors="replace")
