"""Schema through Alembic (up and down), the CLI, and a wheel that works outside the checkout."""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from pos_referral.db import migrate
from pos_referral.db.engine import open_database, sqlite_url
from tests.server_support import make_config


def test_migrations_go_up_to_head_and_down_to_base(tmp_path: Path) -> None:
    db = open_database(sqlite_url(tmp_path))
    try:
        migrate.upgrade(db)
        assert migrate.current_revision(db) == migrate.head_revision()
        assert {"codes", "redemptions", "rewards", "ledger", "outbox", "print_jobs"} <= migrate.table_names(db)
        migrate.downgrade(db, "base")
        assert migrate.current_revision(db) is None
        assert migrate.table_names(db) <= {"alembic_version"}
        migrate.upgrade(db)
        assert migrate.current_revision(db) == migrate.head_revision()
    finally:
        db.dispose()


def test_models_and_migrations_agree(tmp_path: Path) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from pos_referral.db.base import Base

    db = open_database(sqlite_url(tmp_path))
    try:
        migrate.upgrade(db)
        with db.write_engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
        assert diff == []
    finally:
        db.dispose()


def _run(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, capture_output=True, text=True, timeout=300, cwd=cwd, env=env)


def test_till_add_prints_the_token_as_last_line(tmp_path: Path) -> None:
    config = make_config(tmp_path)
    out = _run(sys.executable, "-m", "pos_referral", "--config", str(config), "--data-dir", str(tmp_path / "d"),
               "till", "add", "T1")
    assert out.returncode == 0, out.stderr
    token = out.stdout.strip().splitlines()[-1]
    assert token.startswith("till_") and len(token) > 40
    assert token not in (tmp_path / "d" / "pos-referral.db").read_bytes().decode(errors="replace")


@pytest.mark.slow
def test_config_and_data_dir_also_work_after_the_sub_command(tmp_path: Path) -> None:
    """``pos-referral serve --data-dir X`` (as the issue writes it) and ``pos-referral --data-dir X serve``."""
    config = make_config(tmp_path)
    out = _run(sys.executable, "-m", "pos_referral", "till", "add", "T1", "--config", str(config),
               "--data-dir", str(tmp_path / "after"))
    assert out.returncode == 0, out.stderr
    assert (tmp_path / "after" / "pos-referral.db").exists()
    bad = make_config(tmp_path / "bad")
    bad.write_text(bad.read_text() + "\n[scanner2]\nx = 1\n")
    out = _run(sys.executable, "-m", "pos_referral", "serve", "--config", str(bad), "--port", "1")
    assert out.returncode != 0 and "scanner2" in out.stderr  # serve read the config named after it


def test_config_error_stops_start_up_with_one_clear_line(tmp_path: Path) -> None:
    config = make_config(tmp_path)
    config.write_text(config.read_text() + "\n[scanner2]\nx = 1\n")
    out = _run(sys.executable, "-m", "pos_referral", "--config", str(config), "serve")
    assert out.returncode != 0
    lines = [line for line in out.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "store.toml" in lines[0] and "scanner2" in lines[0] and "unknown key" in lines[0]


@pytest.mark.slow
def test_wheel_installed_elsewhere_carries_templates_ui_and_config(tmp_path: Path) -> None:
    repo = Path(__file__).resolve().parents[2]
    build = _run(sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-w", str(tmp_path / "w"),
                 str(repo))
    assert build.returncode == 0, build.stderr[-2000:]
    wheel = next((tmp_path / "w").glob("pos_referral-*.whl"))
    target = tmp_path / "site"
    inst = _run(sys.executable, "-m", "pip", "install", "--no-deps", "--target", str(target), str(wheel))
    assert inst.returncode == 0, inst.stderr[-2000:]
    # the wheel's package first, this venv's dependencies after it; run from an unrelated folder
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(target), sysconfig.get_paths()["purelib"]])}
    work = tmp_path / "elsewhere"
    work.mkdir()
    probe = _run(sys.executable, "-c", "import pos_referral, pos_referral.resources as r; "
                 "print(pos_referral.__file__); print(r.config_dir()); print(r.templates_dir()); "
                 "print(r.kiosk_ui_dir())",
                 cwd=work, env=env)
    assert probe.returncode == 0, probe.stderr
    paths = probe.stdout.split()
    assert paths[0].startswith(str(target))
    for folder in paths[1:]:
        assert folder.startswith(str(target)) and Path(folder).is_dir() and any(Path(folder).iterdir())
    out = _run(sys.executable, "-m", "pos_referral", "--data-dir", str(tmp_path / "d"), "till", "add", "T9",
               cwd=work, env=env)
    assert out.returncode == 0, out.stderr
