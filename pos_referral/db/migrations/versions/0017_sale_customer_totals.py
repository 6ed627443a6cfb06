"""each named customer's sales over all their history (who to invite over a long period)

Revision ID: 0017_sale_customer_totals
Revises: 0016_report_speed
Create Date: 2026-12-07 02:30:00
"""
from alembic import op
import sqlalchemy as sa

revision = '0017_sale_customer_totals'
down_revision = "0016_report_speed"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('report_sale_customer_totals',
    sa.Column('customer_id', sa.String(length=32), nullable=False),
    sa.Column('days', sa.Integer(), nullable=False),
    sa.Column('spent_minor', sa.BigInteger(), nullable=False),
    sa.Column('first_day', sa.Integer(), nullable=False),
    sa.Column('last_day', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('customer_id', name=op.f('pk_report_sale_customer_totals')),
    sqlite_with_rowid=False,
    )
    with op.batch_alter_table('report_sale_customer_totals', schema=None) as batch_op:
        batch_op.create_index('ix_report_sale_customer_totals_rank', ['days', 'spent_minor', 'first_day', 'last_day'],
                              unique=False)
    # from the per-day summary already kept (its watermark stays where it is)
    op.execute("INSERT INTO report_sale_customer_totals (customer_id, days, spent_minor, first_day, last_day) "
               "SELECT customer_id, COUNT(*), SUM(total_minor), MIN(day), MAX(day) FROM report_sale_customers "
               "GROUP BY customer_id")


def downgrade() -> None:
    with op.batch_alter_table('report_sale_customer_totals', schema=None) as batch_op:
        batch_op.drop_index('ix_report_sale_customer_totals_rank')
    op.drop_table('report_sale_customer_totals')
