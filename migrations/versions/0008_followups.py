"""Closing the loop: alert rules, alert states, follow-ups, alert email preferences

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "alert_rules",
        sa.Column("indicator", sa.String(length=32), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("threshold", sa.Float(), nullable=True),
        sa.Column("updated_by", sa.String(length=254), nullable=True),
        sa.Column("updated_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("indicator", name=op.f("pk_alert_rules")),
    )
    op.create_table(
        "alert_states",
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=False),
        sa.Column("period", sa.String(length=7), nullable=False),
        sa.Column("matched", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"],
            name=op.f("fk_alert_states_account_id_accounts"), ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["contact_id"], ["contacts.id"],
            name=op.f("fk_alert_states_contact_id_contacts"), ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("account_id", "contact_id", "period", name=op.f("pk_alert_states")),
    )  # fmt: skip
    op.create_table(
        "alert_preferences",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("digest", sa.Boolean(), nullable=False),
        sa.Column("last_digest_on", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"],
            name=op.f("fk_alert_preferences_user_id_users"), ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_alert_preferences")),
    )  # fmt: skip
    op.create_table(
        "followups",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=True),
        sa.Column("period", sa.String(length=7), nullable=False),
        sa.Column("reasons", sa.String(length=64), nullable=False),
        sa.Column("answers", sa.Text(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("anonymous", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("owner_email", sa.String(length=254), nullable=True),
        sa.Column("assignee_email", sa.String(length=254), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("due_at", sa.DateTime(), nullable=False),
        sa.Column("contacted_at", sa.DateTime(), nullable=True),
        sa.Column("resolved_at", sa.DateTime(), nullable=True),
        sa.Column("resolved_by", sa.String(length=254), nullable=True),
        sa.Column("resolution_note", sa.Text(), nullable=True),
        sa.Column("notify_email", sa.String(length=254), nullable=True),
        sa.Column("notified_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"],
            name=op.f("fk_followups_account_id_accounts"), ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["contact_id"], ["contacts.id"],
            name=op.f("fk_followups_contact_id_contacts"), ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_followups")),
    )  # fmt: skip
    op.create_index("ix_followups_respondent", "followups", ["account_id", "contact_id", "period"])
    op.create_index("ix_followups_status_due", "followups", ["status", "due_at"])
    op.create_index(op.f("ix_followups_owner_email"), "followups", ["owner_email"])
    op.create_index(op.f("ix_followups_assignee_email"), "followups", ["assignee_email"])


def downgrade() -> None:
    op.drop_index(op.f("ix_followups_assignee_email"), table_name="followups")
    op.drop_index(op.f("ix_followups_owner_email"), table_name="followups")
    op.drop_index("ix_followups_status_due", table_name="followups")
    op.drop_index("ix_followups_respondent", table_name="followups")
    op.drop_table("followups")
    op.drop_table("alert_preferences")
    op.drop_table("alert_states")
    op.drop_table("alert_rules")
