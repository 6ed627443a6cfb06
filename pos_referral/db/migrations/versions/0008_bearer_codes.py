"""bearer referral codes printed by the print proxy, claimed later on the landing page

Revision ID: 0008_bearer_codes
Revises: 0006_sales
Create Date: 2026-12-06 22:00:00
"""
from alembic import op
import sqlalchemy as sa
import pos_referral.db.base


revision = '0008_bearer_codes'
down_revision = "0006_sales"
branch_labels = None
depends_on = None

_REFERRAL = "kind = 'referral'"
_REFERRAL_NOT_BEARER = "kind = 'referral' AND NOT bearer"


def upgrade() -> None:
    with op.batch_alter_table('codes', schema=None) as batch_op:
        batch_op.add_column(sa.Column('bearer', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('claimed_at', pos_referral.db.base.UTCDateTime(), nullable=True))
    with op.batch_alter_table('codes', schema=None) as batch_op:
        batch_op.drop_index('ix_codes_one_referral_code')
        batch_op.create_index('ix_codes_one_referral_code', ['customer_id', 'program_id'], unique=True,
                              sqlite_where=sa.text(_REFERRAL_NOT_BEARER),
                              postgresql_where=sa.text(_REFERRAL_NOT_BEARER))


def downgrade() -> None:
    with op.batch_alter_table('codes', schema=None) as batch_op:
        batch_op.drop_index('ix_codes_one_referral_code')
        batch_op.create_index('ix_codes_one_referral_code', ['customer_id', 'program_id'], unique=True,
                              sqlite_where=sa.text(_REFERRAL), postgresql_where=sa.text(_REFERRAL))
    with op.batch_alter_table('codes', schema=None) as batch_op:
        batch_op.drop_column('claimed_at')
        batch_op.drop_column('bearer')
