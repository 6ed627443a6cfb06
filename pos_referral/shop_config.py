"""Write a shop's own configuration into its data folder (``pos-referral init``), never into the package.

The shop's ``store.toml`` is the shipped, commented one with the shop's answers put in place (every
comment kept, so the owner still reads what each key means); ``programs/`` and ``messages/`` are
copied beside it to edit.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pos_referral.config_sources import shipped_config_file, shop_config_file
from pos_referral.private_files import private_dir, replace_private
from pos_referral.program_language import translate_program_file

Values = Mapping[str, Mapping[str, Any]]
_SECTION = re.compile(r"^\s*\[([A-Za-z0-9_]+)\]")
_KEY = re.compile(r"^(?P<key>[A-Za-z0-9_]+)(?P<eq>\s*=\s*)(?P<rest>.*)$")


class ShopConfigExists(Exception):
    """The data folder already holds a shop's config; ``init --force`` replaces it."""


def toml_value(value: Any) -> str:
    """A Python value as TOML (strings in double quotes, escapes as JSON writes them, which TOML reads)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    return json.dumps(str(value), ensure_ascii=False)


def _split_value(rest: str) -> tuple[str, str]:
    """``'"a # b"   # comment'`` -> (the value, the spacing and comment after it)."""
    if rest.startswith('"'):
        i = 1
        while i < len(rest) and rest[i] != '"':
            i += 2 if rest[i] == "\\" else 1
        end = i + 1
    else:
        hash_at = rest.find("#")
        end = len(rest) if hash_at < 0 else len(rest[:hash_at].rstrip())
    return rest[:end], rest[end:]


def set_values(text: str, values: Values) -> str:
    """``text`` (a commented store.toml) with ``values`` put in place; comments and alignment kept."""
    pending = {section: dict(keys) for section, keys in values.items()}
    out: list[str] = []
    section = ""

    def flush(name: str) -> None:  # keys the file lacks go at the end of their section
        for key, value in pending.pop(name, {}).items():
            out.append(f"{key} = {toml_value(value)}")

    for line in text.splitlines():
        header = _SECTION.match(line)
        if header:
            flush(section)
            section = header.group(1)
        else:
            match = _KEY.match(line)
            if match and match.group("key") in pending.get(section, {}):
                old, tail = _split_value(match.group("rest"))
                new = toml_value(pending[section].pop(match.group("key")))
                if tail.strip():  # keep the comment in its column where the new value allows
                    tail = " " * max(1, len(old) + len(tail) - len(tail.lstrip()) - len(new)) + tail.lstrip()
                line = f"{match.group('key')}{match.group('eq')}{new}{tail}"
        out.append(line)
    flush(section)
    for name in list(pending):
        if pending[name]:
            out.append(f"\n[{name}]")
            flush(name)
    return "\n".join(out) + "\n"


def write_shop_config(data_dir: Path, values: Values, *, force: bool = False) -> Path:
    """Write ``<data_dir>/config/store.toml`` (the shipped one with ``values``) and copy the shipped
    ``programs/`` and ``messages/`` beside it; files the shop already has there are kept."""
    target = shop_config_file(data_dir)
    if target.exists() and not force:
        raise ShopConfigExists(f"{target} exists already (this shop is set up); use --force to replace it")
    private_dir(data_dir)
    target.parent.mkdir(exist_ok=True)
    shipped = shipped_config_file()
    programs = target.parent / "programs"
    had = {p.name for p in programs.glob("*.toml")} if programs.is_dir() else set()
    for name in ("programs", "messages"):
        shutil.copytree(shipped.parent / name, target.parent / name, dirs_exist_ok=True,
                        copy_function=_copy_if_missing, ignore=shutil.ignore_patterns("__pycache__"))
    language = str(values.get("store", {}).get("language") or "en")
    for program in sorted(programs.glob("*.toml")):
        if program.name not in had:  # the shop's own program files are the shop's words
            translate_program_file(program, language)
    replace_private(target, set_values(shipped.read_text(encoding="utf-8"), values).encode("utf-8"))
    return target


def _copy_if_missing(src: str, dst: str) -> object:
    if Path(dst).exists():
        return dst
    return shutil.copy2(src, dst)
