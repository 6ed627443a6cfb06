"""indexes for the dashboard at a million referrals: referrer's redemptions per program, a customer's codes by kind and time, bearer codes, shares by issue time

Revision ID: 0016_report_speed
Revises: 0015_code_milestones
Create Date: 2026-12-07 02:00:00
"""
from alembic import op
import sqlalchemy as sa

import pos_referral.db.base

revision = '0016_report_speed'
down_revision = "0015_code_milestones"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('redemptions', schema=None) as batch_op:
        batch_op.drop_index('ix_redemptions_referrer_id')
        batch_op.create_index('ix_redemptions_referrer_id', ['referrer_id', 'program_id', 'created_at'], unique=False)
    with op.batch_alter_table('codes', schema=None) as batch_op:
        batch_op.drop_index('ix_codes_customer_id')
        batch_op.create_index('ix_codes_customer_id', ['customer_id', 'kind', 'created_at'], unique=False)
        batch_op.create_index('ix_codes_bearer', ['created_at', 'claimed_at'], unique=False,
                              sqlite_where=sa.text('bearer = 1'), postgresql_where=sa.text('bearer'))
    with op.batch_alter_table('share_counts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('issued_at', pos_referral.db.base.UTCDateTime(), nullable=True))
    # the issue time of every referral code issued here that was shared already (another store's code: NULL)
    op.execute("UPDATE share_counts SET issued_at = (SELECT codes.created_at FROM codes WHERE codes.code = "
               "share_counts.code AND codes.kind = 'referral' AND codes.customer_id NOT LIKE 'x%')")
    with op.batch_alter_table('share_counts', schema=None) as batch_op:
        batch_op.create_index('ix_share_counts_issued', ['issued_at', 'channel', 'code', 'n'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('share_counts', schema=None) as batch_op:
        batch_op.drop_index('ix_share_counts_issued')
        batch_op.drop_column('issued_at')
    with op.batch_alter_table('codes', schema=None) as batch_op:
        batch_op.drop_index('ix_codes_bearer', sqlite_where=sa.text('bearer = 1'), postgresql_where=sa.text('bearer'))
        batch_op.drop_index('ix_codes_customer_id')
        batch_op.create_index('ix_codes_customer_id', ['customer_id'], unique=False)
    with op.batch_alter_table('redemptions', schema=None) as batch_op:
        batch_op.drop_index('ix_redemptions_referrer_id')
        batch_op.create_index('ix_redemptions_referrer_id', ['referrer_id'], unique=False)
