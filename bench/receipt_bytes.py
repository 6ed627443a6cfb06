"""Bytes on the wire and render time per receipt template and printer profile.

    python bench/receipt_bytes.py [--repeat 50] [--markdown]

For each template x profile: bytes, median render time, time on a serial link at 9600 and 115200
baud (10 bits per byte), beside the minimum for the same content: text only, native QR/CODE128, no
style commands. Targets: referral footer <= 600 bytes and <= 0.6 s at 9600 baud with native QR;
render <= 5 ms median.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pos_referral.printing import document as d
from pos_referral.printing.escpos_renderer import RendererConfig, render_escpos
from pos_referral.printing.markup import render_template
from pos_referral.printing.previews import sample_context

# every shipped template with the sample values of its README preview (pos_referral/printing/previews.py)
CASES: list[tuple[str, str, dict[str, Any]]] = [
    (template, lang, sample_context(template))
    for template, lang in [("referral_footer", "en"), ("referral_footer", "pl"), ("referral_footer", "th"),
                           ("referral_card", "en"), ("reward_voucher", "en"), ("daily_summary", "en"),
                           ("test_page", "en"), ("sign", "en"), ("staff_guide", "en")]
]
PROFILES = [("TM-T88V", 80, "native QR+CODE128, 80 mm"), ("Sunmi-V2", 58, "native, 58 mm"),
            ("simple", 80, "no native codes, 80 mm"), ("POS-5890", 58, "no native codes, 58 mm")]


def minimum_bytes(doc: d.Document, columns: int) -> int:
    """Text as one byte per cell, native codes, no style commands: the floor for this content."""
    total = 5  # ESC @, ESC t n
    for element in doc.elements:
        if isinstance(element, d.Text | d.Columns | d.Rule):
            total += sum(d.display_width(line) + 1 for line in d.element_lines(element, columns, pad=False))
        elif isinstance(element, d.QR):
            total += 8 + len(element.data.encode()) + 8  # GS ( k store + print
        elif isinstance(element, d.Barcode):
            total += 6 + len(element.data)  # GS k 73 n {B data
        elif isinstance(element, d.Feed | d.Cut):
            total += 3
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=50)
    parser.add_argument("--markdown", action="store_true", help="print a Markdown table (for the README)")
    args = parser.parse_args()
    header = ["template", "lang", "profile", "bytes", "render ms", "9600 s", "115200 s", "min bytes", "min 9600 s"]
    rows = []
    for name, lang, context in CASES:
        doc = render_template(name, context, lang=lang)
        for profile, paper, _ in PROFILES:
            config = RendererConfig(profile, paper)
            data = render_escpos(doc, config)
            timings = []
            for _ in range(args.repeat):
                start = time.perf_counter()
                render_escpos(render_template(name, context, lang=lang), config)
                timings.append(time.perf_counter() - start)
            low = minimum_bytes(doc, config.layout.columns)
            rows.append([name, lang, f"{profile} ({paper})", str(len(data)), f"{statistics.median(timings) * 1000:.2f}",
                         f"{len(data) * 10 / 9600:.2f}", f"{len(data) * 10 / 115200:.3f}", str(low),
                         f"{low * 10 / 9600:.2f}"])
    if args.markdown:
        print("| " + " | ".join(header) + " |")
        print("|" + "|".join("---" for _ in header) + "|")
        for row in rows:
            print("| " + " | ".join(row) + " |")
        return
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        cells = zip(row, widths, strict=True)
        print("  ".join(cell.rjust(w) if i >= 3 else cell.ljust(w) for i, (cell, w) in enumerate(cells)))


if __name__ == "__main__":
    main()
