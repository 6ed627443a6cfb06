"""Issue referral codes (one per customer per program) and mint voucher codes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so

from pos_referral.db.base import table
from pos_referral.db.models import Code, Counter
from pos_referral.domain.codes import CodeKind, format_display, mint
from pos_referral.domain.rules import Program
from pos_referral.services import report_facts
from pos_referral.services.context import StoreContext
from pos_referral.services.customers import CustomerInput, find_or_create_customer, identity_aliases
from pos_referral.services.outbox import add_event
from pos_referral.services.unit_of_work import UnitOfWork

CHANNELS = ("receipt", "card", "kiosk", "api", "proxy")
SEQ_LIMIT = 1 << 20


class SequenceExhausted(RuntimeError):
    """This store minted 2^20 codes under one key: rotate the key (new key id)."""


@dataclass(frozen=True)
class IssuedCode:
    code: str
    customer_id: str
    program_id: str
    expires_at: datetime | None
    created: bool

    @property
    def display_code(self) -> str:
        return format_display(self.code)


_counters = table(Counter)
_NEXT = (
    sa.update(_counters).where(_counters.c.name == sa.bindparam("counter"))
    .values(value=_counters.c.value + 1).returning(_counters.c.value)
)
_EXISTING = sa.select(Code.code, Code.expires_at).where(
    Code.customer_id == sa.bindparam("customer_id"), Code.program_id == sa.bindparam("program_id"),
    Code.kind == CodeKind.REFERRAL.value)

_INSERT_CODE = sa.insert(table(Code))  # built once (redemption hot path: no per-call statement or cache key)


def next_sequence(db: so.Session | sa.Connection, name: str) -> int:
    """Atomically take the next number of a per-store counter (inside the caller's write txn)."""
    value = db.execute(_NEXT, {"counter": name}).scalar()
    if value is None:
        db.execute(sa.insert(table(Counter)), dict(name=name, value=0))
        return 0
    return int(value)


def mint_code(db: so.Session | sa.Connection, ctx: StoreContext, kind: CodeKind) -> str:
    key = ctx.secrets.keyring.current()
    seq = next_sequence(db, f"{kind.value}:{key.key_id}")
    if seq >= SEQ_LIMIT:
        raise SequenceExhausted(f"store {ctx.store_no} used all {kind.value} codes of key {key.key_id}")
    return mint(kind, ctx.store_no, seq, key)


@dataclass(frozen=True)
class Holder:
    """Who a referral code is for (what the code_issued event carries)."""

    customer_id: str
    identity_hash: str | None = None
    first_name: str = ""
    identity_aliases: tuple[str, ...] = ()  # under a joined shop's pepper (services/customers.identity_aliases)


def issue_in_session(
    db: so.Session | sa.Connection,
    ctx: StoreContext,
    holder: Holder,
    program: Program,
    *,
    channel: str,
    till_id: str,
    now: datetime,
    known_new: bool = False,
    events: list[tuple[str, dict[str, Any]]] | None = None,
    bearer: bool = False,
) -> IssuedCode:
    """The customer's code for ``program``, minting it if they have none yet.

    ``known_new`` skips the look-up for a customer created in this same transaction. With
    ``events`` the ``code_issued`` event is appended there for the caller to queue (``add_events``)
    with its own, in one statement, instead of queued here. ``bearer``: a code printed for nobody yet
    (the print proxy's, ``services/proxy_offers``), held by a placeholder customer until claimed."""
    if not known_new:
        existing = db.execute(_EXISTING, {"customer_id": holder.customer_id, "program_id": program.id}).first()
        if existing is not None:
            return IssuedCode(existing[0], holder.customer_id, program.id, existing[1], created=False)
    code = mint_code(db, ctx, CodeKind.REFERRAL)
    expires = now + timedelta(days=program.code_valid_days) if program.code_valid_days else None
    variant = program.variant_for(code)
    db.execute(_INSERT_CODE, dict(
        code=code, kind=CodeKind.REFERRAL.value, program_id=program.id, customer_id=holder.customer_id,
        variant=variant.name if variant else "", channel=channel, store_no=ctx.store_no, till_id=till_id,
        created_at=now, expires_at=expires, bearer=bearer,
    ))
    issued = {"code": code, "customer_id": holder.customer_id, "program_id": program.id, "channel": channel,
              "store_no": ctx.store_no, "till_id": till_id, "identity_hash": holder.identity_hash,
              "first_name": holder.first_name, "at": now.isoformat()}
    if bearer:
        issued["bearer"] = True
    if holder.identity_aliases:
        issued["identity_aliases"] = list(holder.identity_aliases)
    if events is None:
        add_event(db, "code_issued", issued, now)
    else:
        events.append(("code_issued", issued))
    return IssuedCode(code, holder.customer_id, program.id, expires, created=True)


def issue_code(
    ctx: StoreContext, given: CustomerInput, *, channel: str, till_id: str, program: Program | None = None,
    staff: str = "",
) -> IssuedCode:
    """Give a customer their referral code (201 new / 200 existing in the API); ``staff`` is the
    cashier who gave it, kept for the per-cashier report when the code is new."""
    program = program or ctx.settings.default_program
    now = ctx.clock()
    with UnitOfWork(ctx.db, write=True) as uow:
        customer, _ = find_or_create_customer(
            uow.session, given, ctx.secrets.pepper, store_no=ctx.store_no, now=now,
            old_peppers=ctx.secrets.old_peppers,
        )
        holder = Holder(customer.id, customer.identity_hash, customer.first_name, tuple(identity_aliases(
            given, ctx.secrets.peppers, customer.identity_hash)))
        issued = issue_in_session(uow.session, ctx, holder, program, channel=channel, till_id=till_id, now=now)
        if staff and issued.created:
            report_facts.add(uow.conn, report_facts.Fact(at=now, kind="issued", till_id=till_id, staff=staff,
                                                            code=issued.code))
        uow.commit()
    return issued
