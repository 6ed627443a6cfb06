"""Running the service on a real machine: the systemd unit (systemd.py), the Windows service (windows_service.py)."""


class ServiceError(Exception):
    """Installing or removing the service cannot go on; the message says why and what to do."""
