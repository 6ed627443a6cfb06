"""Retention keeps the newest backup of each of the last N days, weeks and months, and nothing else."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from pos_referral.services.backups.backup import backup_name, taken_at, to_keep

START = datetime(2025, 1, 1, 3, 0, tzinfo=UTC)


def daily_backups(days: int, per_day: int = 1) -> list[Path]:
    return [Path(backup_name(1, START + timedelta(days=d, hours=h * 6)))
            for d in range(days) for h in range(per_day)]


def test_seven_daily_four_weekly_twelve_monthly_over_two_years() -> None:
    backups = daily_backups(730, per_day=2)
    keep = to_keep(backups, daily=7, weekly=4, monthly=12)
    times = sorted((t for p in keep if (t := taken_at(p))), reverse=True)
    newest = max(t for p in backups if (t := taken_at(p)))
    assert times[0] == newest
    assert {t.date() for t in times} >= {(newest - timedelta(days=d)).date() for d in range(7)}
    assert len({t.isocalendar()[:2] for t in times}) >= 4
    assert len({(t.year, t.month) for t in times}) == 12
    assert len(keep) <= 7 + 4 + 12
    assert min(times) > newest - timedelta(days=366)  # nothing older than a year is kept


def test_each_period_keeps_its_newest_backup() -> None:
    keep = to_keep(daily_backups(3, per_day=3), daily=3, weekly=0, monthly=0)
    assert sorted(t.hour for p in keep if (t := taken_at(p))) == [15, 15, 15]


def test_other_files_are_never_chosen_and_an_empty_folder_keeps_nothing() -> None:
    assert to_keep([], daily=7, weekly=4, monthly=12) == set()
    assert to_keep([Path("notes.txt"), Path("pos-referral.db")], daily=7, weekly=4, monthly=12) == set()
