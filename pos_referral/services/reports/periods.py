"""Rows per day, or per week when a range is long: a year of daily rows is 365 lines nobody reads.

The report itself stays per day (CSV and JSON keep every day); the dashboard page and its chart show a
range of more than ``DAILY_ROWS_AT_MOST`` days as weeks, Monday to Sunday, the first and last week cut
to the range so no count from outside it creeps in.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

DAILY_ROWS_AT_MOST = 60


def weekly(rows: list[dict[str, Any]], *, day_key: str = "day") -> list[dict[str, Any]]:
    """Daily rows (``day`` an ISO date, every other value a count) summed per week.

    Each week's row has ``week`` ("2026-01-05 to 2026-01-11", cut to the days present), ``day`` (its
    first day, for charts and links) and ``days`` (how many days it holds: a cut week is shorter)."""
    weeks: dict[date, dict[str, Any]] = {}
    for row in rows:
        day = date.fromisoformat(str(row[day_key]))
        monday = day - timedelta(days=day.weekday())
        week = weeks.get(monday)
        if week is None:
            week = weeks[monday] = {"day": day.isoformat(), "last": day.isoformat(), "days": 0}
        week["last"] = day.isoformat()
        week["days"] += 1
        for key, value in row.items():
            if key != day_key and isinstance(value, int):
                week[key] = week.get(key, 0) + value
    out = []
    for monday in sorted(weeks):
        week = weeks[monday]
        week["week"] = f"{week['day']} to {week.pop('last')}"
        out.append(week)
    return out


def readable(rows: list[dict[str, Any]]) -> tuple[str, list[dict[str, Any]]]:
    """("day", rows) for a short range, ("week", weekly rows) past ``DAILY_ROWS_AT_MOST`` days."""
    if len(rows) > DAILY_ROWS_AT_MOST:
        return "week", weekly(rows)
    return "day", rows
