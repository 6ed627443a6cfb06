"""per-code funnel milestones, their per-day counts and referrers' released rewards (report summaries)

Revision ID: 0015_code_milestones
Revises: 0014_report_analysis
Create Date: 2026-12-06 23:00:00
"""
from alembic import op
import sqlalchemy as sa

import pos_referral.db.base

revision = '0015_code_milestones'
down_revision = "0014_report_analysis"
branch_labels = None
depends_on = None


def upgrade() -> None:
    ts = pos_referral.db.base.UTCDateTime
    op.create_table('report_code_milestones',
    sa.Column('code', sa.String(length=14), nullable=False),
    sa.Column('program_id', sa.String(length=40), nullable=False),
    sa.Column('variant', sa.String(length=32), nullable=False),
    sa.Column('store_no', sa.Integer(), nullable=False),
    sa.Column('here', sa.Boolean(), nullable=False),
    sa.Column('created_at', ts(), nullable=False),
    sa.Column('visited_at', ts(), nullable=True),
    sa.Column('quoted_at', ts(), nullable=True),
    sa.Column('bought_at', ts(), nullable=True),
    sa.Column('released_at', ts(), nullable=True),
    sa.Column('used_at', ts(), nullable=True),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_report_code_milestones'))
    )
    with op.batch_alter_table('report_code_milestones', schema=None) as batch_op:
        batch_op.create_index('ix_report_code_milestones_created',
                              ['created_at', 'here', 'store_no', 'program_id', 'variant', 'visited_at', 'quoted_at',
                               'bought_at', 'released_at', 'used_at'], unique=False)
    op.create_table('report_code_days',
    sa.Column('day', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('program_id', sa.String(length=40), nullable=False),
    sa.Column('variant', sa.String(length=32), nullable=False),
    *[sa.Column(name, sa.Integer(), nullable=False)
      for name in ('n', 's1', 's2', 's3', 's4', 's5', 'r1', 'r2', 'r3', 'r4', 'r5')],
    sa.PrimaryKeyConstraint('day', 'program_id', 'variant', name=op.f('pk_report_code_days')),
    sqlite_with_rowid=False,
    )
    op.create_table('report_referrer_rewards',
    sa.Column('program_id', sa.String(length=40), nullable=False),
    sa.Column('customer_id', sa.String(length=32), nullable=False),
    sa.Column('n', sa.Integer(), nullable=False),
    sa.Column('value', sa.BigInteger(), nullable=False),
    sa.Column('last_at', ts(), nullable=False),
    sa.PrimaryKeyConstraint('program_id', 'customer_id', name=op.f('pk_report_referrer_rewards')),
    sqlite_with_rowid=False,
    )
    with op.batch_alter_table('report_referrer_rewards', schema=None) as batch_op:
        batch_op.create_index('ix_report_referrer_rewards_n', ['program_id', 'n', 'customer_id', 'value'],
                              unique=False)

    op.create_table('report_variant_days',
    sa.Column('day', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('program_id', sa.String(length=40), nullable=False),
    sa.Column('variant', sa.String(length=32), nullable=False),
    sa.Column('acquired', sa.Integer(), nullable=False),
    sa.Column('discount', sa.BigInteger(), nullable=False),
    sa.Column('vouchers', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('day', 'program_id', 'variant', name=op.f('pk_report_variant_days')),
    sqlite_with_rowid=False,
    )


def downgrade() -> None:
    op.drop_table('report_variant_days')
    with op.batch_alter_table('report_referrer_rewards', schema=None) as batch_op:
        batch_op.drop_index('ix_report_referrer_rewards_n')
    op.drop_table('report_referrer_rewards')
    op.drop_table('report_code_days')
    with op.batch_alter_table('report_code_milestones', schema=None) as batch_op:
        batch_op.drop_index('ix_report_code_milestones_created')
    op.drop_table('report_code_milestones')
