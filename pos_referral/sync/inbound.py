"""Apply central's changes at a store: the chain's keys, released vouchers, revocations, reward states.

Everything is idempotent (insert-or-ignore, conditional updates), so a page of changes applied
twice — the cursor write was lost in a crash — changes nothing the second time.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from pos_referral.db.base import table
from pos_referral.db.models import Code, Customer, Reward
from pos_referral.db.upsert import insert_ignore
from pos_referral.domain.codes import Keyring
from pos_referral.keystore import StoreSecrets, UnjoinedSecrets, save_secrets
from pos_referral.services.context import StoreContext
from pos_referral.services.privacy.erase import erase

logger = logging.getLogger(__name__)


class KeysConflict(Exception):
    """This store already has codes or customers under its own keys: it cannot silently switch."""


def _dt(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def chain_secrets_from(keys: dict[str, Any], mine: StoreSecrets) -> StoreSecrets:
    """The chain's keys and peppers as this store's secrets (its session and audit keys stay its own)."""
    return StoreSecrets(keyring=Keyring.from_dict(keys["keyring"]), pepper=bytes.fromhex(str(keys["pepper"])),
                        session_key=mine.session_key, audit_key=mine.audit_key,
                        old_peppers=tuple(bytes.fromhex(str(p)) for p in keys.get("old_peppers", ())))


def adopt_keys(conn: sa.Connection, ctx: StoreContext, keys: dict[str, Any]) -> bool:
    """Take the chain's keyring and peppers; True when changed.

    A store whose own keys the chain holds (a new store's first keys, or a shop that ran standalone and
    joined with ``pos-referral chain join``: central adopted its keys and pepper) takes them as they come.
    A store with customers under keys the chain does not hold is refused: its codes would stop parsing.
    """
    mine = ctx.secrets
    unjoined = isinstance(mine, UnjoinedSecrets)
    if isinstance(mine, UnjoinedSecrets):
        mine = mine.local()
    new = chain_secrets_from(keys, mine)
    if new.to_dict() == mine.to_dict():
        if unjoined:  # the file already holds the chain's keys (a crash after saving them): use them now
            object.__setattr__(ctx, "secrets", mine)
        return unjoined
    held = all(new.keyring.holds(k.secret) for k in (*mine.keyring.keys.values(), *mine.keyring.adopted)) and \
        mine.pepper in new.peppers
    if not held and conn.execute(sa.select(sa.func.count()).select_from(Customer)).scalar_one():
        raise KeysConflict("this shop already has customers and codes under its own keys, which the chain does "
                           "not hold yet: run `pos-referral chain join` once, so the chain adopts them (its "
                           "printed codes keep working at every store), then sync")
    save_secrets(ctx.settings.data_dir, new)
    # the one place secrets change in a running service: every request reads ctx.secrets afresh
    object.__setattr__(ctx, "secrets", new)
    logger.info("took the chain's keys (%r, %d adopted pepper(s))", new.keyring, len(new.old_peppers))
    return True


def apply_change(conn: sa.Connection, kind: str, payload: dict[str, Any], now: datetime) -> None:
    if kind == "voucher":
        _voucher(conn, payload, now)
    elif kind == "revocation":
        conn.execute(sa.update(Code).where(Code.code == payload["code"], Code.revoked_at.is_(None),
                                           Code.redeemed_at.is_(None)).values(revoked_at=_dt(payload["at"])))
    elif kind == "voucher_used":  # used at another store (central/apply.py): not again here
        conn.execute(sa.update(Code).where(Code.code == payload["code"], Code.redeemed_at.is_(None))
                     .values(redeemed_at=_dt(payload["at"]), redeemed_sale_id=payload["sale_id"]))
    elif kind == "reward_status":
        conn.execute(sa.update(Reward).where(Reward.id == payload["reward_id"],
                                             Reward.status.in_(("pending", "released")))
                     .values(status=payload["status"]))
    elif kind == "forget":  # a customer forgotten at some store of the chain: erase our copy too
        erase(conn, [str(i) for i in payload["customer_ids"]], now)
    else:
        logger.warning("ignoring a change of unknown kind %r (newer central?)", kind)


def _voucher(conn: sa.Connection, p: dict[str, Any], now: datetime) -> None:
    r, code, home = p["reward"], p["code"], int(p["home_store"])
    insert_ignore(conn, table(Customer), dict(id=r["customer_id"], identity_hash=None, identity_hint="",
                                              first_name="", language="", store_no=home, created_at=now))
    row = {**r, **{k: _dt(r[k]) for k in ("hold_until", "released_at", "expires_at", "created_at")}}
    row["redemption_id"] = None  # the redemption may be another store's
    if insert_ignore(conn, table(Reward), row) == 0:  # our own pending reward: now released
        conn.execute(sa.update(Reward).where(Reward.id == r["id"], Reward.status == "pending").values(
            status=r["status"], released_at=row["released_at"], voucher_code=r["voucher_code"],
            expires_at=row["expires_at"]))
    insert_ignore(conn, table(Code), dict(
        code=code["code"], kind="voucher", program_id=code["program_id"], customer_id=r["customer_id"], variant="",
        channel="reward", store_no=home, till_id="", created_at=_dt(code["created_at"]),
        expires_at=_dt(code["expires_at"]), reward_id=r["id"]))
