"""Where each configuration value comes from: which ``store.toml``, or which environment variable.

The shop's configuration lives with its data (``<data_dir>/config/store.toml``, written by
``pos-referral init``); the package's own ``config/`` holds the shipped defaults, read-only. A value
from the environment (``POS_REFERRAL_<SECTION>__<KEY>``) is blamed on that variable, not on the file.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from pos_referral.resources import config_dir

ENV_PREFIX = "POS_REFERRAL_"
DEFAULT_DATA_DIR = "data"  # [server] data_dir of the shipped store.toml


class ConfigError(Exception):
    """Raised with a one-line, human message naming the file and key (or the environment variable)."""


def shop_config_file(data_dir: Path) -> Path:
    """Where ``init`` puts a shop's own ``store.toml`` (``programs/`` and ``messages/`` beside it)."""
    return data_dir / "config" / "store.toml"


def shipped_config_file() -> Path:
    """The package's commented defaults: read, never written."""
    return config_dir() / "store.toml"


@dataclass(frozen=True)
class Location:
    """The ``store.toml`` to read; ``data_dir`` is set when the data folder itself holds it."""

    path: Path
    shipped: bool = False
    data_dir: Path | None = None


def locate(config_path: Path | None, data_dir: Path | None, environ: Mapping[str, str]) -> Location:
    """``--config`` (or ``POS_REFERRAL_CONFIG``) if given, else ``<data_dir>/config/store.toml`` if the
    shop has one, else the shipped defaults."""
    if config_path is None and environ.get(ENV_PREFIX + "CONFIG"):
        config_path = Path(environ[ENV_PREFIX + "CONFIG"])
    if config_path is not None:
        path = Path(config_path)
        return Location(path / "store.toml" if path.is_dir() else path)
    folder = data_dir or Path(environ.get(ENV_PREFIX + "DATA_DIR") or environ.get(ENV_PREFIX + "SERVER__DATA_DIR")
                              or DEFAULT_DATA_DIR)
    own = shop_config_file(folder)
    if own.is_file():
        return Location(own, data_dir=folder)
    return Location(shipped_config_file(), shipped=True)


def read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise ConfigError(f"{path}: file not found") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc})") from None


def _coerce_env(value: str) -> Any:
    lowered = value.lower()
    if lowered in {"true", "false"}:
        return lowered == "true"
    for cast in (int, float):
        try:
            return cast(value)
        except ValueError:
            pass
    return value


@dataclass
class Sources:
    """Which values did not come from the file: ``(section, key)`` -> the variable or option that set it."""

    file: Path
    by_key: dict[tuple[str, ...], str] = field(default_factory=dict)

    def describe(self, err: ValidationError) -> str:
        """One line: the source (file or variable), the key, and what was wrong."""
        first = err.errors()[0]
        loc = tuple(str(p) for p in first["loc"])
        key = ".".join(loc) or "(top level)"
        msg = "unknown key" if first["type"] == "extra_forbidden" else str(first["msg"])
        msg = msg.removeprefix("Value error, ")
        source = self.by_key.get(loc[:2]) or self.by_key.get(loc[:1])
        if source:
            return f"{source}: {key}: {msg}"
        also = sorted({v for k, v in self.by_key.items() if loc and k[0] == loc[0] and v.startswith("environment")})
        suffix = f" (also set: {', '.join(also)})" if also else ""
        return f"{self.file}: {key}: {msg}{suffix}"


def apply_env(raw: dict[str, Any], environ: Mapping[str, str], sources: Sources) -> dict[str, Any]:
    """``POS_REFERRAL_PRINTER__TYPE=network`` sets ``[printer] type``; ``sources`` remembers it."""
    merged = {k: dict(v) if isinstance(v, dict) else v for k, v in raw.items()}
    for name, value in sorted(environ.items()):
        if not name.startswith(ENV_PREFIX) or "__" not in name:
            continue
        section, _, key = name[len(ENV_PREFIX) :].lower().partition("__")
        where = f"environment variable {name}"
        if section not in merged:
            sources.by_key[(section,)] = where
        merged.setdefault(section, {})
        if isinstance(merged[section], dict):
            merged[section][key] = _coerce_env(value)
        sources.by_key[(section, key)] = where
    return merged


def apply_overrides(raw: dict[str, Any], overrides: Mapping[str, Mapping[str, Any]] | None,
                    sources: Sources) -> None:
    """Command-line options (``serve --port``) over the file and the environment."""
    for section, values in (overrides or {}).items():
        raw.setdefault(section, {}).update(values)
        for key in values:
            sources.by_key[(section, key)] = f"option --{key}"


def environment() -> Mapping[str, str]:
    """The process environment (read when settings are loaded, never at import)."""
    return os.environ
