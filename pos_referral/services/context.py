"""What every service function needs, built once by bootstrap and passed down explicitly."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from pos_referral.config import Settings
from pos_referral.db.base import utcnow
from pos_referral.db.engine import Database
from pos_referral.keystore import StoreSecrets
from pos_referral.services.code_cache import CodeCache
from pos_referral.services.report_facts import RecentQuotes


@dataclass(frozen=True)
class StoreContext:
    settings: Settings
    db: Database
    secrets: StoreSecrets
    clock: Callable[[], datetime] = field(default=utcnow)
    code_cache: CodeCache = field(default_factory=CodeCache)
    recent_quotes: RecentQuotes = field(default_factory=RecentQuotes)

    @property
    def store_no(self) -> int:
        return self.settings.config.store.number

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.settings.config.store.timezone)

    @property
    def public_base(self) -> str:
        """The address in every public link; from the configuration only (``Settings.public_base``)."""
        return self.settings.public_base

    def landing_url(self, code: str) -> str:
        return f"{self.public_base}/r/{code}"

