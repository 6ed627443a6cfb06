"""owner link generation: reprinting a customer's card revokes their older owner links (?s=)

Revision ID: 0002_owner_link_generation
Revises: 0001
Create Date: 2026-12-06 18:50:00
"""
from alembic import op
import sqlalchemy as sa


revision = "0002_owner_link_generation"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("codes", schema=None) as batch_op:
        batch_op.add_column(sa.Column("owner_generation", sa.Integer(), server_default="0", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("codes", schema=None) as batch_op:
        batch_op.drop_column("owner_generation")
