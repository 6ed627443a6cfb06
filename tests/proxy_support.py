"""Test helpers for the print proxy: a recording printer on a loopback port, POS layouts driven through
python-escpos, and the footer block the proxy is expected to insert (spelt out, not computed by it)."""

from __future__ import annotations

import socket
import struct
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from escpos.escpos import Escpos
from escpos.printer import Dummy
from PIL import Image, ImageDraw

# the state the proxy puts before every footer (proxy/state.py): defaults, then the footer's code page
PREP = (b"\x1b!\x00\x1bE\x00\x1bG\x00\x1b-\x00\x1bM\x00\x1d!\x00\x1dB\x00\x1b{\x00\x1ba\x00\x1bR\x00\x1b2"
        b"\x1bt\x13")  # TM-T88V, English: CP858 is page 19
FOOTER = b"Bring a friend: ABC-123\n"
PROFILE = "TM-T88V"

ANSWERS = {b"\x10\x04\x01": b"\x12", b"\x10\x04\x02": b"\x12", b"\x10\x04\x03": b"\x12", b"\x10\x04\x04": b"\x12",
           b"\x1dr\x01": b"\x00", b"\x1dr\x02": b"\x00", b"\x1dr1": b"\x00", b"\x1dr2": b"\x00"}


@dataclass
class Connection:
    received: bytearray = field(default_factory=bytearray)
    sock: socket.socket | None = None
    closed: threading.Event = field(default_factory=threading.Event)


class RecordingPrinter:
    """A port-9100 printer that records every byte per connection and answers ``DLE EOT n`` and ``GS r n``
    (found anywhere in the stream: a logo's pixels may trigger a stray answer, as on a real printer).
    ``log`` keeps (connection number, bytes) in arrival order across connections."""

    def __init__(self) -> None:
        self.connections: list[Connection] = []
        self.log: list[tuple[int, bytes]] = []
        self._lock = threading.Lock()
        self._server = socket.create_server(("127.0.0.1", 0))
        self._server.settimeout(0.05)
        self.port = self._server.getsockname()[1]
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._accept, daemon=True)]
        self._threads[0].start()

    def close(self) -> None:
        self._stop.set()
        self._server.close()
        for thread in self._threads:
            thread.join(2)

    def received(self, number: int = -1) -> bytes:
        """What connection ``number`` got so far (nothing while it is not there yet)."""
        with self._lock:
            if number >= len(self.connections):
                return b""
            return bytes(self.connections[number].received)

    def wait_for(self, predicate: Callable[[RecordingPrinter], bool], timeout: float = 5.0) -> None:
        deadline = time.monotonic() + timeout
        while not predicate(self):
            if time.monotonic() > deadline:
                raise AssertionError("the recording printer did not get what was expected in time")
            time.sleep(0.005)

    def wait_for_bytes(self, data: bytes, timeout: float = 5.0) -> bool:
        """True once some connection received exactly ``data`` and was closed."""
        self.wait_for(lambda p: any(bytes(c.received) == data and c.closed.is_set() for c in p.connections), timeout)
        return True

    def wait_closed(self, number: int = -1, timeout: float = 5.0) -> bytes:
        self.wait_for(lambda p: len(p.connections) > max(number, 0), timeout)
        assert self.connections[number].closed.wait(timeout), "the proxy kept the printer connection open"
        return self.received(number)

    def drop(self, number: int = -1) -> None:
        """The printer loses power: its end of the connection is reset."""
        sock = self.connections[number].sock
        assert sock is not None
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.close()

    def push(self, data: bytes, number: int = -1) -> None:
        """Unsolicited bytes to the client (automatic status back)."""
        sock = self.connections[number].sock
        assert sock is not None
        sock.sendall(data)

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._server.accept()
            except (TimeoutError, OSError):
                continue
            record = Connection(sock=conn)
            with self._lock:
                self.connections.append(record)
                number = len(self.connections) - 1
            thread = threading.Thread(target=self._serve, args=(conn, record, number), daemon=True)
            thread.start()
            self._threads.append(thread)

    def _serve(self, conn: socket.socket, record: Connection, number: int) -> None:
        conn.settimeout(0.05)
        scanned = 0
        try:
            while not self._stop.is_set():
                try:
                    chunk = conn.recv(65536)
                except TimeoutError:
                    continue
                except OSError:
                    break
                if not chunk:
                    break
                with self._lock:
                    record.received += chunk
                    self.log.append((number, chunk))
                data = record.received
                while True:  # answer each status query once, in order
                    at = min((i for i in (data.find(b"\x10\x04", scanned), data.find(b"\x1dr", scanned)) if i >= 0),
                             default=-1)
                    if at < 0 or at + 3 > len(data):
                        scanned = max(scanned, len(data) - 2) if at < 0 else at
                        break
                    answer = ANSWERS.get(bytes(data[at:at + 3]))
                    if answer:
                        conn.sendall(answer)
                    scanned = at + 2
        finally:
            conn.close()
            record.closed.set()


def with_footer(receipt: bytes, cut: bytes, restore: bytes, *, footer: bytes = FOOTER,
                unfinished: bool = False) -> bytes:
    """``receipt`` with the footer block the proxy inserts before its (first) cut."""
    at = receipt.index(cut)
    return receipt[:at] + (b"\n" if unfinished else b"") + PREP + footer + restore + receipt[at:]


# -- three POS layouts, as python-escpos prints them ------------------------------------------------------

def plain_text(p: Escpos) -> None:
    """A plain receipt: text, a total, the cut (python-escpos's own cut: feed and GS V)."""
    p.text("CORNER SHOP\nMain Street 1\n\n")
    for item, price in (("Milk", "1.20"), ("Bread", "2.50"), ("Coffee beans", "8.90")):
        p.text(f"{item:<20}{price:>8}\n")
    p.text(f"{'TOTAL':<20}{'12.60':>8}\n")
    p.cut()


def code_pages(p: Escpos) -> None:
    """Code page switches with non-ASCII text, centred, emphasised, double size; no LF before the cut."""
    p.set(align="center", bold=True, double_height=True, double_width=True)
    p.text("Café Zürich\n")
    p.set(align="left", bold=False, double_height=False, double_width=False, normal_textsize=True)
    p._raw(b"\x1bt\x10")  # CP1252
    p._raw("Crème brûlée  4,50 €\n".encode("cp1252"))
    p._raw(b"\x1bt\x12")  # CP852
    p._raw("Żurek łódzki  12,00 zł\n".encode("cp852"))
    p._raw(b"\x1ba\x01\x1bE\x01")
    p._raw(b"Danke")  # the unfinished line: the proxy prints it before the footer
    p._raw(b"\x1dV\x41\x03")  # GS V 65 3: feed and cut


def raster_logo(p: Escpos) -> None:
    """A logo in all three image commands (GS v 0, ESC *, GS ( L), then text and a partial cut."""
    logo = Image.new("1", (256, 96), 1)
    draw = ImageDraw.Draw(logo)
    for x in range(0, 256, 7):
        draw.line((x, 0, 255 - x, 95), fill=0)
    draw.rectangle((20, 20, 90, 70), fill=0)
    p.image(logo, impl="bitImageRaster")
    p.image(logo, impl="bitImageColumn")
    p.image(logo, impl="graphics")
    p.text("LOGO SHOP\nTotal 9.99\n")
    p._raw(b"\x1dV\x01")


LAYOUTS: dict[str, tuple[Callable[[Escpos], None], bytes, bytes, bool]] = {
    # name: (layout, its cut, the state restored after the footer, unfinished line)
    "plain": (plain_text, b"\x1dV\x00", b"\x1bt\x00", False),
    "code_pages": (code_pages, b"\x1dVA\x03",
                   b"\x1b!\x00\x1bt\x12\x1ba\x01\x1bE\x01", True),
    "raster": (raster_logo, b"\x1dV\x01", b"\x1b2\x1bt\x00", False),  # ESC * set line spacing, ESC 2 reset it
}


def receipt_bytes(layout: Callable[[Escpos], None]) -> bytes:
    """What the POS sends for a layout (python-escpos's Dummy printer with the same profile)."""
    dummy = Dummy(profile=PROFILE)
    layout(dummy)
    return bytes(dummy.output)
