"""The bare baseline for bench/till_latency.py: a minimal WSGI app under the same server.

GET /read does one SQLite read; POST /write does one durable SQLite write (WAL, synchronous=FULL),
with the same connection settings as the store service. Run: python bench/baseline_app.py DB PORT THREADS [MODE]
MODE ``flask``: the read behind an empty Flask route; ``inline``: GET /read answered on waitress's
loop thread (``pos_referral.web.waitress_inline``, as the store service answers quotes).
"""

from __future__ import annotations

import sqlite3
import sys
import threading
from collections.abc import Callable, Iterable
from typing import Any

import waitress

_local = threading.local()


def _conn(path: str) -> sqlite3.Connection:
    conn = getattr(_local, "conn", None)
    if conn is None:
        conn = sqlite3.connect(path, isolation_level=None, timeout=30, check_same_thread=False)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=FULL")
        conn.execute("PRAGMA busy_timeout=30000")
        _local.conn = conn
    return conn


def make_app(path: str) -> Callable[..., Iterable[bytes]]:
    setup = sqlite3.connect(path)
    setup.execute("PRAGMA journal_mode=WAL")
    setup.execute("CREATE TABLE IF NOT EXISTS codes (code TEXT PRIMARY KEY, owner TEXT)")
    setup.execute("CREATE TABLE IF NOT EXISTS writes (id INTEGER PRIMARY KEY, body TEXT)")
    setup.execute("INSERT OR IGNORE INTO codes VALUES ('0ABCDEFGHJKMNP', 'x')")
    setup.commit()
    setup.close()

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        conn = _conn(path)
        if environ["REQUEST_METHOD"] == "POST":
            length = int(environ.get("CONTENT_LENGTH") or 0)
            body = environ["wsgi.input"].read(length)
            conn.execute("BEGIN IMMEDIATE")
            conn.execute("INSERT INTO writes (body) VALUES (?)", (body.decode(),))
            conn.execute("COMMIT")
            payload = b'{"ok": true}'
        else:
            row = conn.execute("SELECT owner FROM codes WHERE code = ?", ("0ABCDEFGHJKMNP",)).fetchone()
            payload = b'{"owner": "%s"}' % row[0].encode()
        start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(payload)))])
        return [payload]

    return app


def make_flask_app(path: str) -> Callable[..., Iterable[bytes]]:
    """The same read behind an empty Flask route: the framework's own floor, for context."""
    from flask import Flask, jsonify, request

    make_app(path)  # creates the tables
    app = Flask("floor")

    @app.post("/read")
    def read() -> Any:
        request.get_json(silent=True)
        row = _conn(path).execute("SELECT owner FROM codes WHERE code = ?", ("0ABCDEFGHJKMNP",)).fetchone()
        return jsonify({"owner": row[0]})

    return app


if __name__ == "__main__":
    import logging

    logging.getLogger("waitress.queue").setLevel(logging.ERROR)
    db, port, threads = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    mode = sys.argv[4] if len(sys.argv) > 4 else ""
    if mode == "inline":  # GET /read answered on waitress's loop thread, as the store service answers quotes
        from pos_referral.web import waitress_inline

        waitress_inline.create(make_app(db), lambda method, path: method == "GET" and path == "/read",
                               host="127.0.0.1", port=port, threads=threads).run()
    else:
        factory = make_flask_app if mode == "flask" else make_app
        waitress.serve(factory(db), host="127.0.0.1", port=port, threads=threads, _quiet=True)
