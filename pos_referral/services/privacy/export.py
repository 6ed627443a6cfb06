"""``customer export``: everything the shop holds about a customer, as one JSON document.

Read in one snapshot. Rows are given as stored (money in minor units of ``currency``, times in UTC);
the document says which tables they came from. Besides the customer's own rows it lists the
referrals they took part in on either side, the landing page visits of their referral codes, print
jobs and mails that name them, sync events still held here that name them, and audit entries whose
text names them or one of their codes.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so

from pos_referral.db.base import table
from pos_referral.db.models import (
    AuditEntry,
    Code,
    Customer,
    LandingVisit,
    LedgerEntry,
    OutboxEvent,
    PrintJob,
    Redemption,
    ReportEvent,
    Reward,
    Sale,
)
from pos_referral.db.models_promo import MailContact, MailMessage
from pos_referral.services.privacy.erase import naming

FORMAT = "pos-referral customer export 1"


def _value(v: Any) -> Any:
    return v.isoformat() if isinstance(v, datetime) else v


def _rows(conn: sa.Connection, model: type, where: sa.ColumnElement[bool], order: Any = None,
          drop: tuple[str, ...] = ()) -> list[dict[str, Any]]:
    t = table(model)
    stmt = sa.select(*[c for c in t.c if c.name not in drop]).where(where)
    if order is not None:
        stmt = stmt.order_by(order)
    return [{k: _value(v) for k, v in row._mapping.items()} for row in conn.execute(stmt)]


def gather(session: so.Session, ids: list[str], *, currency: str, store_no: int, now: datetime) -> dict[str, Any]:
    """The export document for the customer rows ``ids`` (one person may be several rows)."""
    conn = session.connection()
    codes = list(session.scalars(sa.select(Code.code).where(Code.customer_id.in_(ids))))
    as_friend = sa.select(Redemption.id).where(Redemption.friend_id.in_(ids))
    jobs_named = [PrintJob.redemption_id.in_(as_friend)] + ([naming(PrintJob.context, codes)] if codes else [])
    audit_named = naming(AuditEntry.detail, [*ids, *codes])
    return {
        "format": FORMAT,
        "exported_at": now.isoformat(),
        "store": f"S{store_no:03d}",
        "currency": currency,
        "notes": ["money is in minor units of the currency (1250 = 12.50); times are UTC",
                  "phone numbers and email addresses are not stored: only a keyed hash and a masked hint"],
        "customer_ids": ids,
        "customers": _rows(conn, Customer, Customer.id.in_(ids), Customer.created_at),
        "referral_codes": _rows(conn, Code, sa.and_(Code.customer_id.in_(ids), Code.kind == "referral"),
                                Code.created_at),
        "vouchers": _rows(conn, Code, sa.and_(Code.customer_id.in_(ids), Code.kind == "voucher"), Code.created_at),
        "referrals_as_referrer": _rows(conn, Redemption, Redemption.referrer_id.in_(ids), Redemption.created_at),
        "referrals_as_friend": _rows(conn, Redemption, Redemption.friend_id.in_(ids), Redemption.created_at),
        "rewards": _rows(conn, Reward, Reward.customer_id.in_(ids), Reward.created_at),
        "ledger": _rows(conn, LedgerEntry, LedgerEntry.customer_id.in_(ids), LedgerEntry.id),
        "landing_visits": _rows(conn, LandingVisit, LandingVisit.code.in_(codes), LandingVisit.id) if codes else [],
        "mail_contact": _rows(conn, MailContact, MailContact.customer_id.in_(ids)),
        "mails": _rows(conn, MailMessage, MailMessage.customer_id.in_(ids), MailMessage.id),
        "report_facts": _rows(conn, ReportEvent, ReportEvent.customer_id.in_(ids), ReportEvent.id),
        "sales": _rows(conn, Sale, Sale.customer_id.in_(ids), Sale.id),
        "print_jobs": _rows(conn, PrintJob, sa.or_(*jobs_named), PrintJob.id),
        "sync_events": _rows(conn, OutboxEvent, naming(OutboxEvent.payload, ids), OutboxEvent.seq),
        "audit_entries": _rows(conn, AuditEntry, audit_named, AuditEntry.id, drop=("prev_hash", "hash")),
    }
