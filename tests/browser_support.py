"""Real-browser test support: the app under waitress on a loopback port, headless Debian Chromium.

Browser tests skip when Chromium or Playwright is missing, except with ``CI=true``, where a
missing browser is a failure (CI must run them).
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import waitress

CHROMIUM = os.environ.get("POS_REFERRAL_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
IN_CI = os.environ.get("CI", "").lower() == "true"


def missing_browser() -> str | None:
    """Why browser tests cannot run here, or None."""
    if importlib.util.find_spec("playwright") is None:
        return "playwright (Python) is not installed"
    if not (os.path.exists(CHROMIUM) or shutil.which(CHROMIUM)):
        return f"no Chromium at {CHROMIUM}"
    return None


def require_browser() -> None:
    reason = missing_browser()
    if reason is None:
        return
    if IN_CI:
        pytest.fail(f"browser tests must run in CI: {reason}")
    pytest.skip(reason)


WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class LiveServer:
    """A WSGI app under stock waitress, as ``pos-referral serve`` runs it, in a thread."""

    def __init__(self, app: WSGIApp, threads: int = 8) -> None:
        self.server: Any = waitress.create_server(app, host="127.0.0.1", port=0, threads=threads,
                                                  ident="pos-referral-test", channel_timeout=30,
                                                  asyncore_use_poll=True)
        self.port = int(self.server.effective_port)
        self._thread = threading.Thread(target=self.server.run, name="live-server", daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> LiveServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        """Finish the answers in flight, stop listening, and wait for the loop to end: it ends once the
        browser (closed first) has closed its connections."""
        self.server.task_dispatcher.shutdown(timeout=5)
        self.server.close()
        self._thread.join(timeout=10)
        if self._thread.is_alive():
            raise RuntimeError("live server did not stop within 10 s")


@contextmanager
def live_server(app: WSGIApp) -> Iterator[LiveServer]:
    server = LiveServer(app).start()
    try:
        yield server
    finally:
        server.stop()


@contextmanager
def chromium() -> Iterator[Any]:
    """A headless Chromium browser (Playwright), closed afterwards."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield browser
        finally:
            browser.close()
