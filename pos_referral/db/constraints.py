"""Which named constraint a write broke, so services answer by the constraint's name.

PostgreSQL names the constraint itself (``diag.constraint_name``). SQLite names only the table
and columns of a broken UNIQUE or PRIMARY KEY ("UNIQUE constraint failed: redemptions.sale_id"),
so those columns are matched against the named constraints and unique indexes of our metadata:
the business answer then depends on a name we chose (``uq_redemptions_sale``), not on the
driver's wording.
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlalchemy.exc as sa_exc

from pos_referral.db.base import Base

_SQLITE_PREFIXES = ("UNIQUE constraint failed: ", "CHECK constraint failed: ")


def violated_constraint(exc: sa_exc.IntegrityError, metadata: sa.MetaData = Base.metadata) -> str | None:
    """The name of the constraint (or unique index) ``exc`` reports, or None when it names none."""
    orig = exc.orig
    diag = getattr(orig, "diag", None)
    if diag is not None:  # psycopg
        name = getattr(diag, "constraint_name", None)
        return str(name) if name else None
    text = str(orig)
    if text.startswith(_SQLITE_PREFIXES[1]):
        return text.removeprefix(_SQLITE_PREFIXES[1]).strip() or None
    if not text.startswith(_SQLITE_PREFIXES[0]):
        return None
    columns = [part.strip() for part in text.removeprefix(_SQLITE_PREFIXES[0]).split(",")]
    tables = {column.partition(".")[0] for column in columns}
    if len(tables) != 1:
        return None
    table = metadata.tables.get(tables.pop())
    if table is None:
        return None
    return _unique_named(table, {column.partition(".")[2] for column in columns})


def _unique_named(table: sa.Table, columns: set[str]) -> str | None:
    for constraint in table.constraints:
        if isinstance(constraint, sa.UniqueConstraint | sa.PrimaryKeyConstraint) and \
                {c.name for c in constraint.columns} == columns:
            return str(constraint.name) if constraint.name else None
    for index in table.indexes:
        if index.unique and {c.name for c in index.columns} == columns:
            return str(index.name) if index.name else None
    return None
