"""Custom survey questions: labels in every language, options, retiring; their answers

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("questions", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("custom", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch_op.add_column(sa.Column("texts", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("options", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("retired_at", sa.DateTime(), nullable=True))
    op.create_table(
        "custom_answers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("response_id", sa.Integer(), nullable=False),
        sa.Column("question_id", sa.Integer(), nullable=False),
        sa.Column("value_text", sa.String(length=200), nullable=True),
        sa.Column("value_number", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["question_id"], ["questions.id"], name=op.f("fk_custom_answers_question_id_questions")
        ),
        sa.ForeignKeyConstraint(
            ["response_id"], ["responses.id"],
            name=op.f("fk_custom_answers_response_id_responses"), ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_custom_answers")),
        sa.UniqueConstraint(
            "response_id", "question_id", name=op.f("uq_custom_answers_response_id_question_id")
        ),
    )  # fmt: skip
    op.create_index(
        op.f("ix_custom_answers_question_id"), "custom_answers", ["question_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_custom_answers_question_id"), table_name="custom_answers")
    op.drop_table("custom_answers")
    with op.batch_alter_table("questions", schema=None) as batch_op:
        batch_op.drop_column("retired_at")
        batch_op.drop_column("options")
        batch_op.drop_column("texts")
        batch_op.drop_column("custom")
