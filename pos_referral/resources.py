"""Where the shipped data folders live: beside the package in a checkout, inside it in a wheel.

``printer_templates/``, ``kiosk_ui/`` and ``config/`` sit at the top of the repository so a shop
can find and edit them; ``setup.py`` copies them into ``pos_referral/_data/`` when a wheel is
built, so ``pip install .`` (not editable) carries them along.
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def _find(name: str) -> Path:
    checkout = _PACKAGE.parent / name
    if checkout.is_dir():
        return checkout
    return _PACKAGE / "_data" / name


def templates_dir() -> Path:
    """Receipt layouts (``*.receipt``)."""
    return _find("printer_templates")


def kiosk_ui_dir() -> Path:
    """HTML templates and static files of the till, kiosk, landing and manager pages."""
    return _find("kiosk_ui")


def config_dir() -> Path:
    """The shipped defaults (``store.toml``, ``programs/``, ``messages/``): read-only. A shop's own copy
    lives in ``<data_dir>/config/`` (``pos-referral init``; config_sources.locate)."""
    return _find("config")
