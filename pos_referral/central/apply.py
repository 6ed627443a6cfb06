"""Apply one store's batch of new events to the chain's business tables (under the chain lock).

Set-oriented for throughput: the rows a batch touches are read in a few queries up front, the
decisions are made in memory, and inserts go out as multi-row statements. Events that must see
earlier rows in the database (refunds, voucher uses, a placeholder referrer becoming real) flush
what is pending first. Ledger rows the tills wrote are mirrored as the store wrote them (same
customer ids), so central's per-customer till balances equal the stores'; central's own
decisions (conflict voids, release, caps, clawbacks) are separate entries.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from pos_referral.central.adopted_releases import adopt_release
from pos_referral.central.bulk import any_of, bulk_insert
from pos_referral.central.forget import apply_forget
from pos_referral.central.payloads import minor_units
from pos_referral.db.base import table
from pos_referral.db.models import Code, Customer, LedgerEntry, Redemption, Reward
from pos_referral.db.models_central import CustomerLink, Reconciliation
from pos_referral.db.models_promo import CardOffer
from pos_referral.domain import codes as codes_mod
from pos_referral.domain.chain_ids import chain_sale_id, placeholder_customer_id
from pos_referral.services.context import StoreContext

logger = logging.getLogger(__name__)

_FLUSH_ORDER = (Customer, Code, Redemption, Reward, LedgerEntry, CustomerLink, Reconciliation, CardOffer)


def _at(value: str) -> datetime:
    return datetime.fromisoformat(value)


class BatchApplier:
    """Applies events (dicts with event_id, type, payload) of one store, in order, on ``conn``."""

    def __init__(self, conn: sa.Connection, ctx: StoreContext, store_no: int, now: datetime) -> None:
        self.conn, self.ctx, self.store_no, self.now = conn, ctx, store_no, now
        self.pending: dict[type, list[dict[str, Any]]] = {m: [] for m in _FLUSH_ORDER}
        self.changes: list[tuple[str, dict[str, Any]]] = []
        self.known: set[str] = set()
        self.hash_owner: dict[str, str] = {}
        self.code_owner: dict[str, str] = {}
        self.canon: dict[str, str] = {}
        self.taken: set[tuple[str, str]] = set()
        self.conflicts = 0
        self.offered_sales: set[str] = set()
        self.programs = {p.id: p for p in ctx.settings.programs}  # looked up per event: a dict, not a scan

    # --- reading what the batch touches -------------------------------------------------------
    def prefetch(self, events: list[dict[str, Any]]) -> None:
        ids: set[str] = set()
        hashes: set[str] = set()
        codes: set[str] = set()
        offers: set[str] = set()
        for e in events:
            p = e["payload"]
            if e["type"] == "card_offered":
                offers.add(chain_sale_id(self.store_no, p["sale_id"]))
            elif e["type"] == "code_issued":
                ids.add(p["customer_id"])
                codes.add(p["code"])
                if p.get("identity_hash"):
                    hashes.add(p["identity_hash"])
                hashes.update(p.get("identity_aliases", ()))
            elif e["type"] == "redemption_recorded":
                ids.add(p["friend_id"])
                codes.add(p["code"])
                if p.get("friend_identity_hash"):
                    hashes.add(p["friend_identity_hash"])
                hashes.update(p.get("friend_identity_aliases", ()))
        c = self.conn
        if offers:  # a sale answers the prompt once; a store that re-sent it under a new event id changes nothing
            self.offered_sales.update(c.execute(sa.select(CardOffer.sale_id)
                                                .where(self._in(CardOffer.sale_id, offers))).scalars())
        if hashes:
            for cid, h in c.execute(sa.select(Customer.id, Customer.identity_hash)
                                    .where(self._in(Customer.identity_hash, hashes))):
                self.hash_owner[str(h)] = cid
                self.known.add(cid)
        if codes:
            for code, owner in c.execute(sa.select(Code.code, Code.customer_id).where(self._in(Code.code, codes))):
                self.code_owner[code] = owner
        lookup = ids | set(self.code_owner.values()) | set(self.hash_owner.values())
        if lookup:
            self.known.update(c.execute(sa.select(Customer.id).where(self._in(Customer.id, lookup))).scalars())
            for alias, root in c.execute(sa.select(CustomerLink.customer_id, CustomerLink.canonical_id)
                                         .where(self._in(CustomerLink.customer_id, lookup))):
                self.canon[alias] = root
        # who among the batch's friends (as persons) was already referred, in which program
        persons = {self.canonical(i) for i in lookup}
        if persons:
            aliases = {a: r for a, r in c.execute(sa.select(CustomerLink.customer_id, CustomerLink.canonical_id)
                                                   .where(self._in(CustomerLink.canonical_id, persons)))}
            self.canon.update(aliases)
            for program_id, friend in c.execute(sa.select(Redemption.program_id, Redemption.friend_id)
                                                .where(self._in(Redemption.friend_id, persons | set(aliases)))):
                self.taken.add((program_id, self.canonical(friend)))

    def _in(self, column: Any, values: set[str]) -> Any:
        return any_of(self.conn, column, values)

    def canonical(self, customer_id: str) -> str:
        return self.canon.get(customer_id, customer_id)

    # --- writing -------------------------------------------------------------------------------
    def flush(self) -> None:
        for model in _FLUSH_ORDER:
            rows = self.pending[model]
            if rows:
                # under the chain lock this batch's view of what exists is exact: plain COPY, no conflict path
                bulk_insert(self.conn, table(model), rows)
                rows.clear()

    def ledger(self, **row: Any) -> None:
        base = dict(points=0, redemption_id=None, reward_id=None, sale_id=None)
        self.pending[LedgerEntry].append({**base, **row})

    def conflict(self, kind: str, event_id: str, subject: str, detail: dict[str, Any]) -> None:
        self.conflicts += 1
        self.pending[Reconciliation].append(dict(kind=kind, store_no=self.store_no, event_id=event_id,
                                                 subject=subject[:64], detail=detail, created_at=self.now))

    def _link(self, alias: str, root: str) -> None:
        root = self.canonical(root)
        self.canon[alias] = root
        self.pending[CustomerLink].append(dict(customer_id=alias, canonical_id=root))

    def ensure_customer(self, cid: str, identity_hash: str | None, first_name: str, store_no: int,
                        at: datetime, aliases: list[str] | None = None) -> str:
        """The person's canonical id; registers ``cid`` (as an alias when the identity is known).

        ``aliases``: the person's hashes under a joined shop's pepper (central/joins.py), so that a
        customer that shop registered before it joined is known as the same person."""
        if cid in self.known:
            return self.canonical(cid)
        owner = next((self.hash_owner[h] for h in (identity_hash, *(aliases or ())) if h and h in self.hash_owner),
                     None)
        row = dict(id=cid, identity_hash=identity_hash, identity_hint="", first_name=first_name[:40], language="",
                   store_no=store_no, created_at=at)
        if owner is not None and owner != cid:
            row["identity_hash"] = None  # the person is already registered (offline at another store)
            self.pending[Customer].append(row)
            self._link(cid, owner)
        else:
            self.pending[Customer].append(row)
            if identity_hash:
                self.hash_owner[identity_hash] = cid
        self.known.add(cid)
        return self.canonical(cid)

    # --- events --------------------------------------------------------------------------------
    def apply(self, event: dict[str, Any]) -> None:
        handler = getattr(self, "_on_" + event["type"], None)
        if handler is not None:  # milestone_reached: a store's own decision, kept as an event
            handler(event["event_id"], event["payload"])

    def _on_reward_released(self, event_id: str, p: dict[str, Any]) -> None:
        adopt_release(self, event_id, p)  # a shop's release from before it joined the chain

    def _on_code_issued(self, event_id: str, p: dict[str, Any]) -> None:
        at = _at(p["at"])
        cid, code = p["customer_id"], p["code"]
        self.ensure_customer(cid, p.get("identity_hash"), p.get("first_name") or "", p.get("store_no", 0), at,
                             p.get("identity_aliases"))
        owner = self.code_owner.get(code)
        if owner == cid:
            return
        if owner is not None:
            if owner == placeholder_customer_id(code):
                self._adopt_placeholder(code, owner, cid, bearer=bool(p.get("bearer")))
            return
        program = self.programs.get(p["program_id"])
        expires = at + timedelta(days=program.code_valid_days) if program and program.code_valid_days else None
        variant = program.variant_for(code) if program else None
        self.pending[Code].append(dict(
            code=code, kind="referral", program_id=p["program_id"], customer_id=cid,
            variant=variant.name if variant else "", channel=p.get("channel", "api"), store_no=p.get("store_no", 0),
            till_id=p.get("till_id", ""), created_at=at, expires_at=expires, reward_id=None, redeemed_at=None,
            redeemed_sale_id=None, revoked_at=None, bearer=bool(p.get("bearer")), claimed_at=None))
        self.code_owner[code] = cid

    def _adopt_placeholder(self, code: str, placeholder: str, real: str, *, bearer: bool = False) -> None:
        """A code used at another store before its owner's store synced: point everything at the owner."""
        self.flush()
        c = self.conn
        c.execute(sa.update(Code).where(Code.code == code).values(customer_id=real, bearer=bearer))
        c.execute(sa.update(Redemption).where(Redemption.referrer_id == placeholder).values(referrer_id=real))
        c.execute(sa.update(Reward).where(Reward.customer_id == placeholder).values(customer_id=self.canonical(real)))
        self._link(placeholder, real)
        self.code_owner[code] = real

    def _referrer_of(self, code: str, program_id: str, variant: str, at: datetime) -> str:
        owner = self.code_owner.get(code)
        if owner is not None:
            return owner
        try:
            origin = codes_mod.parse(code, self.ctx.secrets.keyring).store_no
        except codes_mod.CodeError:
            origin = 0
        owner = placeholder_customer_id(code)
        self.ensure_customer(owner, None, "", origin, at)
        self.pending[Code].append(dict(
            code=code, kind="referral", program_id=program_id, customer_id=owner, variant=variant, channel="api",
            store_no=origin, till_id="", created_at=at, expires_at=None, reward_id=None, redeemed_at=None,
            redeemed_sale_id=None, revoked_at=None, bearer=False, claimed_at=None))
        self.code_owner[code] = owner
        return owner

    def _on_code_claimed(self, event_id: str, p: dict[str, Any]) -> None:
        """A bearer code's customer named themselves (services/proxy_offers/claims.py): its waiting
        rewards now have an owner. A person the chain already knows keeps their id: the placeholder
        becomes an alias of theirs, and the code, its redemptions and rewards follow."""
        self.flush()
        c, code, at = self.conn, p["code"], _at(p["at"])
        placeholder, holder = p["bearer_customer_id"], p["customer_id"]
        identity_hash = p.get("identity_hash")
        hashes = [h for h in (identity_hash, *p.get("identity_aliases", ())) if h]
        owner = c.execute(sa.select(Customer.id).where(self._in(Customer.identity_hash, set(hashes)))
                          .limit(1)).scalar() if hashes else None
        if holder != placeholder:  # the store merged it into a customer it knew
            self.ensure_customer(holder, identity_hash, p.get("first_name") or "", self.store_no, at,
                                 p.get("identity_aliases"))
            self.flush()
            owner = self.canonical(holder)
        if owner is None or owner == placeholder:
            c.execute(sa.update(Customer).where(Customer.id == placeholder)
                      .values(identity_hash=identity_hash, first_name=(p.get("first_name") or "")[:40]))
            if identity_hash:
                self.hash_owner[identity_hash] = placeholder
            owner = placeholder
        else:
            c.execute(sa.update(Code).where(Code.code == code).values(customer_id=holder))
            c.execute(sa.update(Redemption).where(Redemption.code == code, Redemption.referrer_id == placeholder)
                      .values(referrer_id=holder))
            c.execute(sa.update(Reward).where(Reward.customer_id == placeholder).values(customer_id=owner))
            self._link(placeholder, owner)
            self.flush()
        c.execute(sa.update(Code).where(Code.code == code, Code.claimed_at.is_(None)).values(claimed_at=at))

    def _on_redemption_recorded(self, event_id: str, p: dict[str, Any]) -> None:
        at = _at(p["at"])
        program_id, code, rid = p["program_id"], p["code"], p["redemption_id"]
        referrer_raw = self._referrer_of(code, program_id, p.get("variant", ""), at)
        referrer = self.canonical(referrer_raw)
        friend_raw = p["friend_id"]
        friend = self.ensure_customer(friend_raw, p.get("friend_identity_hash"), "", self.store_no, at,
                                      p.get("friend_identity_aliases"))
        conflict = None
        if friend == referrer:
            conflict = "self_referral"
        elif (program_id, friend) in self.taken:
            conflict = "duplicate_friend"
        self.taken.add((program_id, friend))
        discount = minor_units(p["discount"])
        self.pending[Redemption].append(dict(
            id=rid, code=code, program_id=program_id, variant=p.get("variant", ""), referrer_id=referrer_raw,
            friend_id=friend_raw, sale_id=chain_sale_id(self.store_no, p["sale_id"]), till_id=p.get("till_id", ""),
            store_no=self.store_no, basket_minor=minor_units(p["basket"]), discount_minor=discount,
            refunded_minor=0, friend_code=p.get("friend_code", ""), created_at=at))
        self.ledger(at=at, customer_id=friend_raw, entry="friend_discount", amount_minor=discount,
                     points=int(p.get("friend_points", 0)), redemption_id=rid, sale_id=p["sale_id"])
        program = self.programs.get(program_id)
        reward_id = p.get("reward_id")
        if reward_id and program is not None:
            rule = program.referrer_reward
            self.pending[Reward].append(dict(
                id=reward_id, customer_id=referrer, program_id=program_id, redemption_id=rid, source="referral",
                milestone=0, reward_type=rule.type, amount_minor=rule.amount, percent=str(rule.percent),
                points=rule.points, item=rule.item, status="voided" if conflict else "pending",
                hold_until=_at(p["hold_until"]), released_at=None, voucher_code=None, expires_at=None, created_at=at))
            self.ledger(at=at, customer_id=p["referrer_id"], entry="referrer_reward_pending",
                         amount_minor=rule.amount, points=rule.points, redemption_id=rid, reward_id=reward_id,
                         sale_id=p["sale_id"])
            if conflict:
                self.ledger(at=self.now, customer_id=referrer, entry="referrer_reward_voided",
                             amount_minor=-rule.amount, points=-rule.points, redemption_id=rid, reward_id=reward_id)
                self.changes.append(("reward_status", {"reward_id": reward_id, "status": "voided"}))
        if conflict:
            self.conflict(conflict, event_id, friend, {
                "code": code, "redemption_id": rid, "sale_id": p["sale_id"], "friend_id": friend_raw,
                "referrer_id": referrer, "reward_id": reward_id})

    def _on_voucher_redeemed(self, event_id: str, p: dict[str, Any]) -> None:
        self.flush()
        at, code = _at(p["at"]), p["code"]
        sale = chain_sale_id(self.store_no, p["sale_id"])
        self.ledger(at=at, customer_id=p["customer_id"], entry="voucher_redeemed",
                     amount_minor=minor_units(p["discount"]), reward_id=p.get("reward_id"), sale_id=p["sale_id"])
        done = self.conn.execute(
            sa.update(Code).where(Code.code == code, Code.redeemed_at.is_(None), Code.revoked_at.is_(None))
            .values(redeemed_at=at, redeemed_sale_id=sale))
        if done.rowcount == 1:  # every store hears of it: its home store would otherwise take it again offline
            self.changes.append(("voucher_used", {"code": code, "sale_id": sale, "at": p["at"]}))
            return
        row = self.conn.execute(sa.select(Code.redeemed_sale_id, Code.revoked_at).where(Code.code == code)).first()
        if row is not None and row[0] == sale:
            return
        kind = "unknown_voucher" if row is None else ("revoked_voucher_used" if row[1] else "voucher_double_use")
        self.conflict(kind, event_id, code, {"code": code, "sale_id": p["sale_id"], "first_sale": row and row[0],
                                             "customer_id": p["customer_id"]})

    def _on_customer_forgotten(self, event_id: str, p: dict[str, Any]) -> None:
        apply_forget(self, p)  # a privacy request at a store: erased here and, through the feed, everywhere

    def _on_sale_refunded(self, event_id: str, p: dict[str, Any]) -> None:
        self.flush()
        c, at = self.conn, _at(p["at"])
        red = c.execute(sa.select(Redemption.friend_id, Redemption.basket_minor, Redemption.refunded_minor,
                                  Redemption.program_id).where(Redemption.id == p["redemption_id"])).first()
        if red is None:
            self.conflict("unknown_sale", event_id, p["sale_id"], dict(p))
            return
        amount = minor_units(p["amount"])
        refunded = red.refunded_minor + amount
        c.execute(sa.update(Redemption).where(Redemption.id == p["redemption_id"]).values(refunded_minor=refunded))
        self.ledger(at=at, customer_id=red.friend_id, entry="sale_refunded", amount_minor=-amount,
                     redemption_id=p["redemption_id"], sale_id=p["sale_id"])
        program = self.programs.get(red.program_id)
        left = red.basket_minor - refunded
        if amount > 0 and (left == 0 or left < (program.minimum_basket if program else 0)):
            self._void_or_claw_back(p["redemption_id"], p["sale_id"])

    def _on_card_offered(self, event_id: str, p: dict[str, Any]) -> None:
        """The till's after-sale prompt: kept per store sale so the chain report shows offer and acceptance rates."""
        sale = chain_sale_id(self.store_no, p["sale_id"])
        if sale in self.offered_sales:
            return
        self.offered_sales.add(sale)
        self.pending[CardOffer].append(dict(sale_id=sale, till_id=p.get("till_id", ""), staff=p.get("staff", ""),
                                            offered=p["offered"], accepted=p["offered"] and p["accepted"],
                                            at=_at(p["at"])))

    def _void_or_claw_back(self, redemption_id: str, sale_id: str) -> None:
        c = self.conn
        reward = c.execute(sa.select(Reward).where(Reward.redemption_id == redemption_id)).first()
        if reward is None:
            return
        for old, new, entry in (("pending", "voided", "referrer_reward_voided"), ("released", "clawed_back",
                                                                                  "clawback")):
            done = c.execute(sa.update(Reward).where(Reward.id == reward.id, Reward.status == old).values(status=new))
            if done.rowcount != 1:
                continue
            self.ledger(at=self.now, customer_id=reward.customer_id, entry=entry, amount_minor=-reward.amount_minor,
                         points=-reward.points, reward_id=reward.id, redemption_id=redemption_id, sale_id=sale_id)
            self.changes.append(("reward_status", {"reward_id": reward.id, "status": new}))
            if new == "clawed_back" and reward.voucher_code:
                revoked = c.execute(sa.update(Code).where(Code.code == reward.voucher_code, Code.redeemed_at.is_(None))
                                    .values(revoked_at=self.now))
                if revoked.rowcount == 1:
                    self.changes.append(("revocation", {"code": reward.voucher_code, "reward_id": reward.id,
                                                        "at": self.now.isoformat()}))
            return
