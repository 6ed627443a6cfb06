"""The six languages: every catalog complete, placeholders intact, compiled without a manual step."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from pos_referral.resources import kiosk_ui_dir
from pos_referral.web.i18n import LANGUAGES, compile_catalogs

SOURCE = kiosk_ui_dir() / "translations"
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]")
ROOT = Path(__file__).resolve().parents[2]


def _extracted() -> set[str]:
    """Every message the pages and their Python use today (what ``pybabel extract`` with babel.cfg finds)."""
    from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
    from babel.messages.frontend import parse_mapping_cfg

    with (SOURCE / "babel.cfg").open(encoding="utf-8") as fh:
        method_map, options_map = parse_mapping_cfg(fh)
    keywords = {**DEFAULT_KEYWORDS, "_l": None}
    found = extract_from_dir(str(ROOT), method_map, options_map, keywords=keywords)
    return {message if isinstance(message, str) else message[0] for _f, _l, message, _c, _x in found}


def _ids() -> set[str]:
    with (SOURCE / "messages.pot").open("rb") as fh:
        return {m.id if isinstance(m.id, str) else m.id[0] for m in read_po(fh) if m.id}


@pytest.mark.parametrize("lang", [code for code in LANGUAGES if code != "en"])
def test_catalog_translates_every_message_with_the_same_placeholders(lang: str) -> None:
    with (SOURCE / lang / "LC_MESSAGES" / "messages.po").open("rb") as fh:
        catalog = read_po(fh, locale=lang)
    done = {}
    for message in catalog:
        if not message.id:
            continue
        key = message.id if isinstance(message.id, str) else message.id[0]
        strings = tuple(message.string) if isinstance(message.string, (tuple, list)) else (str(message.string),)
        assert all(strings), f"{lang}: untranslated {key!r}"
        want = sorted(set(PLACEHOLDER.findall(key)))
        for text in strings:
            assert sorted(set(PLACEHOLDER.findall(text))) == want, f"{lang}: {key!r} -> {text!r}"
        done[key] = strings
    assert _ids() <= set(done), f"{lang}: missing {sorted(_ids() - set(done))[:5]}"


def test_catalogs_compile_once_into_the_data_folder(tmp_path: Path) -> None:
    langs = compile_catalogs(SOURCE, tmp_path)
    assert sorted(langs) == sorted(code for code in LANGUAGES if code != "en")
    mo = tmp_path / "pl" / "LC_MESSAGES" / "messages.mo"
    stamp = mo.stat().st_mtime_ns
    compile_catalogs(SOURCE, tmp_path)
    assert mo.stat().st_mtime_ns == stamp  # fresh: not rewritten at the next start


def test_the_template_and_every_catalog_hold_every_message_in_use() -> None:
    """A label added to a page or a view without a catalog entry fails here, not in front of a customer."""
    used = _extracted()
    assert used - _ids() == set(), "run the pybabel extract line in babel.cfg"
    for lang in (code for code in LANGUAGES if code != "en"):
        with (SOURCE / lang / "LC_MESSAGES" / "messages.po").open("rb") as fh:
            translated = {m.id if isinstance(m.id, str) else m.id[0]
                          for m in read_po(fh, locale=lang) if m.id and m.string}
        assert used - translated == set(), f"{lang}: untranslated {sorted(used - translated)[:5]}"
