"""A shop's copy of the shipped programs, with their prose in the shop's language (``pos-referral init``).

The shipped program's texts (headline, who may join, terms, FAQ) are English in the file and translated
in the catalogs; receipts print the program file's own words, so a Norwegian shop set up with
``init --language nb`` gets those words in Norwegian in its copy, which it may then edit.
"""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

from babel.messages.pofile import read_po

from pos_referral.resources import kiosk_ui_dir


def catalog(lang: str) -> dict[str, str]:
    """msgid -> translation of the shipped catalog for ``lang`` (empty for English or an unknown one)."""
    po = kiosk_ui_dir() / "translations" / lang / "LC_MESSAGES" / "messages.po"
    if lang == "en" or not po.is_file():
        return {}
    with po.open("rb") as fh:
        messages = read_po(fh, locale=lang)
    return {str(m.id): str(m.string) for m in messages
            if m.id and isinstance(m.id, str) and isinstance(m.string, str) and m.string and not m.fuzzy}


def _texts(program: dict[str, object]) -> list[str]:
    texts = program.get("texts")
    if not isinstance(texts, dict):
        return []
    found = [v for k, v in texts.items() if k != "faq" and isinstance(v, str)]
    for item in texts.get("faq") or []:
        if isinstance(item, dict):
            found += [v for v in (item.get("q"), item.get("a")) if isinstance(v, str)]
    return found


def translate_program_file(path: Path, lang: str) -> int:
    """Put the catalog's ``lang`` wording in place of each text of ``path`` the catalog knows; returns
    how many texts were translated (0 leaves the file untouched). Only whole quoted strings are replaced,
    as TOML basic strings, so comments and every other key stay as they were."""
    words = catalog(lang)
    text = path.read_text(encoding="utf-8")
    program = tomllib.loads(text)
    done = 0
    for original in _texts(program):
        translated = words.get(original)
        quoted = json.dumps(original, ensure_ascii=False)
        if translated and quoted in text:
            text = text.replace(quoted, json.dumps(translated, ensure_ascii=False))
            done += 1
    if done:
        tomllib.loads(text)  # still a valid program file
        path.write_text(text, encoding="utf-8")
    return done
