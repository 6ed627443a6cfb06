"""audit log keyed with HMAC: audit_log.mac_version, and central's copy of each store's audit head

Entries written before this migration keep their plain SHA-256 hash (``mac_version`` 0): the audit key
lives in the store's secrets file, not in the database, so they cannot be re-MACed here. The service
verifies them as before and starts the keyed chain from the last of them (services/audit.py); the
first keyed entry's MAC covers that last plain hash, so the old entries are protected from then on.

Revision ID: 0004_audit_mac
Revises: 0003_staff_sessions
Create Date: 2026-12-06 18:30:00
"""
from alembic import op
import sqlalchemy as sa
import pos_referral.db.base


revision = '0004_audit_mac'
down_revision = "0003_staff_sessions"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.add_column(sa.Column('mac_version', sa.Integer(), server_default='0', nullable=False))
    op.create_table('central_audit_heads',
    sa.Column('store_no', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('entries', sa.BigInteger(), nullable=False),
    sa.Column('last_id', sa.BigInteger(), nullable=False),
    sa.Column('mac', sa.String(length=64), nullable=False),
    sa.Column('received_at', pos_referral.db.base.UTCDateTime(), nullable=False),
    sa.Column('refused_at', pos_referral.db.base.UTCDateTime(), nullable=True),
    sa.Column('refused_entries', sa.BigInteger(), nullable=True),
    sa.PrimaryKeyConstraint('store_no', name=op.f('pk_central_audit_heads'))
    )


def downgrade() -> None:
    op.drop_table('central_audit_heads')
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.drop_column('mac_version')
