"""The markup parser: rendered template text -> ``Document`` (the syntax is described in ``markup.py``)."""

from __future__ import annotations

import logging
import re
from pathlib import Path

from pos_referral.printing import document as d

logger = logging.getLogger(__name__)

SUFFIX = ".receipt"
MASKED_BRACKET, MASKED_BAR = "\ue000", "\ue001"  # '[' and '|' inside values, unmasked after parsing
TAG = re.compile(r"\[(/?)([a-z0-9]+)")
PAIRED = {"bold", "double", "wide", "tall"}
SIMPLE = {"left", "center", "right", "rule", "cols", "qr", "barcode", "image", "feed", "cut"}
_SPEC = re.compile(r"^(\d*)([<>^]?)$")
_ALIGN = {"<": d.Align.LEFT, ">": d.Align.RIGHT, "^": d.Align.CENTER, "": d.Align.LEFT}


class TemplateError(Exception):
    """A template that cannot be rendered; ``str()`` reads ``file:line: what is wrong``."""

    def __init__(self, path: str, line: int, message: str) -> None:
        super().__init__(f"{path}:{line}: {message}")
        self.path, self.line, self.message = path, line, message


def unmask(text: str) -> str:
    return text.replace(MASKED_BRACKET, "[").replace(MASKED_BAR, "|")


class Parser:
    def __init__(self, name: str, folder: Path, lang: str, source_lines: list[str]) -> None:
        self.name, self.folder, self.lang, self.source = name, folder, lang, source_lines
        self.align = d.Align.LEFT
        self.flags = dict.fromkeys(PAIRED, False)
        self.elements: list[d.Element] = []

    def error(self, out_line: int, text: str, message: str) -> TemplateError:
        tag = TAG.match(text)
        needle = tag.group(0) if tag else text.strip()[:20]
        line = next((i for i, src in enumerate(self.source, 1) if needle and needle in src), out_line)
        return TemplateError(f"{self.name}{SUFFIX}", line, f"{message}: {text.strip()[:60]!r}")

    def style(self) -> d.Style:
        wide = self.flags["double"] or self.flags["wide"]
        tall = self.flags["double"] or self.flags["tall"]
        return d.Style(align=self.align, bold=self.flags["bold"], wide=wide, tall=tall)

    def parse(self, text: str) -> d.Document:
        for number, line in enumerate(text.split("\n"), 1):
            self.line(number, line)
        left_open = [tag for tag, is_open in self.flags.items() if is_open]
        if left_open:
            raise self.error(len(self.source), f"[{left_open[0]}]", "not closed")
        return d.Document(tuple(self.elements), language=self.lang, name=self.name)

    def line(self, number: int, line: str) -> None:
        stripped = line.strip()
        if stripped.startswith("\\["):
            self.elements.append(d.Text(unmask(stripped[1:]), self.style()))
            return
        match = TAG.match(stripped)
        if not stripped.startswith("[") or match is None:
            self.elements.append(d.Text(unmask(line.rstrip()), self.style()))
            return
        closing, tag = match.group(1) == "/", match.group(2)
        if tag in PAIRED:
            if stripped != f"[{'/' if closing else ''}{tag}]":
                raise self.error(number, line, f"[{tag}] stands alone on its line")
            if self.flags[tag] != closing:
                raise self.error(number, line, "closed but not open" if closing else "opened twice")
            self.flags[tag] = not closing
            return
        if closing or tag not in SIMPLE:
            raise self.error(number, line, "unknown tag (write \\[ for a text line starting with '[')")
        if tag == "cols":
            self.columns(number, line, stripped[match.end() :])
            return
        if not stripped.endswith("]"):
            raise self.error(number, line, "tag without closing ']'")
        self.simple(number, line, tag, unmask(stripped[match.end() : -1].strip()))

    def simple(self, number: int, line: str, tag: str, arg: str) -> None:
        if tag in {"left", "center", "right"}:
            self.align = d.Align(tag)
        elif tag == "rule":
            self.elements.append(d.Rule(arg[:1] or "-"))
        elif tag == "qr":
            if arg:
                self.elements.append(d.QR(arg, self.align))
        elif tag == "barcode":
            if arg.upper().startswith("CODE128 "):
                arg = arg[8:].strip()
            if arg and not all(32 <= ord(ch) < 127 for ch in arg):
                raise self.error(number, line, "CODE128 holds printable ASCII only")
            if arg:
                self.elements.append(d.Barcode(arg, self.align))
        elif tag == "image":
            path = (self.folder / "images" / arg).resolve()
            if not arg or not path.is_file() or self.folder.resolve() not in path.parents:
                raise self.error(number, line, "image not found in printer_templates/images/")
            self.elements.append(d.Image(path, self.align))
        elif tag == "feed":
            if arg and not (arg.isdigit() and 0 < int(arg) <= 20):
                raise self.error(number, line, "feed takes a number of lines from 1 to 20")
            self.elements.append(d.Feed(int(arg or 1)))
        elif tag == "cut":
            if arg not in {"", "partial", "full"}:
                raise self.error(number, line, "cut takes nothing, 'partial' or 'full'")
            self.elements.append(d.Cut(partial=arg == "partial"))

    def columns(self, number: int, line: str, rest: str) -> None:
        spec_text, bracket, cells_text = rest.partition("]")
        if not bracket:
            raise self.error(number, line, "tag without closing ']'")
        cells = tuple(unmask(c.strip()) for c in cells_text.split("|"))
        tokens = spec_text.split()
        if not tokens:
            spec = (d.ColumnSpec(1, d.Align.LEFT),) + (d.ColumnSpec(0, d.Align.RIGHT),) * (len(cells) - 1)
        else:
            parsed = [_SPEC.match(tok) for tok in tokens]
            if any(m is None for m in parsed):
                raise self.error(number, line, "column spec is weight and alignment, e.g. '2<' or '1>'")
            spec = tuple(d.ColumnSpec(int(m.group(1) or 1), _ALIGN[m.group(2)]) for m in parsed if m)
            if len(spec) != len(cells):
                raise self.error(number, line, f"{len(spec)} columns declared, {len(cells)} given")
        self.elements.append(d.Columns(cells, spec, self.style()))


def parse_markup(text: str, *, name: str, folder: Path, lang: str, source: str = "") -> d.Document:
    """Parse rendered markup; errors name ``<name>.receipt`` and the source line of the offending tag."""
    return Parser(name, folder, lang, source.split("\n")).parse(text)
