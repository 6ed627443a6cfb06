"""Every sale is recorded once per sale_id, whichever door it came through."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from pos_referral.db.models import Customer, Sale
from pos_referral.services.customers import CustomerInput
from pos_referral.services.sales import SaleConflict, SaleSeen, record_sale
from pos_referral.services.unit_of_work import UnitOfWork


def test_a_sale_reported_twice_is_recorded_once(store) -> None:
    first = record_sale(store.ctx, SaleSeen("R-1001", 4250, "api", cashier="Ann", till_id="T1"))
    again = record_sale(store.ctx, SaleSeen("R-1001", 4250, "proxy"))
    assert first.created and not again.created
    with UnitOfWork(store.ctx.db, write=False) as read:
        rows = read.conn.execute(sa.select(Sale.sale_id, Sale.total_minor, Sale.cashier, Sale.source)).all()
    assert rows == [("R-1001", 4250, "Ann", "api")]


def test_the_same_sale_id_with_another_total_is_a_conflict_and_keeps_the_first(store) -> None:
    record_sale(store.ctx, SaleSeen("R-7", 1000, "till"))
    with pytest.raises(SaleConflict) as refused:
        record_sale(store.ctx, SaleSeen("R-7", 1200, "till"))
    assert refused.value.recorded_minor == 1000


def test_a_sale_with_a_contact_finds_the_same_customer_each_visit(store) -> None:
    contact = CustomerInput.parse({"phone": "+4791234500", "first_name": "Kari"})
    one = record_sale(store.ctx, SaleSeen("R-1", 500, "api", customer=contact))
    two = record_sale(store.ctx, SaleSeen("R-2", 700, "api", customer=contact))
    assert one.customer_id is not None and one.customer_id == two.customer_id
    with UnitOfWork(store.ctx.db, write=False) as read:
        assert read.conn.execute(sa.select(sa.func.count()).select_from(Customer)).scalar_one() == 1
