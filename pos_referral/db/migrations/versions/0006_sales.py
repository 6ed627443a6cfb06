"""every sale the shop reports, with or without a code (sales)

Revision ID: 0006_sales
Revises: 0005_chain_join
Create Date: 2026-12-06 21:45:00
"""
from alembic import op
import sqlalchemy as sa
import pos_referral.db.base


revision = '0006_sales'
down_revision = "0005_chain_join"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('sales',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('sale_id', sa.String(length=64), nullable=False),
    sa.Column('at', pos_referral.db.base.UTCDateTime(), nullable=False),
    sa.Column('total_minor', sa.BigInteger(), nullable=False),
    sa.Column('customer_id', sa.String(length=32), nullable=True),
    sa.Column('cashier', sa.String(length=40), nullable=False),
    sa.Column('till_id', sa.String(length=32), nullable=False),
    sa.Column('source', sa.String(length=8), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_sales_customer_id_customers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sales')),
    sa.UniqueConstraint('sale_id', name=op.f('uq_sales_sale_id'))
    )
    with op.batch_alter_table('sales', schema=None) as batch_op:
        batch_op.create_index('ix_sales_at', ['at', 'customer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_sales_customer_id'), ['customer_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('sales', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sales_customer_id'))
        batch_op.drop_index('ix_sales_at')
    op.drop_table('sales')
