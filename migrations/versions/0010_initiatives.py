"""Enablement initiatives (participants, costs, case studies) and account outcomes

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "initiatives",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=False),
        sa.Column("indicators", sa.String(length=200), nullable=False),
        sa.Column("benefit_outcome", sa.String(length=32), nullable=True),
        sa.Column("benefit_value", sa.Float(), nullable=True),
        sa.Column("created_by", sa.String(length=254), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_initiatives")),
    )
    op.create_table(
        "case_studies",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("initiative_id", sa.Integer(), nullable=False),
        sa.Column("participant_email", sa.String(length=254), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=True),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("happened_on", sa.Date(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("amount", sa.Float(), nullable=False),
        sa.Column("hours", sa.Float(), nullable=True),
        sa.Column("hourly_rate", sa.Float(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("recorded_by", sa.String(length=254), nullable=True),
        sa.Column("reviewed_by", sa.String(length=254), nullable=True),
        sa.Column("reviewed_at", sa.DateTime(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_case_studies_account_id_accounts"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["initiative_id"],
            ["initiatives.id"],
            name=op.f("fk_case_studies_initiative_id_initiatives"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_studies")),
    )
    with op.batch_alter_table("case_studies", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_case_studies_initiative_id"), ["initiative_id"], unique=False
        )

    op.create_table(
        "initiative_costs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("initiative_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("description", sa.String(length=200), nullable=True),
        sa.Column("amount", sa.Float(), nullable=True),
        sa.Column("hours", sa.Float(), nullable=True),
        sa.Column("hourly_cost", sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(
            ["initiative_id"],
            ["initiatives.id"],
            name=op.f("fk_initiative_costs_initiative_id_initiatives"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_initiative_costs")),
    )
    with op.batch_alter_table("initiative_costs", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_initiative_costs_initiative_id"), ["initiative_id"], unique=False
        )

    op.create_table(
        "initiative_participants",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("initiative_id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.ForeignKeyConstraint(
            ["initiative_id"],
            ["initiatives.id"],
            name=op.f("fk_initiative_participants_initiative_id_initiatives"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_initiative_participants")),
        sa.UniqueConstraint(
            "initiative_id", "email", name=op.f("uq_initiative_participants_initiative_id_email")
        ),
    )
    with op.batch_alter_table("initiative_participants", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_initiative_participants_email"), ["email"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_initiative_participants_initiative_id"), ["initiative_id"], unique=False
        )

    op.create_table(
        "outcomes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("period", sa.String(length=7), nullable=False),
        sa.Column("renewed", sa.Boolean(), nullable=True),
        sa.Column("churned", sa.Boolean(), nullable=True),
        sa.Column("revenue", sa.Float(), nullable=True),
        sa.Column("expansion_revenue", sa.Float(), nullable=True),
        sa.Column("referrals", sa.Integer(), nullable=True),
        sa.Column("cost_to_serve", sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_outcomes_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outcomes")),
        sa.UniqueConstraint("account_id", "period", name=op.f("uq_outcomes_account_id_period")),
    )
    with op.batch_alter_table("outcomes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_outcomes_period"), ["period"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("outcomes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_outcomes_period"))

    op.drop_table("outcomes")
    with op.batch_alter_table("initiative_participants", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_initiative_participants_initiative_id"))
        batch_op.drop_index(batch_op.f("ix_initiative_participants_email"))

    op.drop_table("initiative_participants")
    with op.batch_alter_table("initiative_costs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_initiative_costs_initiative_id"))

    op.drop_table("initiative_costs")
    with op.batch_alter_table("case_studies", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_case_studies_initiative_id"))

    op.drop_table("case_studies")
    op.drop_table("initiatives")
