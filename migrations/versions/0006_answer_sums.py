"""answer sums kept on write: additive sums per account and quarter, quote-days histogram

Creates ``answer_sums`` and ``answer_quote_days`` and fills them from ``responses``
(plain SQL, as every migration: no app code). From here on every write that changes
answers updates them in the same transaction; ``cpi sums check`` compares them with
the answers.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

SUMS = [
    "responses", "fcr_yes", "fcr_no", "calls_n", "calls_sum", "calls_sumsq", "share_n",
    "share_y", "share_x", "share_yy", "share_xx", "share_xy", "csat_n", "csat_top2",
    "nps_n", "nps_promoters", "nps_detractors", "ces_n", "ces_sum", "ces_sumsq",
]  # fmt: skip

# The additive sums of cpi.scoring.AnswerStats, as of this revision.
BACKFILL_SUMS = f"""
INSERT INTO answer_sums (period, account_id, {", ".join(SUMS)})
SELECT period, account_id,
       count(*),
       sum(CASE WHEN fcr = 'yes' THEN 1 ELSE 0 END),
       sum(CASE WHEN fcr = 'no' THEN 1 ELSE 0 END),
       count(contacts_value_added),
       coalesce(sum(contacts_value_added), 0),
       coalesce(sum(contacts_value_added * contacts_value_added), 0),
       sum(CASE WHEN contacts_total > 0 AND contacts_value_added IS NOT NULL THEN 1 ELSE 0 END),
       sum(CASE WHEN contacts_total > 0 AND contacts_value_added IS NOT NULL
                THEN contacts_value_added ELSE 0 END),
       sum(CASE WHEN contacts_total > 0 AND contacts_value_added IS NOT NULL
                THEN contacts_total ELSE 0 END),
       sum(CASE WHEN contacts_total > 0 AND contacts_value_added IS NOT NULL
                THEN contacts_value_added * contacts_value_added ELSE 0 END),
       sum(CASE WHEN contacts_total > 0 AND contacts_value_added IS NOT NULL
                THEN contacts_total * contacts_total ELSE 0 END),
       sum(CASE WHEN contacts_total > 0 AND contacts_value_added IS NOT NULL
                THEN contacts_total * contacts_value_added ELSE 0 END),
       count(csat),
       sum(CASE WHEN csat >= 4 THEN 1 ELSE 0 END),
       count(nps),
       sum(CASE WHEN nps >= 9 THEN 1 ELSE 0 END),
       sum(CASE WHEN nps <= 6 THEN 1 ELSE 0 END),
       count(ces),
       coalesce(sum(ces), 0),
       coalesce(sum(ces * ces), 0)
FROM responses
GROUP BY period, account_id
"""

BACKFILL_DAYS = """
INSERT INTO answer_quote_days (period, account_id, days, count)
SELECT period, account_id, quote_turnaround_days, count(*)
FROM responses
WHERE quote_turnaround_days IS NOT NULL
GROUP BY period, account_id, quote_turnaround_days
"""


def upgrade() -> None:
    op.create_table(
        "answer_sums",
        sa.Column("period", sa.String(length=7), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        *[sa.Column(name, sa.BigInteger(), nullable=False) for name in SUMS],
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"],
            name=op.f("fk_answer_sums_account_id_accounts"), ondelete="CASCADE",
        ),  # fmt: skip
        sa.PrimaryKeyConstraint("period", "account_id", name=op.f("pk_answer_sums")),
    )
    with op.batch_alter_table("answer_sums", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_answer_sums_account_id"), ["account_id"], unique=False)
    op.create_table(
        "answer_quote_days",
        sa.Column("period", sa.String(length=7), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("days", sa.Float(), nullable=False),
        sa.Column("count", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"],
            name=op.f("fk_answer_quote_days_account_id_accounts"), ondelete="CASCADE",
        ),  # fmt: skip
        sa.PrimaryKeyConstraint("period", "account_id", "days", name=op.f("pk_answer_quote_days")),
    )
    with op.batch_alter_table("answer_quote_days", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_answer_quote_days_account_id"), ["account_id"], unique=False
        )
    op.execute(BACKFILL_SUMS)
    op.execute(BACKFILL_DAYS)


def downgrade() -> None:
    with op.batch_alter_table("answer_quote_days", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_answer_quote_days_account_id"))
    op.drop_table("answer_quote_days")
    with op.batch_alter_table("answer_sums", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_answer_sums_account_id"))
    op.drop_table("answer_sums")
