"""Campaigns in the app: portfolio and chosen-accounts scopes, recurring schedules

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("campaigns", schema=None) as batch_op:
        batch_op.add_column(sa.Column("owner_email", sa.String(length=254), nullable=True))
    op.create_table(
        "campaign_accounts",
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"],
            name=op.f("fk_campaign_accounts_account_id_accounts"), ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["campaign_id"], ["campaigns.id"],
            name=op.f("fk_campaign_accounts_campaign_id_campaigns"), ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("campaign_id", "account_id", name=op.f("pk_campaign_accounts")),
    )  # fmt: skip
    op.create_table(
        "campaign_schedules",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("survey_id", sa.Integer(), nullable=False),
        sa.Column("segment", sa.String(length=100), nullable=True),
        sa.Column("owner_email", sa.String(length=254), nullable=True),
        sa.Column("lead_days", sa.Integer(), nullable=False),
        sa.Column("remind_after_days", sa.Integer(), nullable=True),
        sa.Column("paused", sa.Boolean(), nullable=False),
        sa.Column("created_by", sa.String(length=254), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("last_note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["survey_id"], ["surveys.id"], name=op.f("fk_campaign_schedules_survey_id_surveys")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaign_schedules")),
    )
    op.create_table(
        "scheduled_campaigns",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("schedule_id", sa.Integer(), nullable=False),
        sa.Column("period", sa.String(length=7), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"], ["campaigns.id"],
            name=op.f("fk_scheduled_campaigns_campaign_id_campaigns"), ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["schedule_id"], ["campaign_schedules.id"],
            name=op.f("fk_scheduled_campaigns_schedule_id_campaign_schedules"), ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scheduled_campaigns")),
        sa.UniqueConstraint("campaign_id", name=op.f("uq_scheduled_campaigns_campaign_id")),
        sa.UniqueConstraint(
            "schedule_id", "period", name=op.f("uq_scheduled_campaigns_schedule_id_period")
        ),
    )  # fmt: skip


def downgrade() -> None:
    op.drop_table("scheduled_campaigns")
    op.drop_table("campaign_schedules")
    op.drop_table("campaign_accounts")
    with op.batch_alter_table("campaigns", schema=None) as batch_op:
        batch_op.drop_column("owner_email")
