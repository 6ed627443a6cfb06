"""How long each ESC/POS command is, so the stream scanner never reads payload bytes as commands.

A cut (``GS V``) can only be found safely if every command carrying binary data (raster images
``GS v 0``, bit images ``ESC *``, graphics ``GS ( L`` / ``GS 8 L``, user characters, barcodes, NV
images) is skipped by its declared length: a logo's pixels contain ``1D 56 ..`` as often as any other
three bytes. ``command_length`` answers from the bytes seen so far; a command it does not know is taken
as its prefix and opcode (two bytes) and passes through like any other.
"""

from __future__ import annotations

ESC, GS, FS, DLE = 0x1B, 0x1D, 0x1C, 0x10
LF, CR = 0x0A, 0x0D
PREFIXES = frozenset({ESC, GS, FS, DLE})
NEED = -1  # more bytes are needed to know the length

# fixed total lengths (prefix + opcode + parameters) of the commands without a payload
_ESC_FIXED = {0x0C: 2, 0x20: 3, 0x21: 3, 0x24: 4, 0x25: 3, 0x2D: 3, 0x32: 2, 0x33: 3, 0x3C: 2, 0x3D: 3,
              0x3F: 3, 0x40: 2, 0x45: 3, 0x47: 3, 0x4A: 3, 0x4B: 3, 0x4C: 2, 0x4D: 3, 0x52: 3, 0x53: 2,
              0x54: 3, 0x55: 3, 0x56: 3, 0x57: 10, 0x5C: 4, 0x61: 3, 0x63: 4, 0x64: 3, 0x65: 3, 0x69: 2,
              0x6D: 2, 0x70: 5, 0x72: 3, 0x74: 3, 0x75: 3, 0x76: 2, 0x7B: 3, 0x19: 3}
_GS_FIXED = {0x21: 3, 0x24: 4, 0x2F: 3, 0x3A: 2, 0x42: 3, 0x45: 3, 0x48: 3, 0x49: 3, 0x4C: 4, 0x50: 4,
             0x54: 3, 0x57: 4, 0x5C: 4, 0x5E: 5, 0x61: 3, 0x62: 3, 0x63: 2, 0x66: 3, 0x67: 5, 0x68: 3,
             0x72: 3, 0x77: 3, 0x7A: 4}
_FS_FIXED = {0x21: 3, 0x26: 2, 0x2D: 3, 0x2E: 2, 0x43: 3, 0x53: 4, 0x57: 3, 0x3F: 4, 0x70: 4}
_CUT_SHORT = frozenset({0, 1, 48, 49})  # GS V m
_CUT_FEED = frozenset({65, 66, 97, 98, 103, 104})  # GS V m n
_NUL_LIMIT = 512  # a NUL-terminated argument longer than this is not one: take the command as unknown


def command_length(buf: bytes | bytearray, i: int) -> int:
    """Total length of the command starting at ``buf[i]`` (a prefix byte), or ``NEED``.

    For a command with a payload the length is known as soon as its header is complete, so the
    payload itself can stream through without being held."""
    n = len(buf)
    if i + 1 >= n:
        return NEED
    prefix, op = buf[i], buf[i + 1]
    if prefix == DLE:
        return _dle(buf, i, op)
    if prefix == ESC:
        return _esc(buf, i, op)
    if prefix == GS:
        return _gs(buf, i, op)
    return _fs(buf, i, op)


def _byte(buf: bytes | bytearray, at: int) -> int:
    return buf[at] if at < len(buf) else NEED


def _u16(buf: bytes | bytearray, at: int) -> int:
    return buf[at] | buf[at + 1] << 8 if at + 1 < len(buf) else NEED


def _until_nul(buf: bytes | bytearray, start: int, i: int) -> int:
    end = buf.find(b"\x00", start, start + _NUL_LIMIT)
    if end >= 0:
        return end + 1 - i
    return NEED if len(buf) < start + _NUL_LIMIT else 2


def _dle(buf: bytes | bytearray, i: int, op: int) -> int:
    if op == 0x04:  # DLE EOT n (n = 7, 8: one more byte)
        n = _byte(buf, i + 2)
        return NEED if n == NEED else (4 if n in (7, 8) else 3)
    if op == 0x05:  # DLE ENQ n
        return 3
    if op == 0x14:  # DLE DC4 fn ...
        fn = _byte(buf, i + 2)
        return NEED if fn == NEED else {7: 4, 8: 10}.get(fn, 5)
    return 1  # a lone DLE is data to the printer


def _esc(buf: bytes | bytearray, i: int, op: int) -> int:
    if op == 0x2A:  # ESC * m nL nH d: bit image, 8-dot (m 0, 1) or 24-dot (m 32, 33) columns
        if i + 4 >= len(buf):
            return NEED
        columns = _u16(buf, i + 3)
        return 5 + columns * (3 if buf[i + 2] in (32, 33) else 1)
    if op == 0x26:  # ESC & y c1 c2 [x d1..d(y*x)] per character
        return _user_characters(buf, i)
    if op == 0x44:  # ESC D n1 .. nk NUL: tab positions
        return _until_nul(buf, i + 2, i)
    if op == 0x28:  # ESC ( fn pL pH d1..dp
        size = _u16(buf, i + 3)
        return NEED if size == NEED else 5 + size
    return _ESC_FIXED.get(op, 2)


def _user_characters(buf: bytes | bytearray, i: int) -> int:
    if i + 4 >= len(buf):
        return NEED
    y, first, last = buf[i + 2], buf[i + 3], buf[i + 4]
    at = i + 5
    for _ in range(max(0, last - first + 1)):
        x = _byte(buf, at)
        if x == NEED:
            return NEED
        at += 1 + y * x
    return at - i


def _gs(buf: bytes | bytearray, i: int, op: int) -> int:
    if op == 0x56:  # GS V m [n]: the cut
        m = _byte(buf, i + 2)
        return NEED if m == NEED else (4 if m in _CUT_FEED else 3)
    if op == 0x76:  # GS v 0 m xL xH yL yH d: raster image
        if i + 7 >= len(buf):
            return NEED
        return 8 + _u16(buf, i + 4) * _u16(buf, i + 6)
    if op == 0x28:  # GS ( fn pL pH d1..dp (graphics GS ( L, QR GS ( k, ...)
        size = _u16(buf, i + 3)
        return NEED if size == NEED else 5 + size
    if op == 0x38:  # GS 8 fn p1 p2 p3 p4 d: large graphics (GS 8 L), four-byte length
        if i + 6 >= len(buf):
            return NEED
        return 7 + int.from_bytes(buf[i + 3:i + 7], "little")
    if op == 0x2A:  # GS * x y d: downloaded bit image, x*y*8 bytes
        if i + 3 >= len(buf):
            return NEED
        return 4 + buf[i + 2] * buf[i + 3] * 8
    if op == 0x6B:  # GS k m: barcode, NUL-terminated (m 0..6) or counted (m 65..)
        m = _byte(buf, i + 2)
        if m == NEED:
            return NEED
        if m <= 6:
            return _until_nul(buf, i + 3, i)
        count = _byte(buf, i + 3)
        return NEED if count == NEED else 4 + count
    if op == 0x43:  # GS C0 n m, GS C1 aL aH bL bH n r, GS C2 nL nH (counters)
        sub = _byte(buf, i + 2)
        return NEED if sub == NEED else {0x30: 5, 0x31: 9, 0x32: 5}.get(sub, 3)
    return _GS_FIXED.get(op, 2)


def _fs(buf: bytes | bytearray, i: int, op: int) -> int:
    if op == 0x32:  # FS 2 c1 c2 d1..d72: a user-defined kanji
        return 76
    if op == 0x28:  # FS ( fn pL pH d1..dp
        size = _u16(buf, i + 3)
        return NEED if size == NEED else 5 + size
    if op == 0x71:  # FS q n [xL xH yL yH d1..d(x*y*8)] per image: define NV bit images
        if i + 2 >= len(buf):
            return NEED
        at = i + 3
        for _ in range(buf[i + 2]):
            if at + 3 >= len(buf):
                return NEED
            at += 4 + _u16(buf, at) * _u16(buf, at + 2) * 8
        return at - i
    return _FS_FIXED.get(op, 2)


def is_cut(command: bytes | bytearray) -> bool:
    """``GS V`` in any of its forms, and the older ``ESC i`` / ``ESC m`` (partial cut)."""
    if len(command) >= 3 and command[0] == GS and command[1] == 0x56:
        return command[2] in _CUT_SHORT or command[2] in _CUT_FEED
    return len(command) == 2 and command[0] == ESC and command[1] in (0x69, 0x6D)


def is_query(command: bytes | bytearray) -> bool:
    """Real-time commands and status queries: sent while no receipt is being printed, too."""
    if command[0] == DLE:
        return True
    return command[0] == GS and len(command) >= 2 and command[1] in (0x72, 0x61, 0x49)  # GS r, GS a, GS I
