"""Configuration: TOML files plus ``POS_REFERRAL_*`` environment, read once, validated, frozen.

A config error stops start-up with one line naming the file, the key and what was expected,
because the person reading it is a shop owner at a POS machine, not a Python developer.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from pos_referral.config_sources import (
    ENV_PREFIX,
    ConfigError,
    Sources,
    apply_env,
    apply_overrides,
    environment,
    locate,
    read_toml,
)
from pos_referral.domain.money import MoneyError, parse_money
from pos_referral.domain.receipt_text import PRESETS, PatternError, compile_pattern
from pos_referral.domain.rules import Program, ProgramError, load_program

__all__ = ["ENV_PREFIX", "ConfigError", "Settings", "StoreConfig", "load_settings"]

class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class StoreSection(_Section):
    number: int = Field(1, ge=0, le=1023)
    name: str = "Our shop"
    timezone: str = "UTC"
    language: Literal["en", "id", "nb", "th", "it", "pl"] = "en"
    currency: str = Field("EUR", min_length=3, max_length=3)
    public_base_url: str = ""  # the one source of every public link (QR, card, mail); see Settings.public_base
    allowed_hosts: tuple[str, ...] = ()  # Host names this service answers to; empty = any
    owner_link_days: int = Field(180, ge=1, le=3650)  # an owner's signed link (?s=) stops working after this

    @field_validator("public_base_url")
    @classmethod
    def _plain_base(cls, value: str) -> str:
        if not value:
            return value
        parts = urlsplit(value.strip())
        if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
            raise ValueError(f"expected an address such as 'https://shop.example', not {value!r}")
        return value.strip().rstrip("/")

    @field_validator("allowed_hosts", mode="before")
    @classmethod
    def _host_list(cls, value: Any) -> Any:
        if isinstance(value, str):  # from the environment: POS_REFERRAL_STORE__ALLOWED_HOSTS=a.example,b.example
            value = [part for part in value.split(",") if part.strip()]
        if isinstance(value, list | tuple):
            return tuple(str(part).strip().lower() for part in value)
        return value

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r} (expected e.g. 'Europe/Oslo')") from None
        return value


class ServerSection(_Section):
    host: str = "127.0.0.1"
    port: int = Field(8000, ge=1, le=65535)
    threads: int = Field(8, ge=1, le=64)
    # a write that waits longer than this for the database (another process holding it) answers
    # 503 database_busy with Retry-After instead of keeping the till waiting
    busy_timeout_seconds: float = Field(30.0, gt=0, le=600)
    data_dir: str = "data"
    secure_cookies: bool = False


class PrinterSection(_Section):
    type: Literal["preview", "file", "network", "serial", "usb", "none"] = "preview"
    profile: str = "TM-T88V"
    paper_mm: Literal[58, 80] = 80
    language: Literal["", "en", "id", "nb", "th", "it", "pl"] = ""
    folder: str = "receipts"
    path: str = ""
    host: str = ""
    port: int = Field(9100, ge=1, le=65535)
    timeout: float = Field(3.0, gt=0, le=30)
    serial_url: str = ""
    baudrate: int = 9600
    usb_vendor: int = Field(0, ge=0, le=0xFFFF)
    usb_product: int = Field(0, ge=0, le=0xFFFF)

    @model_validator(mode="after")
    def _connection_given(self) -> PrinterSection:
        """Each connection type names what it needs, at start-up rather than at the first receipt."""
        missing = {"network": (self.host, 'needs host (the printer\'s address, e.g. host = "192.168.1.60")'),
                   "serial": (self.serial_url, 'needs serial_url (e.g. serial_url = "/dev/ttyUSB0")'),
                   "usb": (self.usb_vendor and self.usb_product,
                           "needs usb_vendor and usb_product (the printer's USB ids, e.g. 0x04b8 and 0x0202)"),
                   "file": (self.path, 'needs path (e.g. path = "/dev/usb/lp0")')}
        if self.type in missing and not missing[self.type][0]:
            raise ValueError(f'type = "{self.type}" {missing[self.type][1]}')
        return self


class ScannerSection(_Section):
    serial_url: str = ""
    baudrate: int = 9600
    till: str = ""  # the till whose page receives serial scans; empty = every open till page


class KioskSection(_Section):
    enabled: bool = True
    joins_per_minute: int = Field(3, ge=1)  # per client address


class DisplaySection(_Section):
    """The customer display (``/display/<till>``): how long each picture stays, how many may be open."""

    show_seconds: float = Field(20.0, ge=1, le=600)  # the customer's own code and its QR, then the offer again
    quote_seconds: float = Field(300.0, ge=5, le=3600)  # "you save" without a sale after it, then the offer again
    max_streams: int = Field(0, ge=0, le=32)  # open displays at once (each holds a [server] thread); 0 = half of them
    heartbeat_seconds: float = Field(15.0, ge=1, le=60)  # a dead display's stream is noticed within this


class CentralSection(_Section):
    url: str = ""
    token: str = ""
    sync_interval_seconds: float = Field(10.0, gt=0)
    voucher_offline_allowance: int = Field(0, ge=0)
    # on central: where the stores' backups ([backup] send_to_central) are kept, and how many per store
    backup_folder: str = ""  # empty: <data_dir>/store-backups
    backups_per_store: int = Field(3, ge=1, le=100)
    backup_max_mb: int = Field(4096, ge=1)  # a larger upload is refused (413)


class SecuritySection(_Section):
    failed_lookups_per_minute: int = Field(20, ge=1)  # per till token
    # per client address, over all its tills: above the per-till limit, so that one till's bad scans
    # never block the other tills behind the same POS server or NAT (each till adds at most its own limit)
    failed_lookups_per_minute_per_address: int = Field(100, ge=1)
    # the largest basket_total or refund amount taken, in major units; empty: by the shop's currency
    # (1000000.00, or 10000000000.00 where a unit is worth a thousandth of a euro or less, e.g. IDR, VND, KRW)
    max_amount_accepted: str = ""
    # no longer used: sign-ins are slowed down, never locked ([sign_in]); kept so older store.toml files load
    pin_attempts_before_lockout: int = Field(5, ge=1)
    lockout_seconds: int = Field(300, ge=1)

    @field_validator("max_amount_accepted")
    @classmethod
    def _plain_amount(cls, value: str) -> str:
        if not value:
            return value
        try:
            parse_money(value, field="max_amount_accepted")
        except MoneyError as exc:
            raise ValueError(str(exc)) from None
        return value

    @model_validator(mode="after")
    def _address_above_till(self) -> SecuritySection:
        if self.failed_lookups_per_minute_per_address < self.failed_lookups_per_minute:
            raise ValueError("failed_lookups_per_minute_per_address must be at least failed_lookups_per_minute "
                             "(else one till's bad scans would block every till at its address)")
        return self


class SignInSection(_Section):
    """Wrong PINs and passwords slow the guesser down (per name and address, per address); nobody is locked out."""

    free_attempts: int = Field(3, ge=1)  # wrong tries for one name from one address before delays begin
    free_attempts_per_address: int = Field(10, ge=1)  # wrong tries from one address, any names
    first_delay_seconds: float = Field(1.0, gt=0, le=60)  # then doubled for every further wrong try
    max_delay_seconds: float = Field(900.0, gt=0, le=86400)
    account_max_delay_seconds: float = Field(30.0, ge=0, le=300)  # what other addresses' failures can add
    till_names_days: int = Field(14, ge=0, le=365)  # the till's sign-in lists who signed in there this recently


class ManagerSection(_Section):
    idle_minutes: int = Field(30, ge=1, le=24 * 60)  # manager pages sign out after this long unused
    session_hours: int = Field(12, ge=1, le=72)  # and after this long in any case


class RewardsSection(_Section):
    release_interval_seconds: float = Field(60.0, gt=0)


class MailSection(_Section):
    """SMTP for invitations and status mails; off until configured. The password is never in the file:
    ``password_env`` names the environment variable that holds it."""

    enabled: bool = False
    host: str = ""
    port: int = Field(587, ge=1, le=65535)
    starttls: bool = True
    user: str = ""
    password_env: str = "POS_REFERRAL_SMTP_PASSWORD"
    sender: str = ""
    reminder_days: int = Field(14, ge=0)  # remind about an unused reward voucher after N days (0 = never)
    manager_addresses: tuple[str, ...] = ()  # budget warnings (80 % / 100 %) go to these addresses

    @model_validator(mode="after")
    def _complete(self) -> MailSection:
        if self.enabled and not (self.host and "@" in self.sender):
            raise ValueError("enabled mail needs host and sender (e.g. shop@example.com)")
        bad = next((a for a in self.manager_addresses if "@" not in a or len(a) > 254), None)
        if bad is not None:
            raise ValueError(f"manager_addresses: {bad!r} is not a mail address")
        return self


class RetentionSection(_Section):
    """How long records kept only for a while stay (services/retention.py purges them; ``db purge``)."""

    idempotency_days: int = Field(30, ge=1, le=3650)  # a replayed Idempotency-Key answers the same within this
    invite_mail_days: int = Field(90, ge=1, le=3650)  # an invited friend's address, if the mail was never sent
    # landing visits (which code's page was opened, when, in which language): the report rollup keeps the counts
    landing_visit_days: int = Field(400, ge=1, le=3650)
    purge_interval_seconds: float = Field(3600.0, gt=0)  # how often ``serve`` purges


class BackupSection(_Section):
    """Online backups of the store's database (services/backups/): where, how often, how many are kept."""

    enabled: bool = True  # ``serve`` backs up on its own every ``every_hours``
    folder: str = ""  # empty: <data_dir>/backups; a relative path is inside the data folder
    every_hours: float = Field(24.0, gt=0, le=24 * 31)
    keep_daily: int = Field(7, ge=1, le=366)  # the newest backup of each of the last N days with one
    keep_weekly: int = Field(4, ge=0, le=520)  # ... of each of the last N weeks
    keep_monthly: int = Field(12, ge=0, le=1200)  # ... of each of the last N months
    send_to_central: bool = False  # a chain store also sends its newest verified backup to central


class ProxySection(_Section):
    """The receipt print proxy: the POS prints to ``listen``, bytes go on to ``[printer]`` with a footer added."""

    enabled: bool = False  # run the proxy inside ``serve`` (``pos-referral proxy`` runs it alone)
    listen: str = "0.0.0.0:9100"  # host:port the POS prints to
    offer: Literal["armed", "every", "every_nth"] = "armed"  # which receipts get a referral code
    armed_seconds: int = Field(120, ge=5, le=3600)  # "Give card" on the till covers the next receipt within this
    every_nth: int = Field(3, ge=1, le=1000)  # offer = "every_nth": every n-th receipt
    layout: str = "generic"  # preset of the total/receipt-number patterns for common receipt layouts
    total_pattern: str = ""  # a regular expression whose first group is the receipt's total (overrides layout)
    receipt_pattern: str = ""  # ... whose first group is the receipt number (overrides layout)
    minimum_total: str = ""  # only receipts whose total reaches this get a code (empty: no minimum)
    footer_timeout_ms: int = Field(100, ge=10, le=2000)  # slower than this, the receipt passes unchanged

    @field_validator("layout")
    @classmethod
    def _known_layout(cls, value: str) -> str:
        if value not in PRESETS:
            raise ValueError(f"layout must be one of {', '.join(sorted(PRESETS))} (domain/receipt_text.py), "
                             f"not {value!r}")
        return value

    @field_validator("total_pattern", "receipt_pattern")
    @classmethod
    def _compiles(cls, value: str, info: ValidationInfo) -> str:
        if value:
            try:
                compile_pattern(value, str(info.field_name))
            except PatternError as exc:
                raise ValueError(str(exc)) from None
        return value

    @field_validator("minimum_total")
    @classmethod
    def _plain_minimum(cls, value: str) -> str:
        if value:
            try:
                parse_money(value, field="minimum_total")
            except MoneyError as exc:
                raise ValueError(str(exc)) from None
        return value

    @property
    def minimum_minor(self) -> int:
        """``minimum_total`` in minor units; 0 for no minimum."""
        return parse_money(self.minimum_total, field="minimum_total") if self.minimum_total else 0


class LogSection(_Section):
    """The service's log file (logs.py): rotated by size, one line per event, codes shortened, contacts redacted."""

    file: str = "pos-referral.log"  # in the data folder unless absolute; "" = no file (the console only)
    max_bytes: int = Field(5_000_000, ge=10_000, le=1_000_000_000)  # a file this big is rotated
    backup_count: int = Field(5, ge=1, le=100)  # rotated files kept (pos-referral.log.1 ... .5)
    level: Literal["debug", "info", "warning", "error"] = "info"  # `--log-level` wins

    @field_validator("level", mode="before")
    @classmethod
    def _lower(cls, value: Any) -> Any:
        return value.lower() if isinstance(value, str) else value


# currencies whose unit is worth about a thousandth of a euro or less: an ordinary basket is millions of units
SMALL_UNIT_CURRENCIES = frozenset({"IDR", "VND", "KRW", "LAK", "KHR", "MMK", "UZS", "IRR", "PYG", "GNF", "LBP",
                                   "COP", "UGX", "TZS", "MNT", "MGA", "SLE", "SLL"})


class StoreConfig(_Section):
    store: StoreSection = StoreSection()
    server: ServerSection = ServerSection()
    printer: PrinterSection = PrinterSection()
    scanner: ScannerSection = ScannerSection()
    kiosk: KioskSection = KioskSection()
    display: DisplaySection = DisplaySection()
    central: CentralSection = CentralSection()
    security: SecuritySection = SecuritySection()
    sign_in: SignInSection = SignInSection()
    manager: ManagerSection = ManagerSection()
    rewards: RewardsSection = RewardsSection()
    mail: MailSection = MailSection()
    retention: RetentionSection = RetentionSection()
    backup: BackupSection = BackupSection()
    proxy: ProxySection = ProxySection()
    log: LogSection = LogSection()

    @model_validator(mode="after")
    def _display_streams_leave_threads(self) -> StoreConfig:
        if self.display.max_streams > max(1, self.server.threads // 2):
            raise ValueError(f"[display] max_streams = {self.display.max_streams} would hold more than half of "
                             f"[server] threads = {self.server.threads}; lower it or raise threads")
        return self

    @property
    def display_streams(self) -> int:
        """How many customer displays may stream at once: ``[display] max_streams``, else half the threads."""
        return self.display.max_streams or max(1, self.server.threads // 2)

    @property
    def max_amount_minor(self) -> int:
        """The largest basket or refund the API accepts, in minor units (``[security] max_amount_accepted``)."""
        if self.security.max_amount_accepted:
            return parse_money(self.security.max_amount_accepted, field="max_amount_accepted")
        major = 10_000_000_000 if self.store.currency.upper() in SMALL_UNIT_CURRENCIES else 1_000_000
        return major * 100


class Settings(BaseModel):
    """Everything the composition root needs, frozen after loading."""

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    config: StoreConfig
    programs: tuple[Program, ...]
    data_dir: Path
    config_dir: Path
    config_file: Path | None = None  # the store.toml read
    shipped_config: bool = False  # True: the package's read-only defaults (no ``pos-referral init`` yet)

    @property
    def default_program(self) -> Program:
        for program in self.programs:
            if program.default:
                return program
        return self.programs[0]

    def program(self, program_id: str) -> Program | None:
        return next((p for p in self.programs if p.id == program_id), None)

    @property
    def public_base(self) -> str:
        """Where every public link (receipt QR, card, landing page, mail) points, without a trailing slash.

        Only from configuration, never from a request (its ``Host`` header is the caller's to forge):
        ``[store] public_base_url``, else the listen address; a wildcard listen address (0.0.0.0, ::)
        becomes this machine's host name, the one name of it that does not depend on the network."""
        configured = self.config.store.public_base_url
        if configured:
            return configured
        server = self.config.server
        host = server.host.strip("[]")
        if host in ("", "0.0.0.0", "::"):
            host = socket.gethostname() or "127.0.0.1"
        if ":" in host:
            host = f"[{host}]"
        return f"http://{host}:{server.port}"

    def config_origin(self) -> str:
        """Said at start-up: the store.toml this service runs on, or that it runs on the shipped defaults."""
        if self.shipped_config or self.config_file is None:
            return "shipped defaults (read-only) - run `pos-referral init` to set up this shop"
        return str(self.config_file)

    def public_base_warning(self) -> str | None:
        """Said once when serving starts: links that only this machine can open, or None."""
        if self.config.store.public_base_url:
            return None
        base = self.public_base
        host = urlsplit(base).hostname or ""
        try:
            loopback = ipaddress.ip_address(host).is_loopback
        except ValueError:
            loopback = host == "localhost"
        if loopback:
            return (f"[store] public_base_url is empty: receipt QR codes, cards and mails point at {base}, "
                    f"which phones cannot reach (127.0.0.1 is the phone itself): run `pos-referral init`, "
                    f"or set public_base_url to the address customers' phones can open")
        return (f"[store] public_base_url is empty: receipt QR codes, cards and mails point at {base}; "
                f"set it if phones cannot open that address")


def load_settings(
    config_path: Path | None = None,
    *,
    data_dir: Path | None = None,
    environ: Mapping[str, str] | None = None,
    overrides: Mapping[str, Mapping[str, Any]] | None = None,
) -> Settings:
    """Read ``store.toml`` and every ``programs/*.toml`` beside it; raise ConfigError on any problem.

    Which ``store.toml``: ``config_path`` (``--config``) if given, else the shop's own in
    ``<data_dir>/config/`` (``pos-referral init``), else the shipped defaults (config_sources.locate)."""
    environ = environment() if environ is None else environ
    where = locate(config_path, data_dir, environ)
    config_path = where.path
    sources = Sources(config_path)
    raw = apply_env(read_toml(config_path), environ, sources)
    apply_overrides(raw, overrides, sources)
    try:
        store_config = StoreConfig.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(sources.describe(exc)) from None

    programs_dir = config_path.parent / "programs"
    files = sorted(programs_dir.glob("*.toml"))
    if not files:
        raise ConfigError(f"{programs_dir}: no program found (expected at least one programs/*.toml)")
    programs: list[Program] = []
    for path in files:
        try:
            programs.append(load_program(read_toml(path)))
        except ProgramError as exc:
            raise ConfigError(f"{path}: {exc}") from None
    ids = [p.id for p in programs]
    if len(set(ids)) != len(ids):
        raise ConfigError(f"{programs_dir}: two programs share one id ({sorted(ids)})")
    if sum(p.default for p in programs) > 1:
        raise ConfigError(f"{programs_dir}: more than one program says default = true")

    env_data = environ.get(ENV_PREFIX + "DATA_DIR")
    chosen = data_dir or where.data_dir or (Path(env_data) if env_data else Path(store_config.server.data_dir))
    return Settings(
        config=store_config,
        programs=tuple(programs),
        data_dir=chosen.resolve(),
        config_dir=config_path.parent.resolve(),
        config_file=config_path.resolve(),
        shipped_config=where.shipped,
    )
