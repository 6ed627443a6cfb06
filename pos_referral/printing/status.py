"""Printer status as a value: what the printer said (or that it said nothing), never an exception."""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from typing import Any

logger = logging.getLogger(__name__)

DLE_EOT = b"\x10\x04"  # real-time status: n=1 printer, n=2 offline cause, n=4 roll paper sensor


class PrinterError(Exception):
    """``Printer.send`` failed: the job was not (provably) delivered and will be retried."""


@dataclass(frozen=True)
class PrinterStatus:
    """``online``/``cover_open`` are None and ``paper`` is "unknown" when the printer does not answer."""

    online: bool | None = None
    paper: str = "unknown"  # ok | near_end | out | unknown
    cover_open: bool | None = None
    error: str = ""  # why the printer could not be reached

    @property
    def ready(self) -> bool:
        """Worth sending a job: reachable and not known to be offline, out of paper or open."""
        return not self.error and self.online is not False and self.paper != "out" and not self.cover_open

    @property
    def answered(self) -> bool:
        return self.online is not None

    def summary(self) -> str:
        if self.error:
            return self.error
        if self.cover_open:
            return "cover open"
        if self.paper == "out":
            return "paper out"
        if self.online is False:
            return "offline"
        if self.paper == "near_end":
            return "paper near end"
        return "ready" if self.online else "no status from printer"

    def state(self) -> str:
        """One word a till can translate: ready, paper_low, paper_out, cover_open, offline or unknown."""
        if self.error:
            return "offline"  # not reachable: the cashier's fix is the same (power, cable, network)
        if self.cover_open:
            return "cover_open"
        if self.paper == "out":
            return "paper_out"
        if self.online is False:
            return "offline"
        if self.paper == "near_end":
            return "paper_low"
        return "ready" if self.online else "unknown"

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "ready": self.ready, "summary": self.summary(), "state": self.state()}


def unreachable(reason: str) -> PrinterStatus:
    return PrinterStatus(error=reason[:200])


def parse_status(printer: int, offline_cause: int | None, paper: int | None) -> PrinterStatus | None:
    """Decode DLE EOT 1, 2 and 4 answers; None when the first byte is not a status byte."""
    if printer & 0x93 != 0x12:  # fixed bits: 0 and 7 clear, 1 and 4 set
        return None
    cover = bool(offline_cause & 0x04) if offline_cause is not None else None
    paper_state = "unknown"
    if paper is not None:
        paper_state = "out" if paper & 0x60 else ("near_end" if paper & 0x0C else "ok")
    if offline_cause is not None and offline_cause & 0x20:
        paper_state = "out"
    return PrinterStatus(online=not printer & 0x08, paper=paper_state, cover_open=cover)
