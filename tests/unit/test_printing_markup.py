"""Templates are data: they validate at start-up, fail with file and line, and never obey a customer's text."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pos_referral.domain.text import sanitize_text
from pos_referral.printing import document as d
from pos_referral.printing.markup import TemplateError, render_template, validate_all_templates
from pos_referral.printing.strings import LANGUAGES, strings_for
from pos_referral.printing.text_renderer import render_text

SHIPPED = {"referral_footer", "referral_card", "reward_voucher", "daily_summary", "test_page"}


def test_every_shipped_template_is_valid() -> None:
    assert set(validate_all_templates()) >= SHIPPED


@pytest.mark.parametrize(
    ("source", "line", "words"),
    [
        ("[center]\nhello\n[blink]\n", 3, "unknown tag [blink]"),
        ("hi\n[bold]\nx\n", 2, "never closed"),
        ("hi\n\n[/double]\n", 3, "closes nothing"),
        ("a\n{% if x %}\nb\n", 3, "endif"),  # Jinja reports the end of the template
        ("a\n[feed lots]\n", 2, "feed takes a number"),
        ("[cols 1< 1>] only one cell\n", 1, "2 columns declared, 1 given"),
    ],
)
def test_a_broken_template_names_its_file_and_line(tmp_path: Path, source: str, line: int, words: str) -> None:
    (tmp_path / "broken.receipt").write_text(source, encoding="utf-8")
    with pytest.raises(TemplateError) as caught:
        validate_all_templates(tmp_path)
    assert caught.value.path == "broken.receipt" and caught.value.line == line
    assert str(caught.value).startswith(f"broken.receipt:{line}:") and words in str(caught.value)


def test_a_customer_name_cannot_become_markup_or_a_new_line(tmp_path: Path) -> None:
    (tmp_path / "hello.receipt").write_text("{{ name }}\n[cols] {{ name }} | 1\n", encoding="utf-8")
    doc = render_template("hello", {"name": "[cut]\n[qr evil] | x\u2028[feed 9]"}, folder=tmp_path)
    kinds = [type(e) for e in doc.elements]
    assert kinds == [d.Text, d.Columns]
    assert doc.elements[0] == d.Text("[cut][qr evil] | x[feed 9]")
    assert isinstance(doc.elements[1], d.Columns) and len(doc.elements[1].cells) == 2


def test_sanitize_keeps_letters_and_drops_every_control_character() -> None:
    raw = "Åse\x1bp\x00\x19\xfa\x1dV\x1b@\x7f\x85\x9b Żółć ไทย"
    assert sanitize_text(raw) == "Åsep\xfaV@ Żółć ไทย"
    assert all(not (ord(c) < 32 or 0x7F <= ord(c) <= 0x9F) for c in sanitize_text("".join(map(chr, range(0x200)))))


def test_footer_greets_by_first_name_and_marks_reprints() -> None:
    ctx = {"first_name": "Ada", "code": "R7KQ2M9XW4HT3P", "landing_url": "https://s.example/r/R7KQ2M9XW4HT3P",
           "discount": "5.00", "currency": "EUR"}
    first = render_text(render_template("referral_footer", ctx))
    again = render_text(render_template("referral_footer", {**ctx, "reprint": True}))
    anonymous = render_text(render_template("referral_footer", {**ctx, "first_name": ""}))
    assert "Thank you, Ada!" in first and "REPRINT" not in first and "REPRINT" in again
    assert "Thank you for shopping with us!" in anonymous
    assert "R7KQ 2M9X W4HT 3P" in first  # the code in groups of four


def test_every_language_has_every_string() -> None:
    english = set(strings_for("en"))
    for lang in LANGUAGES:
        assert set(strings_for(lang)) == english
    assert "ขอบคุณ" in strings_for("th")["greeting"]


def test_a_gettext_function_translates_template_text(tmp_path: Path) -> None:
    (tmp_path / "g.receipt").write_text("{{ _('Hello') }}\n", encoding="utf-8")
    doc = render_template("g", {}, folder=tmp_path, gettext=lambda s: {"Hello": "Hei"}[s])
    assert doc.elements == (d.Text("Hei"),)


@given(
    cells=st.lists(st.text(alphabet=st.characters(codec="latin-1", categories=("L", "N", "Zs")), max_size=40),
                   min_size=1, max_size=4),
    width=st.sampled_from([32, 42, 48]),
)
def test_columns_fit_any_paper_width(cells: list[str], width: int) -> None:
    spec = tuple(d.ColumnSpec(1 if i == 0 else 0, d.Align.RIGHT if i else d.Align.LEFT) for i in range(len(cells)))
    line = d.fit_columns(tuple(cells), spec, width)
    assert d.display_width(line) <= width


def test_numbers_in_right_columns_survive_a_long_label() -> None:
    spec = (d.ColumnSpec(1, d.Align.LEFT), d.ColumnSpec(0, d.Align.RIGHT))
    line = d.fit_columns(("A very long label that cannot possibly fit on narrow paper", "1,234.50"), spec, 32)
    assert len(line) == 32 and line.endswith(" 1,234.50")
