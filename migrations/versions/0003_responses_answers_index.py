"""responses: a covering index for scoring

The scoring GROUP BYs (per period and account; the quote-days histogram per period,
account and days) read only these columns, so both are answered from the index
without visiting the table. It replaces the (period, account_id) index, which is
its prefix.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29
"""

from alembic import op


revision = '0003'
down_revision = "0002"
branch_labels = None
depends_on = None

COLUMNS = [
    "period", "account_id", "quote_turnaround_days", "fcr", "contacts_total",
    "contacts_value_added", "csat", "nps", "ces",
]


def upgrade() -> None:
    with op.batch_alter_table('responses', schema=None) as batch_op:
        batch_op.create_index('ix_responses_period_account_answers', COLUMNS, unique=False)
        batch_op.drop_index('ix_responses_period_account')


def downgrade() -> None:
    with op.batch_alter_table('responses', schema=None) as batch_op:
        batch_op.create_index('ix_responses_period_account', ['period', 'account_id'], unique=False)
        batch_op.drop_index('ix_responses_period_account_answers')
