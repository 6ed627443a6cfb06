"""HTTP client for central (stdlib ``urllib``: no extra dependency on a POS machine), with timeouts.

``Unavailable`` means "try again later" (network down, timeout, 5xx, a connection cut mid-answer);
``Rejected`` means retrying the same request cannot help (bad token, malformed batch) and is
raised to the operator instead.
"""

from __future__ import annotations

import http.client
import json
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any, BinaryIO


class Unavailable(Exception):
    """Central could not be reached or did not answer in time; retry with backoff."""


class Rejected(Exception):
    """Central refused the request (4xx); the message says why."""


class CentralClient:
    def __init__(self, url: str, token: str, *, timeout: float = 15.0) -> None:
        self.base = url.rstrip("/")
        self._token = token
        self.timeout = timeout

    def __repr__(self) -> str:
        return f"CentralClient({self.base!r}, token=<hidden>)"

    def push(self, store_no: int, after: int, events_json: str) -> dict[str, Any]:
        """Send a batch; ``events_json`` is the events' JSON array, already encoded (see relay)."""
        body = f'{{"store_no":{int(store_no)},"after":{int(after)},"events":{events_json}}}'
        return self._call("POST", "/sync/v1/events", body.encode())

    def audit_head(self, store_no: int, head: dict[str, Any]) -> dict[str, Any]:
        """Send the store's audit head (entries, last_id, mac); central keeps it as a witness."""
        return self._call("POST", "/sync/v1/audit-head", json.dumps({"store_no": int(store_no), **head}).encode())

    def join(self, store_no: int, keyring: dict[str, Any], pepper: str, customers: int) -> dict[str, Any]:
        """A standalone shop joins: central adopts its code keys and pepper (central/joins.py)."""
        body = {"store_no": int(store_no), "keyring": keyring, "pepper": pepper, "customers": int(customers)}
        return self._call("POST", "/sync/v1/join", json.dumps(body).encode())

    def changes(self, since: int, keys_version: int, limit: int = 2000) -> dict[str, Any]:
        query = urllib.parse.urlencode({"since": since, "keys_version": keys_version, "limit": limit})
        return self._call("GET", f"/sync/v1/changes?{query}")

    def put_backup(self, store_no: int, path: Path, sha256: str, *, timeout: float = 600.0) -> dict[str, Any]:
        """Send a verified backup file (streamed from disk); central keeps the newest few per store."""
        query = urllib.parse.urlencode({"store_no": int(store_no), "name": path.name, "sha256": sha256})
        with path.open("rb") as body:
            return self._call("PUT", f"/sync/v1/backup?{query}", body, timeout=timeout, headers={
                "Content-Type": "application/vnd.sqlite3", "Content-Length": str(path.stat().st_size)})

    def _call(self, method: str, path: str, data: bytes | BinaryIO | None = None, *, timeout: float | None = None,
              headers: dict[str, str] | None = None) -> dict[str, Any]:
        req = urllib.request.Request(self.base + path, data=data, method=method, headers={
            "Authorization": f"Bearer {self._token}", "Content-Type": "application/json",
            "Accept": "application/json", **(headers or {})})
        try:
            with urllib.request.urlopen(req, timeout=timeout or self.timeout) as resp:
                raw = resp.read()
        except urllib.error.HTTPError as exc:
            detail = _problem_detail(exc.read()[:2000])
            if exc.code >= 500 or exc.code in (408, 429):
                raise Unavailable(f"central answered {exc.code}") from None
            raise Rejected(f"central refused {method} {path}: {exc.code} {detail}") from None
        except (urllib.error.URLError, OSError, http.client.HTTPException) as exc:
            raise Unavailable(f"central unreachable: {exc}") from None
        try:
            answer = json.loads(raw)
        except ValueError:
            raise Unavailable("central's answer was cut off or not JSON") from None
        if not isinstance(answer, dict):
            raise Unavailable("central's answer is not a JSON object")
        return answer


def _problem_detail(raw: bytes) -> str:
    """A problem+json answer's ``detail`` (what to do), else the start of the body."""
    try:
        body = json.loads(raw)
    except ValueError:
        body = None
    if isinstance(body, dict) and isinstance(body.get("detail"), str):
        return f"{body.get('code', '')}: {body['detail']}"
    return raw[:300].decode(errors="replace")
