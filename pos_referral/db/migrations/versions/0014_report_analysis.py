"""reconciliation items resolved with a note and by whom (central_reconciliation)

Revision ID: 0014_report_analysis
Revises: 0013_sales_reports
Create Date: 2026-12-06 22:05:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0014_report_analysis'
down_revision = "0013_sales_reports"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('central_reconciliation', schema=None) as batch_op:
        batch_op.add_column(sa.Column('resolved_by', sa.String(length=64), server_default='', nullable=False))
        batch_op.add_column(sa.Column('resolution_note', sa.Text(), server_default='', nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('central_reconciliation', schema=None) as batch_op:
        batch_op.drop_column('resolution_note')
        batch_op.drop_column('resolved_by')
