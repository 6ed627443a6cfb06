"""Where a shop that joined a chain later finds central: ``<data_dir>/chain.json`` (0600), written by
``pos-referral chain join``.

The shop's config file is the operator's (and moves with the data folder), so the join does not
rewrite it: it keeps central's address and the store's sync token here, beside the secrets, and the
composition root reads them when the config names no central. A ``[central] url`` in the config wins.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from pos_referral.config import Settings
from pos_referral.private_files import private_dir, replace_private, restrict

FILE_NAME = "chain.json"


@dataclass(frozen=True)
class ChainLink:
    url: str
    token: str

    def __repr__(self) -> str:
        return f"ChainLink({self.url!r}, token=<hidden>)"


def save_link(data_dir: Path, link: ChainLink) -> None:
    """Write atomically (temp file + fsync + rename), owner-only."""
    private_dir(data_dir)
    replace_private(data_dir / FILE_NAME, json.dumps({"url": link.url, "token": link.token}).encode())


def load_link(data_dir: Path) -> ChainLink | None:
    path = data_dir / FILE_NAME
    if not path.exists():
        return None
    restrict(path)
    data = json.loads(path.read_text())
    return ChainLink(str(data["url"]), str(data["token"]))


def with_chain_link(settings: Settings) -> Settings:
    """The settings with central's address and token from the join, when the config names no central."""
    central = settings.config.central
    link = None if central.url else load_link(settings.data_dir)
    if link is None:
        return settings
    config = settings.config.model_copy(update={"central": central.model_copy(
        update={"url": link.url, "token": link.token})})
    return settings.model_copy(update={"config": config})
