"""What a printer model can do (from python-escpos capability profiles) and the code page we pin for it.

python-escpos can guess a code page per character ("magic" encoding) and switch pages mid-line; we
never let it: one code page per printer and language, chosen here, announced once with ``ESC t n``,
and every line encoded by us. A currency sign the pinned page lacks is printed as its ISO code ("EUR");
any other line it cannot hold (Thai) is drawn as a picture instead.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

logger = logging.getLogger(__name__)

# Per language, the code pages we accept, best first (all have the language's letters).
PREFERRED_CODE_PAGES: Mapping[str, tuple[str, ...]] = {
    "en": ("CP858", "CP437"),
    "id": ("CP858", "CP437"),
    "nb": ("CP865", "CP858"),
    "it": ("CP858",),
    "pl": ("CP852",),
    "th": (),  # no common thermal printer has a Thai page we can trust: Thai is drawn as a picture
}


class UnknownProfileError(ValueError):
    """The configured printer profile is not among python-escpos's capability profiles."""


@dataclass(frozen=True)
class CodePage:
    name: str  # as python-escpos names it, e.g. "CP858"
    number: int  # the n of ESC t n on this printer
    codec: str  # Python codec, e.g. "cp858"


@dataclass(frozen=True)
class ProfileInfo:
    name: str
    native_qr: bool
    native_barcode: bool  # CODE128 needs function type B (GS k 73)
    full_cut: bool
    partial_cut: bool
    width_px: int | None
    code_pages: Mapping[str, int]


def _capabilities() -> dict[str, Any]:
    from escpos.capabilities import CAPABILITIES  # imported late: it reads files when first imported

    profiles: dict[str, Any] = CAPABILITIES["profiles"]
    return profiles


@functools.lru_cache(maxsize=64)
def profile_info(name: str) -> ProfileInfo:
    profiles = _capabilities()
    if name not in profiles:
        raise UnknownProfileError(f"unknown printer profile {name!r}; known: {', '.join(sorted(profiles))}")
    from escpos.capabilities import get_profile

    profile = get_profile(name)
    features = profile.features
    width = profile.profile_data.get("media", {}).get("width", {}).get("pixels")
    pages: dict[str, int] = {}
    for number, page in sorted(profile.profile_data.get("codePages", {}).items(), key=lambda kv: int(kv[0])):
        if page != "Unknown":
            pages.setdefault(str(page).upper(), int(number))
    return ProfileInfo(
        name=name,
        native_qr=bool(features.get("qrCode")),
        native_barcode=bool(features.get("barcodeB")),
        full_cut=bool(features.get("paperFullCut")),
        partial_cut=bool(features.get("paperPartCut")),
        width_px=int(width) if isinstance(width, int | float) else None,
        code_pages=pages,
    )


def pinned_code_page(profile: ProfileInfo, lang: str) -> CodePage:
    """The one code page for this printer and language; CP437 (page 0 on every printer) when none fits."""
    for page in PREFERRED_CODE_PAGES.get(lang, ("CP437",)):
        if page in profile.code_pages:
            return CodePage(page, profile.code_pages[page], page.lower())
    return CodePage("CP437", profile.code_pages.get("CP437", 0), "cp437")
