"""A broken rule is known by the name we gave its constraint, on the store's SQLite and on central's PostgreSQL.

The redemption turns these names into the reasons the till hears (``sale_already_used``,
``already_referred``), so the names must come out of real errors raised by each database, with the
schema the migrations build.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
import sqlalchemy.exc as sa_exc

from pos_referral.db import migrate
from pos_referral.db.base import table
from pos_referral.db.constraints import violated_constraint
from pos_referral.db.engine import Database, open_database
from pos_referral.db.models import Code, Customer, IdempotencyRecord, Redemption
from pos_referral.services.unit_of_work import UnitOfWork
from tests.postgres_support import fresh_database

NOW = datetime(2026, 6, 15, 12, 0, tzinfo=UTC)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    """A migrated schema with Ann (a referrer with a code) and Bob and Cy (friends)."""
    with _url(request.param, tmp_path) as url:
        database = open_database(url)
        try:
            migrate.upgrade(database)
            with UnitOfWork(database, write=True) as uow:
                for customer_id in ("ann", "bob", "cy"):
                    uow.conn.execute(sa.insert(table(Customer)), dict(
                        id=customer_id, identity_hash=f"hash-{customer_id}", created_at=NOW))
                uow.conn.execute(sa.insert(table(Code)), dict(
                    code="0ANNANNANNANNA", kind="referral", program_id="spring", customer_id="ann", created_at=NOW))
                uow.conn.execute(sa.insert(table(IdempotencyRecord)), dict(
                    key="T1:k1", request_hash="h", status_code=201, body="{}", created_at=NOW))
                uow.conn.execute(sa.insert(table(Redemption)), _redemption("r1", friend="bob", sale="S1"))
                uow.commit()
            yield database
        finally:
            database.dispose()


@contextmanager
def _url(backend: str, tmp_path: Path) -> Iterator[str]:
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path}/store.db"
        return
    with fresh_database() as url:
        yield url


def _redemption(redemption_id: str, *, friend: str, sale: str | None, program: str = "spring") -> dict[str, Any]:
    return dict(id=redemption_id, code="0ANNANNANNANNA", program_id=program, referrer_id="ann", friend_id=friend,
                sale_id=sale, basket_minor=5000, discount_minor=500, created_at=NOW)


def broken_by(db: Database, write: Callable[[sa.Connection], object]) -> str | None:
    """Run ``write`` in a unit; the name of the constraint its IntegrityError reports."""
    with pytest.raises(sa_exc.IntegrityError) as raised, UnitOfWork(db, write=True) as uow:
        write(uow.conn)
        uow.commit()
    return violated_constraint(raised.value)


def test_a_second_referral_on_the_same_sale_breaks_uq_redemptions_sale(db: Database) -> None:
    insert = sa.insert(table(Redemption))
    assert broken_by(db, lambda conn: conn.execute(insert, _redemption("r2", friend="cy", sale="S1"))) \
        == "uq_redemptions_sale"


def test_a_friend_referred_twice_in_one_program_breaks_uq_redemptions_friend_once(db: Database) -> None:
    insert = sa.insert(table(Redemption))
    assert broken_by(db, lambda conn: conn.execute(insert, _redemption("r2", friend="bob", sale="S2"))) \
        == "uq_redemptions_friend_once"
    with UnitOfWork(db, write=True) as uow:  # the same friend in another program is fine
        uow.conn.execute(insert, _redemption("r3", friend="bob", sale="S3", program="autumn"))
        uow.commit()


def test_a_reused_idempotency_key_breaks_pk_idempotency_keys(db: Database) -> None:
    again = dict(key="T1:k1", request_hash="other", status_code=201, body="{}", created_at=NOW)
    assert broken_by(db, lambda conn: conn.execute(sa.insert(table(IdempotencyRecord)), again)) \
        == "pk_idempotency_keys"


def test_a_second_customer_with_the_same_identity_breaks_uq_customers_identity_hash(db: Database) -> None:
    twin = dict(id="ann2", identity_hash="hash-ann", created_at=NOW)
    assert broken_by(db, lambda conn: conn.execute(sa.insert(table(Customer)), twin)) \
        == "uq_customers_identity_hash"


def test_a_second_referral_code_for_one_customer_breaks_the_unique_index_by_its_name(db: Database) -> None:
    second = dict(code="0ANNANNANNANNB", kind="referral", program_id="spring", customer_id="ann", created_at=NOW)
    assert broken_by(db, lambda conn: conn.execute(sa.insert(table(Code)), second)) == "ix_codes_one_referral_code"


def test_a_missing_value_names_no_constraint(db: Database) -> None:
    insert = sa.insert(table(Redemption))
    assert broken_by(db, lambda conn: conn.execute(insert, _redemption("r2", friend="cy", sale=None))) is None
