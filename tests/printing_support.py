"""Test helpers for printing: an ESC/POS decoder and a fake network printer on a loopback port."""

from __future__ import annotations

import select
import socket
import struct
import threading
from dataclasses import dataclass, field

from PIL import Image

ESC, GS, DLE = 0x1B, 0x1D, 0x10


@dataclass(frozen=True)
class Command:
    name: str  # "text", "LF", "ESC @", "ESC a", ..., "QR store", "CODE128", "raster"
    args: tuple[int, ...] = ()
    data: bytes = b""
    image: Image.Image | None = field(default=None, compare=False)


class DecodeError(AssertionError):
    pass


def _raster(width_bytes: int, height: int, bits: bytes) -> Image.Image:
    img = Image.new("1", (width_bytes * 8, height), 1)
    pixels = [0 if bits[y * width_bytes + x // 8] & (0x80 >> (x % 8)) else 1
              for y in range(height) for x in range(width_bytes * 8)]
    img.putdata(pixels)
    return img


def decode_escpos(data: bytes) -> list[Command]:
    """Parse the commands our renderer emits; anything else (ESC p, ESC B, ...) is a DecodeError."""
    out: list[Command] = []
    i, n = 0, len(data)
    text = bytearray()

    def flush() -> None:
        if text:
            out.append(Command("text", data=bytes(text)))
            text.clear()

    while i < n:
        b = data[i]
        if b == 0x0A:
            flush()
            out.append(Command("LF"))
            i += 1
        elif b == ESC:
            flush()
            op = data[i + 1 : i + 2]
            if op == b"@":
                out.append(Command("ESC @"))
                i += 2
            elif op in (b"a", b"E", b"t", b"d", b"!"):
                out.append(Command(f"ESC {op.decode()}", (data[i + 2],)))
                i += 3
            else:
                raise DecodeError(f"unexpected ESC {op!r} at {i}")
        elif b == GS:
            flush()
            op = data[i + 1 : i + 2]
            if op in (b"!", b"h", b"w", b"H"):
                out.append(Command(f"GS {op.decode()}", (data[i + 2],)))
                i += 3
            elif op == b"(" and data[i + 2 : i + 3] == b"k":
                size = struct.unpack_from("<H", data, i + 3)[0]
                cn, fn = data[i + 5], data[i + 6]
                body = data[i + 7 : i + 5 + size]
                if cn != 0x31:
                    raise DecodeError(f"GS ( k for symbol {cn}")
                name = {0x41: "QR model", 0x43: "QR size", 0x45: "QR ec", 0x50: "QR store", 0x51: "QR print"}[fn]
                payload = body[1:] if fn in (0x50, 0x51) else body
                out.append(Command(name, (fn,), payload))
                i += 5 + size
            elif op == b"k":
                m = data[i + 2]
                if m != 73:
                    raise DecodeError(f"GS k m={m}: only CODE128 (73) expected")
                length = data[i + 3]
                out.append(Command("CODE128", (m,), data[i + 4 : i + 4 + length]))
                i += 4 + length
            elif op == b"v" and data[i + 2] == 0x30:
                xl, yl = struct.unpack_from("<HH", data, i + 4)
                bits = data[i + 8 : i + 8 + xl * yl]
                out.append(Command("raster", (xl, yl), bits, _raster(xl, yl, bits)))
                i += 8 + xl * yl
            elif op == b"V":
                out.append(Command("GS V", (data[i + 2],)))
                i += 3
            else:
                raise DecodeError(f"unexpected GS {op!r} at {i}")
        elif b == DLE:
            raise DecodeError(f"unexpected DLE at {i}")
        elif b < 0x20 or b == 0x7F:
            raise DecodeError(f"control byte {b:#04x} at {i}")
        else:
            text.append(b)
            i += 1
    flush()
    return out


def text_lines(commands: list[Command], codec: str) -> list[str]:
    """The printed text lines (decoded with the code page the job pinned)."""
    lines, current = [], ""
    for cmd in commands:
        if cmd.name == "text":
            current += cmd.data.decode(codec)
        elif cmd.name == "LF":
            lines.append(current)
            current = ""
    return lines


STATUS_OK = (0x12, 0x12, 0x12)
STATUS_PAPER_OUT = (0x12 | 0x08, 0x12 | 0x20, 0x12 | 0x60)
# the DLE EOT 1, 2 and 4 answers of a printer in each state (Epson's status bytes)
STATUSES = {"ok": STATUS_OK, "paper_out": STATUS_PAPER_OUT,
            "paper_near_end": (0x12, 0x12, 0x12 | 0x0C),  # roll sensor: near end, still printing
            "cover_open": (0x12 | 0x08, 0x12 | 0x04, 0x12)}  # offline, cause: cover open


class FakeNetworkPrinter:
    """A port-9100 printer in a thread. ``mode``: ok, stall, drop (after ``drop_after`` bytes), paper_out,
    paper_near_end, cover_open (the status bytes it answers: ``STATUSES``).

    ``refuse()`` closes the listening socket (connection refused); ``listen()`` opens it again on the
    same port. ``jobs`` holds each complete job received (ESC @ ... cut), without status queries.
    """

    def __init__(self) -> None:
        self.mode = "ok"
        self.drop_after = 64
        self.jobs: list[bytes] = []
        self.connections = 0
        self._server: socket.socket | None = None
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self.port = 0
        self.listen()

    def listen(self) -> None:
        server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        server.bind(("127.0.0.1", self.port))
        server.listen(8)
        server.settimeout(0.05)
        self.port = server.getsockname()[1]
        self._server = server
        thread = threading.Thread(target=self._accept_loop, args=(server,), daemon=True)
        thread.start()
        self._threads.append(thread)

    def refuse(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.close()

    def close(self) -> None:
        self._stop.set()
        self.refuse()
        for thread in self._threads:
            thread.join(2)

    def _accept_loop(self, server: socket.socket) -> None:
        while not self._stop.is_set() and self._server is server:
            try:
                conn, _ = server.accept()
            except (TimeoutError, OSError):
                continue
            self.connections += 1
            thread = threading.Thread(target=self._serve, args=(conn, self.mode), daemon=True)
            thread.start()
            self._threads.append(thread)

    def _serve(self, conn: socket.socket, mode: str) -> None:
        conn.settimeout(0.05)
        buffer = bytearray()
        dropped = False
        try:
            while not self._stop.is_set():
                if mode == "stall":  # accepts, reads nothing, answers nothing
                    if self._stop.wait(0.05) or self._closed(conn):
                        return
                    continue
                try:
                    chunk = conn.recv(65536)
                except TimeoutError:
                    continue
                if not chunk:
                    break
                buffer += chunk
                if mode == "drop" and len(buffer.replace(b"\x10\x04\x01", b"")) > self.drop_after + 9:
                    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                    dropped = True  # reset: the printer lost power mid-job and forgot it
                    return
                if len(buffer) >= 3 and buffer[-3:-1] == b"\x10\x04" and not select.select([conn], [], [], 0.01)[0]:
                    status = STATUSES.get(mode, STATUS_OK)
                    conn.sendall(bytes([status[{1: 0, 2: 1, 4: 2}[buffer[-1]]]]))
        finally:
            conn.close()
            if not dropped:
                self._record(bytes(buffer))

    @staticmethod
    def _closed(conn: socket.socket) -> bool:
        try:
            return conn.recv(1, socket.MSG_PEEK) == b""
        except TimeoutError:
            return False
        except OSError:
            return True

    def _record(self, stream: bytes) -> None:
        start = stream.find(b"\x1b@")
        if start < 0:
            return
        job = stream[start:]
        if job.endswith(b"\x10\x04\x01"):
            job = job[:-3]
        if job.endswith((b"\x1dV\x00", b"\x1dV\x01")):
            self.jobs.append(job)
