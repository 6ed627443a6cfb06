"""Raw SQLite statements for the till hot path: compiled once, run on plain sqlite3 connections.

A quote on an SQLAlchemy ``Connection`` paid ~0.2 ms for pool checkout, the ``BEGIN`` event,
reset-on-return and per-statement bookkeeping — more than the SQL itself. Here each thread keeps
one plain ``sqlite3`` connection (same PRAGMAs as the engine's) and runs Core statements that
were compiled once, with the same bind and result type processing SQLAlchemy would apply.
``RawReader`` answers the few ``Connection`` methods the hot code uses (``execute(...)`` then
``first()``, ``one()``, ``scalar()``, ``rowcount``), so the same service code runs on either;
redemptions use it inside their write transaction too (``RawReaders.on``).
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import Dialect

from pos_referral.db.base import UTCDateTime

Processor = Callable[[Any], Any] | None
T = TypeVar("T")


class _UTCText:
    """A UTC time column's bind processor on SQLite: aware datetime -> SQLAlchemy's stored text.

    Same text as ``UTCDateTime`` then SQLite's ``DATETIME`` processor give (naive UTC,
    ``YYYY-MM-DD HH:MM:SS.ffffff``), in one step, remembered per instant: a redemption writes its
    ``now`` into a dozen columns and two or three other instants besides (expiry, hold), and
    converting each once instead of per column saves ~5 us a column. Datetimes are immutable and
    hash by value, so a remembered text is always right; the memo is cleared when it grows."""

    def __init__(self) -> None:
        self._memo: dict[datetime, str] = {}

    def __call__(self, value: datetime) -> str:
        text = self._memo.get(value)
        if text is None:
            if value.tzinfo is None:
                raise ValueError("naive datetime given to a UTC column")
            utc = value if value.tzinfo is UTC else value.astimezone(UTC)
            text = utc.replace(tzinfo=None).isoformat(" ", "microseconds")
            if len(self._memo) >= 64:
                self._memo.clear()
            self._memo[value] = text
        return text


_utc_text = _UTCText()  # shared by every compiled statement: one instant, converted once


class _Compiled:
    """One statement as SQL text with positional parameters and its type processors.

    Inserts and updates are compiled for one set of parameter names (as SQLAlchemy does); the
    columns' scalar defaults fill what the caller left out. Anything that needs per-execution
    rendering or Python-side default functions is refused at compile time, never run wrongly.
    """

    def __init__(self, stmt: sa.Executable, dialect: Dialect, keys: Sequence[str]) -> None:
        compiled = stmt.compile(dialect=dialect, column_keys=list(keys))  # type: ignore[attr-defined]
        self.sql = str(compiled)
        if "POSTCOMPILE" in self.sql:  # expanding IN lists are rendered per execution: not supported here
            raise ValueError(f"statement needs per-execution rendering: {self.sql}")
        prefetch = {c.key: c for c in [*(compiled.insert_prefetch or ()), *(compiled.update_prefetch or ())]}
        self._given: list[tuple[str, Any]] = []  # (name, default) per positional parameter
        self._processed: list[tuple[int, Callable[[Any], Any]]] = []  # (position, type processor), where one
        for i, name in enumerate(compiled.positiontup or ()):
            bind = compiled.binds[name]
            default = bind.value
            if bind.key in prefetch and bind.key not in keys:
                column_default = prefetch[bind.key].default
                if column_default is None or not column_default.is_scalar:
                    raise ValueError(f"column {bind.key} needs a default computed per row")
                default = column_default.arg
            proc = bind.type.dialect_impl(dialect).bind_processor(dialect)
            if isinstance(bind.type, UTCDateTime) and dialect.name == "sqlite":
                proc = _utc_text
            self._given.append((bind.key, default))
            if proc is not None:
                self._processed.append((i, proc))
        found: Any = getattr(stmt, "selected_columns", None) or getattr(stmt, "exported_columns", None)
        columns: list[Any] = list(found or ())
        self.results: list[Processor] = [col.type.dialect_impl(dialect).result_processor(dialect, None)
                                        for col in columns]
        self.has_processors = any(p is not None for p in self.results)

    def bind(self, values: Mapping[str, Any]) -> list[Any]:
        get = values.get
        out = [get(key, default) for key, default in self._given]
        for i, proc in self._processed:  # only the parameters with a type processor (times, JSON)
            value = out[i]
            if value is not None:
                out[i] = proc(value)
        return out

    def row(self, raw: Sequence[Any]) -> tuple[Any, ...]:
        if not self.has_processors:
            return tuple(raw)
        return tuple(v if p is None else p(v) for p, v in zip(self.results, raw, strict=True))


class RawResult:
    """The rows of one statement, fetched at once (hot-path statements return a row or a handful)."""

    def __init__(self, rows: list[tuple[Any, ...]], rowcount: int = -1) -> None:
        self._rows, self.rowcount = rows, rowcount

    def first(self) -> tuple[Any, ...] | None:
        return self._rows[0] if self._rows else None

    def one(self) -> tuple[Any, ...]:
        if not self._rows:
            raise sa.exc.NoResultFound("expected exactly one row")
        if len(self._rows) > 1:
            raise sa.exc.MultipleResultsFound("expected exactly one row")
        return self._rows[0]

    def scalar_one(self) -> Any:
        return self.one()[0]

    def scalar(self) -> Any:
        return self._rows[0][0] if self._rows else None

    def all(self) -> list[tuple[Any, ...]]:
        return list(self._rows)


_Cache = dict[tuple[Any, tuple[str, ...]], tuple[sa.Executable, _Compiled]]


class RawReader:
    """Core statements on a plain DBAPI connection, each compiled once, answering like ``Connection``.

    ``execute(stmt, params)`` takes one dict, or a list of dicts for executemany; constraint
    violations come out as SQLAlchemy's ``IntegrityError`` (``.orig`` is the driver's), as callers
    written for a ``Connection`` expect. It runs in whatever transaction the connection is in."""

    def __init__(self, conn: sqlite3.Connection, cache: _Cache, dialect: Dialect) -> None:
        self._conn, self._cache, self._dialect = conn, cache, dialect

    @property
    def dialect(self) -> Dialect:
        return self._dialect

    def _compiled(self, stmt: sa.Executable, keys: tuple[str, ...]) -> _Compiled:
        entry = self._cache.get((id(stmt), keys))
        if entry is not None and entry[0] is stmt:
            return entry[1]
        # a statement built per call (``sa.insert(table)``) with no bound values of its own: its
        # structure (SQLAlchemy's cache key) says everything, so one compilation serves every copy
        cache_key = stmt._generate_cache_key()  # type: ignore[attr-defined]
        shared = cache_key is not None and not cache_key.bindparams
        if shared and (found := self._cache.get((cache_key.key, keys))) is not None:
            return found[1]
        if len(self._cache) > 512:  # hot statements are module constants; this is only a guard
            self._cache.clear()
        compiled = _Compiled(stmt, self._dialect, keys)
        if shared:
            self._cache[(cache_key.key, keys)] = (stmt, compiled)
        else:
            self._cache[(id(stmt), keys)] = (stmt, compiled)  # holds the statement: its id stays unique
        return compiled

    def execute(self, stmt: sa.Executable,
                params: Mapping[str, Any] | Sequence[Mapping[str, Any]] | None = None) -> RawResult:
        # ``type(...) is dict`` first: isinstance against the Mapping ABC costs a microsecond a call
        many = not (params is None or type(params) is dict or isinstance(params, Mapping))
        rows_in: Sequence[Mapping[str, Any]] = [params or {}] if not many else params  # type: ignore[list-item,assignment]
        # keyed by the names as given (a call site always gives them in the same order): no sort per call
        compiled = self._compiled(stmt, tuple(rows_in[0]) if rows_in else ())
        args = [compiled.bind(r) for r in rows_in]
        try:
            cur = self._conn.executemany(compiled.sql, args) if many else self._conn.execute(compiled.sql, args[0])
        except sqlite3.IntegrityError as exc:
            raise sa.exc.IntegrityError(compiled.sql, args, exc) from None
        except sqlite3.OperationalError as exc:
            raise sa.exc.OperationalError(compiled.sql, args, exc) from None
        try:
            rows = [] if many else [compiled.row(r) for r in cur.fetchall()]
            return RawResult(rows, cur.rowcount)
        finally:
            cur.close()


class RawReaders:
    """One plain sqlite3 connection per thread over the read engine's database, closed by ``close()``."""

    def __init__(self, engine: sa.Engine, configure: Callable[[sqlite3.Connection], None], timeout: float) -> None:
        self._engine, self._configure, self._timeout = engine, configure, timeout
        self._local = threading.local()
        self._all: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        self._cache: _Cache = {}
        self._closed = False

    def _connection(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self._engine.url.database or ":memory:", timeout=self._timeout,
                                   isolation_level=None, check_same_thread=False)
            self._configure(conn)
            with self._lock:
                if self._closed:
                    conn.close()
                    raise RuntimeError("the database was closed")
                self._all.append(conn)
            self._local.conn = conn
        return conn

    def read(self, fn: Callable[[RawReader], T], *, snapshot: bool = True) -> T:
        """``fn(reader)`` in one consistent snapshot (WAL: never waits for a writer).

        ``snapshot=False`` runs each statement in its own snapshot instead (SQLite's autocommit
        read): no ``BEGIN``/``ROLLBACK`` round trips, for callers whose statements need not see
        one instant — a quote, whose answer the redemption re-checks in its write transaction."""
        conn = self._connection()
        if not snapshot:
            return fn(RawReader(conn, self._cache, self._engine.dialect))
        conn.execute("BEGIN")
        try:
            return fn(RawReader(conn, self._cache, self._engine.dialect))
        finally:
            conn.execute("ROLLBACK")

    def on(self, conn: sa.Connection) -> RawReader:
        """The same fast statements inside an engine connection's own transaction (a redemption's)."""
        driver = conn.connection.driver_connection
        assert isinstance(driver, sqlite3.Connection)
        return RawReader(driver, self._cache, self._engine.dialect)

    def close(self) -> None:
        with self._lock:
            self._closed = True
            conns, self._all = self._all, []
        for conn in conns:
            conn.close()
