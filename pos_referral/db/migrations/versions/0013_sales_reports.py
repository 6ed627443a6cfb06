"""sales reports: share counts per code and channel, sales summaries per day and per customer-day

Revision ID: 0013_sales_reports
Revises: 0012_forget
Create Date: 2026-12-06 22:00:00
"""
from alembic import op
import sqlalchemy as sa
import pos_referral.db.base


revision = '0013_sales_reports'
down_revision = "0012_forget"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('share_counts',
    sa.Column('code', sa.String(length=14), nullable=False),
    sa.Column('channel', sa.String(length=10), nullable=False),
    sa.Column('n', sa.BigInteger(), nullable=False),
    sa.Column('first_at', pos_referral.db.base.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('code', 'channel', name=op.f('pk_share_counts'))
    )
    op.create_table('report_sale_days',
    sa.Column('day', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('source', sa.String(length=8), nullable=False),
    sa.Column('coded', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('referred', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('known', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('cashier', sa.String(length=40), nullable=False),
    sa.Column('n', sa.BigInteger(), nullable=False),
    sa.Column('total_minor', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('day', 'source', 'coded', 'referred', 'known', 'cashier',
                            name=op.f('pk_report_sale_days'))
    )
    op.create_table('report_sale_customers',
    sa.Column('customer_id', sa.String(length=32), nullable=False),
    sa.Column('day', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('prev_day', sa.Integer(), nullable=True),
    sa.Column('referred_day', sa.Integer(), nullable=True),
    sa.Column('n', sa.BigInteger(), nullable=False),
    sa.Column('total_minor', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('customer_id', 'day', name=op.f('pk_report_sale_customers')),
    sqlite_with_rowid=False,
    )
    with op.batch_alter_table('report_sale_customers', schema=None) as batch_op:
        batch_op.create_index('ix_report_sale_customers_day', ['day', 'prev_day', 'referred_day', 'total_minor'],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table('report_sale_customers', schema=None) as batch_op:
        batch_op.drop_index('ix_report_sale_customers_day')
    op.drop_table('report_sale_customers')
    op.drop_table('report_sale_days')
    op.drop_table('share_counts')
