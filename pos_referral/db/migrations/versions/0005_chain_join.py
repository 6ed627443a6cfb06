"""a standalone shop joins a chain later: central's record of each join (central_chain_joins)

The adopted code keys and peppers themselves live in ``central_secrets`` (its JSON grows an
``adopted`` keyring list and ``old_peppers``), so they travel to every store with the chain's keys.

Revision ID: 0005_chain_join
Revises: 0004_audit_mac
Create Date: 2026-12-06 19:30:00
"""
from alembic import op
import sqlalchemy as sa
import pos_referral.db.base


revision = '0005_chain_join'
down_revision = "0004_audit_mac"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('central_chain_joins',
    sa.Column('store_no', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('fingerprint', sa.String(length=64), nullable=False),
    sa.Column('adopted_keys', sa.Integer(), nullable=False),
    sa.Column('customers', sa.Integer(), nullable=False),
    sa.Column('joined_at', pos_referral.db.base.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('store_no', name=op.f('pk_central_chain_joins'))
    )


def downgrade() -> None:
    op.drop_table('central_chain_joins')
