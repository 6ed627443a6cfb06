"""``--log-level`` before or after the sub-command, and ``[log]`` checked with a message naming the key."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from pos_referral.cli import main
from pos_referral.config import ConfigError, load_settings


@pytest.fixture
def root_level() -> Iterator[None]:
    old = logging.getLogger().level
    yield
    logging.getLogger().setLevel(old)


@pytest.mark.parametrize("args", [["--log-level", "warning", "db", "purge"], ["db", "purge", "--log-level", "WARNING"]])
def test_log_level_option(config_path: Path, tmp_path: Path, args: list[str], root_level: None) -> None:
    result = CliRunner().invoke(main, ["--config", str(config_path), "--data-dir", str(tmp_path / "d"), *args])
    assert result.exit_code == 0, result.output
    assert logging.getLogger().level == logging.WARNING


def test_log_section_is_checked(config_path: Path, tmp_path: Path) -> None:
    settings = load_settings(config_path, data_dir=tmp_path / "d", environ={})
    assert settings.config.log.file == "pos-referral.log" and settings.config.log.level == "info"
    with pytest.raises(ConfigError, match="max_bytes"):
        load_settings(config_path, data_dir=tmp_path / "d", environ={"POS_REFERRAL_LOG__MAX_BYTES": "10"})
