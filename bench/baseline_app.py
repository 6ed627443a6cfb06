"""The baseline for bench/till_latency.py: a minimal Flask app under stock waitress.

POST /read does one SQLite read with SQLAlchemy Core, the read a quote is measured against;
POST /write does one durable insert in its own ``BEGIN IMMEDIATE`` transaction, for context.
Connections get the store's settings (``configure_sqlite``: WAL, synchronous=FULL, busy timeout,
foreign keys). A target must be met through Flask, so the baseline goes through Flask too.

    python bench/baseline_app.py DB PORT THREADS
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Any

import sqlalchemy as sa
import waitress
from flask import Flask, Response, jsonify, request
from sqlalchemy import event

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pos_referral.db.engine import BUSY_TIMEOUT_MS, configure_sqlite

CODE = "0ABCDEFGHJKMNP"  # the one row of the codes table

metadata = sa.MetaData()
codes = sa.Table("codes", metadata, sa.Column("code", sa.String, primary_key=True), sa.Column("owner", sa.String))
writes = sa.Table("writes", metadata, sa.Column("id", sa.Integer, primary_key=True), sa.Column("body", sa.String))
READ_OWNER = sa.select(codes.c.owner).where(codes.c.code == sa.bindparam("code"))
ADD_WRITE = sa.insert(writes).values(body=sa.bindparam("body"))


def make_engine(path: Path, pool_size: int) -> sa.Engine:
    """An engine on ``path`` whose connections get the store's settings; one pooled connection per thread."""
    engine = sa.create_engine(f"sqlite:///{path.as_posix()}", pool_size=pool_size,
                              connect_args={"check_same_thread": False, "timeout": BUSY_TIMEOUT_MS / 1000})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        configure_sqlite(dbapi_conn)  # also turns the driver's own BEGIN off: writes say BEGIN IMMEDIATE

    return engine


def read_owner(engine: sa.Engine, code: str) -> str:
    with engine.connect() as conn:
        return str(conn.execute(READ_OWNER, {"code": code}).scalar_one())


def add_write(engine: sa.Engine, body: str) -> None:
    """One insert in its own transaction, durable once ``commit`` returns (synchronous=FULL)."""
    with engine.connect() as conn:
        conn.exec_driver_sql("BEGIN IMMEDIATE")
        conn.execute(ADD_WRITE, {"body": body})
        conn.commit()


def create_app(engine: sa.Engine) -> Flask:
    """The two routes over ``engine``, with the tables created and the one code row in place."""
    metadata.create_all(engine)
    with engine.connect() as conn:
        conn.execute(sa.insert(codes).prefix_with("OR IGNORE").values(code=CODE, owner="x"))
        conn.commit()
    app = Flask(__name__)

    @app.post("/read")
    def read() -> Response:
        """The owner of the code in the JSON body: one read."""
        return jsonify({"owner": read_owner(engine, request.get_json()["code"])})

    @app.post("/write")
    def write() -> Response:
        """The JSON body kept in one durable insert."""
        add_write(engine, request.get_data(as_text=True))
        return jsonify({"ok": True})

    return app


def main() -> None:
    db, port, threads = Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)  # as `pos-referral serve` does
    waitress.serve(create_app(make_engine(db, threads)), host="127.0.0.1", port=port, threads=threads)


if __name__ == "__main__":
    main()
