"""Every sale the shop tells us about, once per ``sale_id``: the reports' denominator.

Three doors feed one table: a POS that sends ``POST /api/v1/sales``, the till's "Sale done" and
the print proxy's recognised receipts. The first report of a sale wins; the same sale again with the
same total is a replay (``created`` false), with another total a conflict, since two different sales
under one receipt number would make every rate wrong. A contact given with the sale finds (or
registers) the customer by keyed hash, so the reports can count visits of customers without a code.

A redemption records its own sale too (``record_in_redemption``, source ``referral`` or ``voucher``,
in the redemption's transaction, ignored when the sale_id is already there), so the referred sales
are in the denominator even in a shop that sends no other sale. A feed that later reports the same
sale_id gets a replay whatever its total (the POS may send the paid total, the till quoted the basket):
the redemption's row stands, so a shop that sends every sale counts each once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from pos_referral.db.base import table
from pos_referral.db.models import Sale
from pos_referral.db.upsert import insert_ignore
from pos_referral.services.context import StoreContext
from pos_referral.services.customers import CustomerInput, find_or_create_customer
from pos_referral.services.unit_of_work import UnitOfWork

SOURCES = ("api", "till", "proxy")  # the sales feeds: a period with none of these has no sales feed
REDEMPTION_SOURCES = ("referral", "voucher")  # a sale recorded by the redemption made on it


class SaleConflict(ValueError):
    """This ``sale_id`` was recorded with another total."""

    def __init__(self, sale_id: str, recorded_minor: int) -> None:
        super().__init__(f"sale {sale_id} was recorded with another total")
        self.sale_id = sale_id
        self.recorded_minor = recorded_minor


@dataclass(frozen=True)
class SaleSeen:
    sale_id: str
    total_minor: int
    source: str  # one of SOURCES
    cashier: str = ""
    till_id: str = ""
    customer: CustomerInput | None = None


@dataclass(frozen=True)
class SaleRecorded:
    sale_id: str
    total_minor: int
    at: datetime
    customer_id: str | None
    created: bool
    recorded_by: str = ""  # the source whose report was kept (a replay of a redemption's sale: referral)


def record_sale(ctx: StoreContext, sale: SaleSeen) -> SaleRecorded:
    """Record one sale (idempotent by ``sale_id``); durable before it returns."""
    if sale.source not in SOURCES:
        raise ValueError(f"unknown sale source {sale.source!r}")
    if not sale.sale_id or len(sale.sale_id) > 64:
        raise ValueError("sale_id must be 1-64 characters")
    if sale.total_minor < 0:
        raise ValueError("a sale's total cannot be negative")
    now = ctx.clock()
    with UnitOfWork(ctx.db, write=True) as uow:
        row = uow.conn.execute(sa.select(Sale.total_minor, Sale.at, Sale.customer_id, Sale.source)
                               .where(Sale.sale_id == sale.sale_id)).first()
        if row is not None:
            if row[0] != sale.total_minor and row[3] not in REDEMPTION_SOURCES:
                raise SaleConflict(sale.sale_id, row[0])
            return SaleRecorded(sale.sale_id, row[0], row[1], row[2], created=False, recorded_by=row[3])
        customer_id = None
        if sale.customer is not None and sale.customer.given:
            customer, _ = find_or_create_customer(uow.session, sale.customer, ctx.secrets.pepper,
                                                  store_no=ctx.store_no, now=now,
                                                  old_peppers=ctx.secrets.old_peppers)
            customer_id = customer.id
        uow.conn.execute(sa.insert(Sale).values(
            sale_id=sale.sale_id, at=now, total_minor=sale.total_minor, customer_id=customer_id,
            cashier=sale.cashier[:40], till_id=sale.till_id[:32], source=sale.source))
        uow.commit()
    return SaleRecorded(sale.sale_id, sale.total_minor, now, customer_id, created=True, recorded_by=sale.source)


def record_in_redemption(conn: sa.Connection, *, sale_id: str, at: datetime, total_minor: int,
                         customer_id: str | None, source: str, till_id: str = "", cashier: str = "") -> None:
    """The redemption's sale, in the redemption's own transaction; nothing when the sale_id is known."""
    assert source in REDEMPTION_SOURCES
    insert_ignore(conn, table(Sale), dict(sale_id=sale_id, at=at, total_minor=total_minor, customer_id=customer_id,
                                          cashier=cashier[:40], till_id=till_id[:32], source=source))
