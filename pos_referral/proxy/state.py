"""The printer state the POS set (code page, alignment, emphasis, size...), kept so the footer can be
printed in the default state and the POS's state put back after it.

Each setting command sets its fields absolutely, so replaying the last command of each kind in the
order they were last given rebuilds the POS's state exactly (``ESC !`` and ``ESC E`` share the emphasis
bit; the later one wins either way). ``ESC @`` returns everything to the printer's defaults.
"""

from __future__ import annotations

from collections.abc import Mapping

from pos_referral.proxy.commands import ESC, GS

# (prefix, opcode) of the setting commands tracked, and the default each one is put to before a footer
_TRACKED: dict[tuple[int, int], bytes] = {
    (ESC, 0x21): b"\x1b!\x00",  # ESC ! print mode (font, emphasis, double height/width, underline)
    (ESC, 0x45): b"\x1bE\x00",  # ESC E emphasis
    (ESC, 0x47): b"\x1bG\x00",  # ESC G double-strike
    (ESC, 0x2D): b"\x1b-\x00",  # ESC - underline
    (ESC, 0x4D): b"\x1bM\x00",  # ESC M character font
    (GS, 0x21): b"\x1d!\x00",  # GS ! character size
    (GS, 0x42): b"\x1dB\x00",  # GS B reverse
    (ESC, 0x7B): b"\x1b{\x00",  # ESC { upside-down
    (ESC, 0x61): b"\x1ba\x00",  # ESC a alignment
    (ESC, 0x52): b"\x1bR\x00",  # ESC R international character set
    (ESC, 0x32): b"\x1b2",  # ESC 2 / ESC 3 n line spacing
    (ESC, 0x74): b"\x1bt\x00",  # ESC t code page (the footer's own page is set in prep)
}
_SPACING = (ESC, 0x32)
_CODE_PAGE = (ESC, 0x74)


class PrinterState:
    """What the POS set since the connection opened or its last ``ESC @``."""

    def __init__(self, codecs: Mapping[int, str], footer_page: int) -> None:
        self._codecs = codecs  # ESC t n -> Python codec, from the printer profile
        self._footer_page = footer_page
        self._set: dict[tuple[int, int], bytes] = {}  # insertion order = order last given
        self.codec = codecs.get(0, "cp437")

    def apply(self, command: bytes) -> None:
        """Note a command if it is a tracked setting (or ``ESC @``); everything else is ignored."""
        if len(command) < 2:
            return
        key = (command[0], command[1])
        if key == (ESC, 0x40):
            self._set.clear()
            self.codec = self._codecs.get(0, "cp437")
            return
        if key == (ESC, 0x33):
            key = _SPACING
        if key not in _TRACKED:
            return
        self._set.pop(key, None)
        self._set[key] = bytes(command)
        if key == _CODE_PAGE and len(command) >= 3:
            self.codec = self._codecs.get(command[2], self.codec)

    def prep(self) -> bytes:
        """The footer's starting state: defaults everywhere, the profile's code page."""
        defaults = b"".join(value for key, value in _TRACKED.items() if key != _CODE_PAGE)
        return defaults + bytes([ESC, 0x74, self._footer_page])

    def restore(self) -> bytes:
        """Back to the state the POS had set before the footer."""
        code_page = b"" if _CODE_PAGE in self._set else _TRACKED[_CODE_PAGE]
        return code_page + b"".join(self._set.values())
