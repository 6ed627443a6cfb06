"""What every kept report summary shares: the quarter-hour bucket, local-day numbers, the zone mark,
and the connection flag that asks a report to read raw rows instead of the summaries.

The other modules of this package import from here and never from each other's internals, so the
package has no import cycle: ``quarter_hours`` catches everything up by calling each summary's
``refresh``; ``read`` reads the rollup and its days.
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles

from pos_referral.db.base import table
from pos_referral.db.models_reports import ReportWatermark

BUCKET_SECONDS = 900  # a quarter hour
RAW_KEY = "pos_referral.reports_raw"  # in ``conn.info``: this report reads the raw rows (tests, checks)
_EPOCH = date(1970, 1, 1)
_W = table(ReportWatermark)


def set_marks(conn: sa.Connection, marks: Mapping[str, int]) -> None:
    """Write each watermark ``source -> value`` (``report_watermarks``): updated, or inserted the first time."""
    for source, value in marks.items():
        if conn.execute(sa.update(_W).where(_W.c.source == source).values(value=value)).rowcount == 0:
            conn.execute(sa.insert(_W), {"source": source, "value": value})


def supported(conn: sa.Connection) -> bool:
    """Summaries are kept on the store's SQLite; central's reports read the raw rows."""
    return conn.dialect.name == "sqlite"


def instant(bucket: int) -> datetime:
    return datetime.fromtimestamp(bucket * BUCKET_SECONDS, UTC)


def aligned(moment: datetime) -> bool:
    return int(moment.timestamp()) % BUCKET_SECONDS == 0 and moment.microsecond == 0


class _Unindexed(sa.sql.functions.FunctionElement[Any]):
    """A column's own value that no index may drive the query with (``unindexed``)."""

    inherit_cache = True
    name = "unindexed"


@compiles(_Unindexed)
def _plain(element: _Unindexed, compiler: Any, **kw: Any) -> str:
    return str(compiler.process(element.clauses, **kw))


@compiles(_Unindexed, "sqlite")
def _plus(element: _Unindexed, compiler: Any, **kw: Any) -> str:
    return "+" + str(compiler.process(element.clauses, **kw))


def unindexed(column: Any) -> Any:
    """``+column`` on SQLite (the column itself elsewhere): the same value, but no index on it may drive the query.

    ``min(created_at) WHERE customer_id = ?`` would otherwise walk an index on ``created_at`` from its
    start until it meets the customer (the min/max shortcut): a scan of the table per customer; and
    ``kind = 'voucher_sale' AND sale_id = ?`` would walk every voucher sale by the (kind, at) index
    instead of the one sale by ``sale_id`` (SQLite has no statistics to tell which is narrower).
    PostgreSQL has no unary ``+`` for text or timestamps and plans by its statistics: the column as it is.
    """
    return sa.type_coerce(_Unindexed(column), column.type)


def zone_mark(tz: ZoneInfo) -> int:
    return zlib.crc32(tz.key.encode())


def day_number(day: date) -> int:
    return (day - _EPOCH).days


def day_of(number: int) -> date:
    """The local day a ``day_number`` stands for."""
    return _EPOCH + timedelta(days=number)
