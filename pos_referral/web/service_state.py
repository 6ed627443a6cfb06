"""The service's state in the shop's words: the printer, the chain sync, the version.

One place for the words, so the till's status chips and the home page never disagree.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib.metadata import version
from typing import Any

from flask_babel import gettext as _

from pos_referral.bootstrap import Store
from pos_referral.services.health import sync_health


def printer_words() -> dict[str, str]:
    """``printer.state`` of /healthz (printing/status.py) in words; ``none``: no printer set up."""
    return {"ready": _("Ready"), "paper_low": _("Paper low"), "paper_out": _("Paper out"),
            "cover_open": _("Cover open"), "offline": _("Offline"), "unknown": _("No status"),
            "none": _("Not set up")}


def late_words(waiting: int, seconds: float) -> str:
    return _("late: %(n)s waiting for %(min)s min", n=waiting, min=max(1, round(seconds / 60)))


@dataclass(frozen=True)
class ServiceState:
    printer: str  # a key of printer_words()
    printer_text: str
    sync: str  # standalone | ok | late | unknown | central
    sync_text: str
    version: str


def service_state(store: Store, *, central: bool = False) -> ServiceState:
    """``central``: this is the chain's central service, which syncs nothing itself."""
    status = store.printer_status()
    words = printer_words()
    printer = "none" if status is None else str(status.get("state") or "unknown")
    printer = printer if printer in words else "unknown"
    sync: dict[str, Any] = {"mode": "central"} if central else sync_health(store.ctx)
    if sync["mode"] == "central":
        state, text = "central", _("This is the chain's central service")
    elif sync["mode"] == "standalone":
        state, text = "standalone", _("Standalone shop: nothing to sync")
    elif sync["state"] == "late":
        state, text = "late", late_words(sync["waiting"], sync["oldest_waiting_seconds"])
    elif sync["state"] == "ok":
        state, text = "ok", _("Up to date")
    else:
        state, text = "unknown", _("unknown")
    return ServiceState(printer=printer, printer_text=words[printer], sync=state, sync_text=text,
                        version=version("pos-referral"))
