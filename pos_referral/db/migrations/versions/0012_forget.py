"""customers.forgotten_at: when a customer's personal data was erased (customer forget)

Revision ID: 0012_forget
Revises: 0008_bearer_codes
Create Date: 2026-12-06 22:00:00
"""
from alembic import op
import sqlalchemy as sa
import pos_referral.db.base


revision = '0012_forget'
down_revision = "0008_bearer_codes"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('customers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('forgotten_at', pos_referral.db.base.UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('customers', schema=None) as batch_op:
        batch_op.drop_column('forgotten_at')
