"""Charts drawn on the server as inline SVG (pygal): no CDN, no JavaScript, printable."""

from __future__ import annotations

import re
import sys
from functools import cache
from typing import Any

from markupsafe import Markup

_SCRIPT = re.compile(r"<script\b.*?</script>", re.DOTALL | re.IGNORECASE)


@cache
def _pygal() -> Any:
    """Import pygal on first use and take out the import hook it installs.

    pygal appends a legacy ``sys.meta_path`` finder (for its map plugins, unused here) that makes
    every later import of a missing module warn (ImportWarning) — an error under our test settings
    and noise in production, for code that probes optional modules such as printing.queue.
    """
    import pygal

    sys.meta_path[:] = [f for f in sys.meta_path if not isinstance(f, pygal.PluginImportFixer)]
    return pygal


@cache
def _style() -> Any:
    from pygal.style import Style

    return Style(**STYLE)


STYLE: dict[str, Any] = dict(
    background="white", plot_background="white", foreground="#222", foreground_strong="#000",
    foreground_subtle="#777", colors=("#1f5fa8", "#d9822b", "#2e8540", "#b0312b", "#6b4fa0", "#555"),
    font_family="system-ui, sans-serif", label_font_size=14, major_label_font_size=14,
    legend_font_size=15, title_font_size=18, value_font_size=14, tooltip_font_size=14,
)


def _svg(chart: Any) -> Markup:
    """Render without pygal's tooltip script (the page works, and prints, without JavaScript)."""
    return Markup(_SCRIPT.sub("", chart.render(is_unicode=True)))  # pygal escapes labels and values


def trend_chart(trend: list[dict[str, Any]], *, weekly: bool = False) -> Markup:
    """The trend per day, or per week (each point labelled with its week's first day) for a long range."""
    chart = _pygal().Line(style=_style(), js=[], disable_xml_declaration=True, width=900, height=330, show_dots=False,
                       x_label_rotation=40, show_minor_x_labels=False, legend_at_bottom=True, truncate_legend=-1,
                       title="Weekly trend" if weekly else "Daily trend", margin=10, dynamic_print_values=False)
    days = [row["day"][5:] for row in trend]
    chart.x_labels = days
    step = max(1, len(days) // 12)
    chart.x_labels_major = days[::step]
    for key, label in (("codes_issued", "Codes issued"), ("landing_visits", "Landing visits"),
                       ("friends_quoted", "Friends quoted"), ("redemptions", "Redemptions")):
        chart.add(label, [row[key] for row in trend])
    return _svg(chart)


def funnel_chart(funnel: list[dict[str, Any]]) -> Markup:
    chart = _pygal().HorizontalBar(style=_style(), js=[], disable_xml_declaration=True, width=900, height=330,
                                show_legend=False, title="Funnel", print_values=True, margin=10)
    steps = list(reversed(funnel))  # pygal draws the first bar at the bottom
    chart.x_labels = [row["step"] for row in steps]
    chart.add("Count", [row["count"] for row in steps])
    return _svg(chart)
