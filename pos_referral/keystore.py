"""The store's secrets: code keys, identity pepper, session key, audit key — in ``<data_dir>/secrets.json``.

Generated with ``secrets`` on first start (a standalone shop needs nothing else), replaced by
the chain's keys when central sends them. The file is created 0600 and never logged; keys never
appear in the repository, receipts or logs. The audit key (the audit log's HMAC, services/audit.py)
is the store's own: it never leaves this file, so whoever has only the database cannot re-chain the log.
A secrets file from before the audit key existed gets one added on first load.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pos_referral.domain.codes import Keyring
from pos_referral.domain.errors import Refusal
from pos_referral.private_files import private_dir, replace_private, restrict

FILE_NAME = "secrets.json"


@dataclass(frozen=True)
class StoreSecrets:
    keyring: Keyring
    pepper: bytes
    session_key: bytes
    audit_key: bytes
    # the peppers of shops that ran standalone before joining the chain: their customers' phones and
    # emails stay hashed under them (only the hash is kept, so they cannot be re-hashed), and lookups
    # by phone or email try each of them after the chain's own (services/customers.py)
    old_peppers: tuple[bytes, ...] = ()

    def __repr__(self) -> str:
        return "StoreSecrets(<hidden>)"

    @property
    def peppers(self) -> tuple[bytes, ...]:
        """The chain's pepper (new customers are hashed under it) first, then the adopted ones."""
        return (self.pepper, *self.old_peppers)

    def to_dict(self) -> dict[str, object]:
        return {"keyring": self.keyring.to_dict(), "pepper": self.pepper.hex(), "session_key": self.session_key.hex(),
                "audit_key": self.audit_key.hex(), "old_peppers": [p.hex() for p in self.old_peppers]}

    @classmethod
    def from_dict(cls, data: dict[str, object]) -> StoreSecrets:
        return cls(
            keyring=Keyring.from_dict(data["keyring"]),  # type: ignore[arg-type]
            pepper=bytes.fromhex(str(data["pepper"])),
            session_key=bytes.fromhex(str(data["session_key"])),
            audit_key=bytes.fromhex(str(data["audit_key"])) if "audit_key" in data else secrets.token_bytes(32),
            old_peppers=tuple(bytes.fromhex(str(p)) for p in data.get("old_peppers", ())),  # type: ignore[attr-defined]
        )

    @classmethod
    def generate(cls) -> StoreSecrets:
        return cls(keyring=Keyring.generate(), pepper=secrets.token_bytes(32), session_key=secrets.token_bytes(32),
                   audit_key=secrets.token_bytes(32))


class UnjoinedSecrets(StoreSecrets):
    """A chain store's secrets before central has sent the chain's keys (the first sync).

    Codes minted or phone numbers hashed under this store's own keys could never join the chain
    later (central would not recognise them, the same friend would hash differently at two
    stores), so until the keys arrive anything that needs them is refused as ``store_not_joined``
    (503): the till says the shop is not connected yet, nothing is written. The session key still
    works, so staff can sign in. The relay's first sync replaces these (``sync/inbound.py``)."""

    def __getattribute__(self, name: str) -> Any:
        if name in ("keyring", "pepper", "peppers"):
            raise Refusal("store_not_joined")
        return super().__getattribute__(name)

    def local(self) -> StoreSecrets:
        """The store's own secrets file, to compare with the chain's keys on joining."""
        get = object.__getattribute__
        return StoreSecrets(keyring=get(self, "keyring"), pepper=get(self, "pepper"),
                            session_key=get(self, "session_key"), audit_key=get(self, "audit_key"),
                            old_peppers=get(self, "old_peppers"))

    def __repr__(self) -> str:
        return "UnjoinedSecrets(<hidden>)"


def save_secrets(data_dir: Path, value: StoreSecrets) -> None:
    """Write atomically (temp file + fsync + rename) with owner-only permissions."""
    private_dir(data_dir)
    replace_private(data_dir / FILE_NAME, json.dumps(value.to_dict()).encode())


def load_or_create_secrets(data_dir: Path) -> StoreSecrets:
    path = data_dir / FILE_NAME
    if path.exists():
        restrict(path)  # a file an older version (or a restore) left readable to others
        data = json.loads(path.read_text())
        loaded = StoreSecrets.from_dict(data)
        if "audit_key" not in data:  # from before the keyed audit log: keep the new key for good
            save_secrets(data_dir, loaded)
        return loaded
    value = StoreSecrets.generate()
    save_secrets(data_dir, value)
    return value
