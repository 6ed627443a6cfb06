"""What this machine is called on the shop's network, and its time zone: asked for by ``pos-referral init``.

No network traffic: the LAN address is the source address the system would use towards a private
address (a UDP ``connect`` sends nothing), else the host name; the time zone is read from the system.
"""

from __future__ import annotations

import contextlib
import ipaddress
import os
import socket
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

# an address in a private range that no one answers on: only the route to it is looked up
_PROBE = ("10.255.255.255", 1)


def lan_address() -> str:
    """This machine's address on the local network (e.g. 192.168.1.20), else its host name."""
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
            udp.connect(_PROBE)
            address = str(udp.getsockname()[0])
        if not ipaddress.ip_address(address).is_loopback and address != "0.0.0.0":
            return address
    except OSError:
        pass
    return socket.gethostname() or "127.0.0.1"


def local_timezone(localtime: Path = Path("/etc/localtime")) -> str:
    """The system's zone name (e.g. "Europe/Oslo"), else "UTC"."""
    candidates = [os.environ.get("TZ", "").lstrip(":")]
    with contextlib.suppress(OSError):
        candidates.append(Path("/etc/timezone").read_text(encoding="utf-8").strip())
    try:
        target = str(localtime.resolve())
        if "zoneinfo/" in target:
            candidates.append(target.split("zoneinfo/", 1)[1])
    except OSError:
        pass
    for name in candidates:
        if not name:
            continue
        try:
            ZoneInfo(name)
            return name
        except (ZoneInfoNotFoundError, ValueError):
            continue
    return "UTC"
