"""staff sessions: a session version per staff member, who signed in at which till; no lock-out columns

Revision ID: 0003_staff_sessions
Revises: 0002_owner_link_generation
Create Date: 2026-12-06 18:40:00
"""
from alembic import op
import sqlalchemy as sa
import pos_referral.db.base


revision = '0003_staff_sessions'
down_revision = '0002_owner_link_generation'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('staff', schema=None) as batch_op:
        batch_op.add_column(sa.Column('session_version', sa.Integer(), server_default='0', nullable=False))
        batch_op.drop_column('failed_attempts')
        batch_op.drop_column('locked_until')
    op.create_table('till_sign_ins',
    sa.Column('till_id', sa.String(length=32), nullable=False),
    sa.Column('staff_id', sa.Integer(), nullable=False),
    sa.Column('at', pos_referral.db.base.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['staff_id'], ['staff.id'], name=op.f('fk_till_sign_ins_staff_id_staff'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('till_id', 'staff_id', name=op.f('pk_till_sign_ins'))
    )


def downgrade() -> None:
    op.drop_table('till_sign_ins')
    with op.batch_alter_table('staff', schema=None) as batch_op:
        batch_op.add_column(sa.Column('locked_until', pos_referral.db.base.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('failed_attempts', sa.Integer(), server_default='0', nullable=False))
        batch_op.drop_column('session_version')
