"""What ``serve`` and ``central serve`` both do to waitress before it starts."""

from __future__ import annotations

import logging


def quiet_queue_warnings() -> None:
    """Silence waitress's "Task queue depth is N" warning, logged on every request that finds all
    threads busy: at a till a burst of requests queued for a millisecond is normal, and formatting
    and writing that line per request cost ~5% of a quote under load (the bench baseline is quiet too)."""
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)
