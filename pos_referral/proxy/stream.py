"""One POS connection's bytes, cut by cut: what to write to the printer, with the footer before each cut.

Bytes pass on as they arrive; only an incomplete command header (a few bytes: the cut may be in the
next TCP segment) is held until the next segment, and a payload (a logo's raster) streams through by
its declared length without being looked at. At a cut the receipt's text is handed to the footer
callback; the footer, with the state prep before it and the POS's state after it, and the cut form one
write, built completely before it is written.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from pos_referral.proxy.commands import ESC, LF, NEED, PREFIXES, command_length, is_cut, is_query
from pos_referral.proxy.state import PrinterState

Footer = Callable[[str], bytes | None]  # the receipt's text -> footer bytes, or None

_CONTROL = re.compile(rb"[\x00-\x08\x0a-\x1f]")  # what ends a run of text (HT is text)
_HOLD_MAX = 64  # a command shorter than this is held until complete; longer ones stream through
_HOLD_LIMIT = 1 << 20  # a command still incomplete after this many bytes is passed on as unknown
_TEXT_LIMIT = 65536  # characters of one receipt's text kept for the footer callback
_FEEDS = frozenset({(ESC, 0x64), (ESC, 0x4A)})  # ESC d n, ESC J n: print the line and feed


class ReceiptStream:
    def __init__(self, footer: Footer, state: PrinterState) -> None:
        self._footer, self.state = footer, state
        self._held = b""  # an incomplete command, not passed on yet
        self._skip = 0  # payload bytes of a command that streams through unread
        self._text: list[str] = []
        self._text_len = 0
        self._line_open = False  # text since the last line end: printed with an LF before a footer
        self.in_receipt = False  # bytes beyond status queries since the last cut (the printer is in use)
        self.cuts = 0

    def feed(self, data: bytes) -> list[bytes]:
        """The writes for the printer, in order; a footer block is always a write of its own."""
        buf = self._held + data if self._held else data
        self._held = b""
        n, i, start = len(buf), 0, 0
        writes: list[bytes] = []
        if self._skip:
            i = min(self._skip, n)
            self._skip -= i
        while i < n:
            byte = buf[i]
            if byte >= 0x20 or byte == 0x09:
                match = _CONTROL.search(buf, i)
                end = match.start() if match else n
                self._add_text(buf[i:end])
                i = end
                continue
            if byte not in PREFIXES:
                if byte == LF:
                    self._end_line()
                self.in_receipt = self.in_receipt or byte != 0x0D
                i += 1
                continue
            length = command_length(buf, i)
            if length == NEED and n - i > _HOLD_LIMIT:
                length = 2
            if length == NEED or (i + length > n and length <= _HOLD_MAX):
                self._held = bytes(buf[i:])
                break
            if i + length > n:  # a payload that goes on in the next segments
                self._skip = i + length - n
                self.in_receipt = True
                i = n
                break
            command = bytes(buf[i:i + length])
            if is_cut(command):
                if start < i:
                    writes.append(bytes(buf[start:i]))
                writes.append(self._cut(command))
                start = i + length
            else:
                self._note(command)
            i += length
        if start < i:
            writes.append(bytes(buf[start:i]))
        return writes

    def flush(self) -> bytes:
        """At the end of the connection: an incomplete command goes on as it came."""
        held, self._held = self._held, b""
        return held

    def _add_text(self, chunk: bytes) -> None:
        self._line_open = True
        self.in_receipt = True
        if self._text_len < _TEXT_LIMIT:
            text = chunk.decode(self.state.codec, errors="replace")
            self._text.append(text)
            self._text_len += len(text)

    def _end_line(self) -> None:
        self._line_open = False
        self._text.append("\n")
        self._text_len += 1

    def _note(self, command: bytes) -> None:
        self.state.apply(command)
        if not is_query(command):
            self.in_receipt = True
        if (command[0], command[1]) in _FEEDS and self._line_open:
            self._end_line()

    def _cut(self, command: bytes) -> bytes:
        self.cuts += 1
        text = "".join(self._text)
        unfinished = self._line_open
        self._text, self._text_len, self._line_open, self.in_receipt = [], 0, False, False
        footer = self._footer(text + ("\n" if unfinished else "")) if text.strip() else None
        if not footer:
            return command
        state = self.state
        return (b"\n" if unfinished else b"") + state.prep() + footer + state.restore() + command
