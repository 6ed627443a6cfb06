"""``[store] allowed_hosts``: answer only to the names this shop is reached by.

Links never take their host from a request (``Settings.public_base``), so a forged ``Host`` cannot
redirect a QR code; this refuses such requests outright (400, problem+json for the API, a page
otherwise) through Flask's own ``TRUSTED_HOSTS``. Empty = any Host is answered.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask, request

from pos_referral.config import Settings


def trusted_hosts(settings: Settings) -> list[str]:
    """The configured names, plus the public address's host (every printed link) and a named listen address."""
    configured = list(settings.config.store.allowed_hosts)
    if not configured:
        return []
    names = [*configured, urlsplit(settings.public_base).hostname or ""]
    listen = settings.config.server.host
    if listen not in ("", "0.0.0.0", "::"):
        names.append(listen)
    return sorted({name for name in names if name})


def restrict_hosts(app: Flask, settings: Settings) -> None:
    hosts = trusted_hosts(settings)
    if not hosts:
        return
    app.config["TRUSTED_HOSTS"] = hosts

    @app.before_request
    def _check_host() -> None:
        """Reading ``request.host`` checks it against TRUSTED_HOSTS (400 Bad Request when not one)."""
        _ = request.host
