"""Erase a customer's personal data, keeping the anonymised rows the accounts need.

One function for the three places a forget lands (the store that took the request, central, every other
store through the changes feed), so each erases the same things. What is erased: the identity hash and
hint, first name and language on the customer row; their mail contact (address, consent, token);
names and addresses in their mail outbox rows (unsent mail to them is cancelled); names in print jobs
that name them; identity hashes and names in sync event payloads (the store's outbox, central's kept
events). What stays: the customer id (random, now naming nobody) on the ledger, rewards, redemptions,
sales and report facts, so the books and reports still add up.

Decisions (docs/architecture.md, "Privacy requests"): nothing about money changes. Their referral code
keeps working but names nobody (cards in circulation stay good; a referral code row is immutable and
cached on the till's path); rewards it earns, their pending rewards and open vouchers stay as they are:
a code or voucher is bearer value the shop owes, in the liability until used or expired.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from pos_referral.db.base import table
from pos_referral.db.models import Code, Customer, OutboxEvent, PrintJob, Redemption
from pos_referral.db.models_central import CentralEvent
from pos_referral.db.models_promo import MailContact, MailMessage

# keys of JSON contexts (print jobs, mail) that hold a name or contact: blanked
NAME_KEYS = frozenset({"first_name", "friend_first_name", "referrer_first_name", "name", "contact",
                       "identity_hint", "email", "to", "to_addr"})
# sync events: whose identity an event carries, under which keys (the person's, not the other party's)
EVENT_PERSON = {"code_issued": ("customer_id", ("identity_hash", "identity_aliases", "first_name")),
                "redemption_recorded": ("friend_id", ("friend_identity_hash", "friend_identity_aliases"))}


@dataclass(frozen=True)
class Erased:
    """How many rows of each kind a forget changed (for the audit entry and the command's answer)."""

    customers: int = 0
    mail_contacts: int = 0
    mails: int = 0
    print_jobs: int = 0
    sync_events: int = 0

    def line(self) -> str:
        return (f"{self.customers} customer row(s) erased, {self.mail_contacts} mail contact(s) deleted, "
                f"{self.mails} mail(s), {self.print_jobs} print "
                f"job(s) and {self.sync_events} sync event(s) cleaned")


def scrub(value: Any) -> Any:
    """A JSON value with names and contacts blanked, at any depth."""
    if isinstance(value, dict):
        return {k: ("" if k in NAME_KEYS and isinstance(v, str) else scrub(v)) for k, v in value.items()}
    if isinstance(value, list):
        return [scrub(v) for v in value]
    return value


def scrub_event(type_: str, payload: dict[str, Any], ids: set[str]) -> dict[str, Any]:
    """A sync event's payload without the identity of a forgotten person it registers (others' stay)."""
    who, keys = EVENT_PERSON.get(type_, ("", ()))
    if not who or payload.get(who) not in ids:
        return payload
    return {k: ("" if k == "first_name" else v) for k, v in payload.items() if k not in keys or k == "first_name"}


def naming(column: Any, ids: Iterable[str]) -> sa.ColumnElement[bool]:
    """JSON rows whose text names one of ``ids`` (customer ids and codes are long random tokens)."""
    text = sa.cast(column, sa.Text)
    return sa.or_(*(text.like(f"%{i}%") for i in ids))


def _rewrite(conn: sa.Connection, tbl: sa.Table, key: str, column: str, where: sa.ColumnElement[bool],
             clean: Any, kind: str | None = None) -> int:
    """Rewrite the JSON ``column`` of the rows ``where`` through ``clean(value[, type])``; rows changed."""
    changed = 0
    cols = [tbl.c[key], tbl.c[column], *((tbl.c[kind],) if kind else ())]
    for row in conn.execute(sa.select(*cols).where(where)).all():
        new = clean(row[1], row[2]) if kind else clean(row[1])
        if new != row[1]:
            conn.execute(sa.update(tbl).where(tbl.c[key] == row[0]).values({column: new}))
            changed += 1
    return changed


def erase(conn: sa.Connection, ids: Iterable[str], now: datetime) -> Erased:
    """Erase the personal data of the customers ``ids`` in the caller's (write) transaction; idempotent."""
    people = set(ids)
    if not people:
        return Erased()
    customers = table(Customer)
    done = conn.execute(sa.update(customers).where(customers.c.id.in_(people)).values(
        identity_hash=None, identity_hint="", first_name="", language="",
        forgotten_at=sa.func.coalesce(customers.c.forgotten_at, now))).rowcount
    codes = table(Code)
    own_codes = list(conn.execute(sa.select(codes.c.code).where(
        codes.c.customer_id.in_(people), codes.c.kind == "referral")).scalars())
    contact = table(MailContact)
    contacts = conn.execute(sa.delete(contact).where(contact.c.customer_id.in_(people))).rowcount
    mail = table(MailMessage)
    mine = mail.c.customer_id.in_(people)
    conn.execute(sa.update(mail).where(mine, mail.c.status.in_(("queued", "sending"))).values(
        status="cancelled", last_error="customer forgotten"))
    mails = conn.execute(sa.update(mail).where(mine, mail.c.to_addr != "").values(to_addr="")).rowcount
    mails = max(int(mails or 0), _rewrite(conn, mail, "id", "context", mine, scrub))
    jobs = table(PrintJob)
    friend_of = sa.select(table(Redemption).c.id).where(table(Redemption).c.friend_id.in_(people))
    named = [jobs.c.redemption_id.in_(friend_of), *((naming(jobs.c.context, own_codes),) if own_codes else ())]
    print_jobs = _rewrite(conn, jobs, "id", "context", sa.or_(*named), scrub)

    def event(payload: dict[str, Any], type_: str) -> dict[str, Any]:
        return scrub_event(type_, payload, people)

    outbox, kept = table(OutboxEvent), table(CentralEvent)
    events = _rewrite(conn, outbox, "seq", "payload", naming(outbox.c.payload, people), event, "type")
    events += _rewrite(conn, kept, "event_id", "payload", naming(kept.c.payload, people), event, "type")
    return Erased(customers=int(done or 0), mail_contacts=int(contacts or 0),
                  mails=mails, print_jobs=print_jobs, sync_events=events)
