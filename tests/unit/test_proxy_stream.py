"""The print proxy's byte stream: the footer lands before each cut, every other byte passes unchanged,
wherever the TCP segments split the receipt."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pos_referral.proxy.build import decoding
from pos_referral.proxy.state import PrinterState
from pos_referral.proxy.stream import ReceiptStream
from tests.proxy_support import FOOTER, LAYOUTS, PREP, receipt_bytes, with_footer

RECEIPTS = {name: receipt_bytes(layout) for name, (layout, *_rest) in LAYOUTS.items()}


class Recorder:
    """A footer source stand-in: the fixed footer, and the texts it was asked about."""

    def __init__(self, footer: bytes | None = FOOTER) -> None:
        self.footer, self.texts = footer, []  # type: ignore[var-annotated]

    def __call__(self, text: str) -> bytes | None:
        self.texts.append(text)
        return self.footer


def _stream(footer: Recorder) -> ReceiptStream:
    from pos_referral.config import StoreConfig

    table = decoding(StoreConfig.model_validate({"printer": {"profile": "TM-T88V"}, "store": {"language": "en"}}))
    return ReceiptStream(footer, PrinterState(table.codecs, table.footer_page))


def _run(segments: list[bytes], footer: Recorder | None = None) -> tuple[list[bytes], Recorder]:
    footer = footer or Recorder()
    stream = _stream(footer)
    writes = [w for segment in segments for w in stream.feed(segment)]
    writes.append(stream.flush())
    return [w for w in writes if w], footer


def _expected(name: str, receipt: bytes | None = None) -> bytes:
    _layout, cut, restore, unfinished = LAYOUTS[name]
    return with_footer(receipt or RECEIPTS[name], cut, restore, unfinished=unfinished)


@pytest.mark.parametrize("name", list(LAYOUTS))
def test_footer_lands_before_the_cut_and_nothing_else_changes(name: str) -> None:
    writes, footer = _run([RECEIPTS[name]])
    assert b"".join(writes) == _expected(name)
    assert len(footer.texts) == 1


@pytest.mark.parametrize("name", list(LAYOUTS))
def test_every_split_point_gives_the_same_bytes(name: str) -> None:
    receipt, expected = RECEIPTS[name], _expected(name)
    step = 1 if len(receipt) < 1000 else 7  # the raster receipt: every 7th point (and all of its headers below)
    for at in range(0, len(receipt) + 1, step):
        writes, _ = _run([receipt[:at], receipt[at:]])
        assert b"".join(writes) == expected, f"split at {at}"


@pytest.mark.parametrize("name", list(LAYOUTS))
def test_byte_by_byte(name: str) -> None:
    writes, footer = _run([bytes([b]) for b in RECEIPTS[name]])
    assert b"".join(writes) == _expected(name)
    assert len(footer.texts) == 1


@settings(max_examples=60, deadline=None)
@given(name=st.sampled_from(list(LAYOUTS)), cuts=st.lists(st.integers(min_value=0, max_value=20_000), max_size=40),
       repeat=st.integers(min_value=1, max_value=3))
def test_random_segmentation_of_several_receipts(name: str, cuts: list[int], repeat: int) -> None:
    data = RECEIPTS[name] * repeat
    points = sorted({c % (len(data) + 1) for c in cuts})
    segments = [data[a:b] for a, b in zip([0, *points], [*points, len(data)], strict=True)]
    writes, footer = _run(segments)
    assert b"".join(writes) == _expected(name) * repeat
    assert len(footer.texts) == repeat


def test_the_footer_block_is_one_write_built_before_it_is_written() -> None:
    _layout, cut, restore, _unfinished = LAYOUTS["plain"]
    writes, _ = _run([RECEIPTS["plain"]])
    assert PREP + FOOTER + restore + cut in writes


def test_cut_bytes_inside_a_logo_are_not_a_cut() -> None:
    raster = b"\x1dv0\x00\x03\x00\x02\x00" + b"\x1dV\x00" + b"\x1dV\x00"  # 3x2 bytes of pixels that look like cuts
    column = b"\x1b*\x00\x03\x00" + b"\x1dV\x01"
    graphics = b"\x1d(L\x06\x00\x30\x70\x1dV\x00\x00"
    receipt = raster + column + graphics + b"Total 1.00\n\x1dV\x00"
    writes, footer = _run([receipt])
    assert b"".join(writes) == receipt[:-3] + PREP + FOOTER + b"\x1bt\x00" + receipt[-3:]
    assert footer.texts == ["Total 1.00\n"]


@pytest.mark.parametrize("cut", [b"\x1dV\x00", b"\x1dV\x01", b"\x1dV0", b"\x1dV1", b"\x1dVA\x05", b"\x1dVB\x00",
                                 b"\x1dVa\x01", b"\x1dVb\x02", b"\x1dVg\x03", b"\x1dVh\x04", b"\x1bi", b"\x1bm"])
def test_every_form_of_the_cut_gets_the_footer(cut: bytes) -> None:
    receipt = b"Thanks\n" + cut + b"Next\n" + cut
    writes, footer = _run([receipt])
    block = PREP + FOOTER + b"\x1bt\x00"  # the POS chose no code page: the printer's default (page 0) is put back
    assert b"".join(writes) == b"Thanks\n" + block + cut + b"Next\n" + block + cut
    assert footer.texts == ["Thanks\n", "Next\n"]


def test_no_footer_or_an_empty_one_passes_the_receipt_unchanged() -> None:
    for answer in (None, b""):
        writes, footer = _run([RECEIPTS["code_pages"]], Recorder(answer))
        assert b"".join(writes) == RECEIPTS["code_pages"]
        assert len(footer.texts) == 1


def test_a_receipt_without_text_is_not_offered_a_footer() -> None:
    writes, footer = _run([b"\x1b@\x1dV\x00\x10\x04\x01"])
    assert b"".join(writes) == b"\x1b@\x1dV\x00\x10\x04\x01"
    assert footer.texts == []


def test_receipt_text_is_decoded_under_the_code_pages_the_pos_chose() -> None:
    _writes, footer = _run([RECEIPTS["code_pages"]])
    assert footer.texts == ["Café Zürich\nCrème brûlée  4,50 €\nŻurek łódzki  12,00 zł\nDanke\n"]


def test_state_after_esc_at_is_the_default() -> None:
    receipt = b"\x1ba\x01\x1bE\x01Hi\n\x1b@Bye\n\x1dV\x00"
    writes, _ = _run([receipt])
    assert b"".join(writes) == receipt[:-3] + PREP + FOOTER + b"\x1bt\x00" + receipt[-3:]


def test_line_spacing_size_reverse_and_upside_down_are_restored() -> None:
    settings_given = b"\x1b3\x40\x1d!\x11\x1dB\x01\x1b{\x01\x1b-\x02\x1bM\x01\x1bG\x01\x1bR\x02"
    receipt = settings_given + b"Big\n\x1b2\x1dV\x00"
    writes, _ = _run([receipt])
    restore = b"\x1bt\x00" + settings_given[3:] + b"\x1b2"  # ESC 2 replaced ESC 3 n, in the order given
    assert b"".join(writes) == receipt[:-3] + PREP + FOOTER + restore + receipt[-3:]


def test_unknown_commands_and_realtime_queries_pass_through() -> None:
    receipt = b"\x1b\x99\x10\x04\x01\x1dr\x01\x1d\x99Odd\n\x1b@\x1dV\x00"
    writes, _ = _run([bytes([b]) for b in receipt])
    assert b"".join(writes) == receipt[:-3] + PREP + FOOTER + b"\x1bt\x00" + receipt[-3:]


FAKE_CUT = b"\x1dV\x00"
PAYLOADS = {
    "GS 8 L graphics": b"\x1d8L\x07\x00\x00\x00\x30\x70" + FAKE_CUT + b"\x00\x00",
    "GS ( k QR store": b"\x1d(k\x06\x001P0" + FAKE_CUT,
    "GS k CODE128": b"\x1dkI\x05{B" + FAKE_CUT,
    "GS * downloaded image": b"\x1d*\x01\x01" + FAKE_CUT + FAKE_CUT + b"\x1dV",
    "ESC & user characters": b"\x1b&\x03\x41\x42\x01" + FAKE_CUT + b"\x01" + FAKE_CUT,
    "FS q NV image": b"\x1cq\x01\x01\x00\x01\x00" + FAKE_CUT + FAKE_CUT + b"\x1dV",
    "ESC ( A beeper": b"\x1b(A\x03\x00" + FAKE_CUT,
    "DLE DC4 pulse": b"\x10\x14\x01\x00\x01",
}


@pytest.mark.parametrize("name", list(PAYLOADS))
def test_payload_bytes_that_look_like_a_cut_are_data(name: str) -> None:
    receipt = PAYLOADS[name] + b"Total 2.00\n" + FAKE_CUT
    for segments in ([receipt], [bytes([b]) for b in receipt]):
        writes, footer = _run(segments)
        assert b"".join(writes) == receipt[:-3] + PREP + FOOTER + b"\x1bt\x00" + FAKE_CUT
        assert footer.texts == ["Total 2.00\n"]
