"""Sample contexts and PNG previews of the shipped templates (the README's pictures, the CLI's preview).

    python -m pos_referral.printing.previews [FOLDER]     # default: printer_templates/previews/
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Any

from pos_referral.printing.escpos_renderer import RendererConfig
from pos_referral.printing.render import render
from pos_referral.resources import templates_dir

logger = logging.getLogger(__name__)

_CODE = "R7KQ2M9XW4HT3P"
_FOOTER = {"first_name": "Ada", "code": _CODE, "display_code": "R7KQ-2M9X-W4HT-3P",
           "landing_url": f"https://shop.example/r/{_CODE}", "discount": "5.00", "currency": "EUR",
           "store_name": "Corner Shop", "headline": "Bring a friend, both save"}
SAMPLES: dict[str, dict[str, Any]] = {
    "referral_footer": _FOOTER,
    "referral_card": _FOOTER,
    "proxy_footer": {**_FOOTER, "first_name": "", "landing_url": f"https://shop.example/r/{_CODE}/claim?s=ab3kq7x2mz"},
    "reward_voucher": {"store_name": "Corner Shop", "code": "V3QT7HN2KD9M1X", "display_code": "V3QT-7HN2-KD9M-1X",
                       "amount": "10.00", "currency": "EUR", "expires": "2026-12-31", "first_name": "Ada"},
    "daily_summary": {"store": "Corner Shop", "day": "2026-06-14", "currency": "EUR",
                      "funnel": [{"step": "cards printed", "count": "40"}, {"step": "landing visits", "count": "25"},
                                 {"step": "codes redeemed", "count": "9"}],
                      "referred_revenue": "412.30", "reward_cost": "45.00", "acquired_customers": "9",
                      "liability": "60.00", "participation_rate": "22.5%"},
    "sign": {"store_name": "Corner Shop", "headline": "Bring a friend, both save",
             "offer": "Your friend saves 10% on their first visit", "steps_title": "How it works",
             "steps": ["Ask at the till for your code", "Share it with a friend", "You get €5.00 when they shop"],
             "scan_caption": "Scan to join", "url": "https://shop.example/join"},
    "staff_guide": {"store_name": "Corner Shop", "program_name": "Bring a friend", "offer": "10% off",
                    "steps": ["A customer shares their code", "The friend saves at the till",
                              "The referrer gets a reward"],
                    "minimum": "20.00", "hold_days": 14, "currency": "EUR",
                    "demos": [{"code": "DEMO-OK", "what": "a valid code"},
                              {"code": "DEMO-USED", "what": "already used"}]},
    "test_page": {"store_name": "Corner Shop", "profile": "TM-T20II", "paper_mm": 80, "code_page": "CP858",
                  "printed_at": "2026-06-15 12:00"},
}
# (file stem, template, language, context changes)
PREVIEWS: list[tuple[str, str, str, dict[str, Any]]] = [
    ("referral_footer", "referral_footer", "en", {}),
    ("referral_footer_reprint_th", "referral_footer", "th", {"reprint": True}),
    ("referral_card", "referral_card", "en", {}),
    ("proxy_footer", "proxy_footer", "en", {}),
    ("reward_voucher", "reward_voucher", "en", {}),
    ("daily_summary", "daily_summary", "en", {}),
    ("test_page", "test_page", "en", {}),
    ("sign", "sign", "en", {}),
    ("staff_guide", "staff_guide", "en", {}),
]


def sample_context(template: str) -> dict[str, Any]:
    """Believable values for a template (an unknown template gets an empty context)."""
    return dict(SAMPLES.get(template, {}))


def write_previews(folder: Path, config: RendererConfig | None = None) -> list[Path]:
    config = config or RendererConfig("TM-T20II", 80)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for stem, template, lang, changes in PREVIEWS:
        context = {**sample_context(template), **changes, "lang": lang}
        path = folder / f"{stem}.png"
        path.write_bytes(render(template, context, config, "png"))
        written.append(path)
    return written


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    folder = Path(args[0]) if args else templates_dir() / "previews"
    for path in write_previews(folder):
        print(path)


if __name__ == "__main__":
    main()
