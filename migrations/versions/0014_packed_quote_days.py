"""quote-days histograms packed into the answer sums row

Moves every account and quarter's histogram from ``answer_quote_days`` (one row per
distinct days value) into ``answer_sums.quote_days``: its (days, count) entries as
little-endian (float64, int64) records, ascending by days, counts > 0 (the format of
``cpi.scoring.columns.pack_histogram``, repeated here: a migration imports no app
code). Scoring then reads one row per account and quarter instead of ~35,000 entries
a quarter. A histogram without a sums row gets an all-zero one, so nothing is lost
(``cpi sums check`` reports such a row).

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-01
"""

import struct
from itertools import groupby

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

SUMS = [
    "responses", "fcr_yes", "fcr_no", "calls_n", "calls_sum", "calls_sumsq", "share_n",
    "share_y", "share_x", "share_yy", "share_xx", "share_xy", "csat_n", "csat_top2",
    "nps_n", "nps_promoters", "nps_detractors", "ces_n", "ces_sum", "ces_sumsq",
]  # fmt: skip
RECORD = struct.Struct("<dq")
BATCH = 5000


def _pack(entries: list[tuple[float, int]]) -> bytes | None:
    merged: dict[float, int] = {}
    for days, count in entries:
        merged[float(days)] = merged.get(float(days), 0) + int(count)
    kept = sorted((days, count) for days, count in merged.items() if count > 0)
    return b"".join(RECORD.pack(days, count) for days, count in kept) or None


def _sums_table() -> sa.Table:
    return sa.table(
        "answer_sums",
        sa.column("period", sa.String),
        sa.column("account_id", sa.Integer),
        sa.column("quote_days", sa.LargeBinary),
        *[sa.column(name, sa.BigInteger) for name in SUMS],
    )


def upgrade() -> None:
    with op.batch_alter_table("answer_sums", schema=None) as batch_op:
        batch_op.add_column(sa.Column("quote_days", sa.LargeBinary(), nullable=True))
    bind = op.get_bind()
    sums = _sums_table()
    existing = {tuple(row) for row in bind.execute(sa.select(sums.c.period, sums.c.account_id))}
    entries = bind.execute(
        sa.text(
            "SELECT period, account_id, days, count FROM answer_quote_days "
            "ORDER BY period, account_id, days"
        )
    ).all()
    missing, packed = [], []
    for (period, account_id), group in groupby(entries, key=lambda row: (row[0], row[1])):
        blob = _pack([(days, count) for _, _, days, count in group])
        if blob is None:
            continue
        if (period, account_id) not in existing:
            missing.append({"period": period, "account_id": account_id, **dict.fromkeys(SUMS, 0)})
        packed.append({"key_period": period, "key_account": account_id, "packed": blob})
    if missing:
        bind.execute(sums.insert(), missing)
    write = (
        sa.update(sums)
        .where(
            sums.c.period == sa.bindparam("key_period"),
            sums.c.account_id == sa.bindparam("key_account"),
        )
        .values(quote_days=sa.bindparam("packed"))
    )
    for start in range(0, len(packed), BATCH):
        bind.execute(write, packed[start : start + BATCH])
    with op.batch_alter_table("answer_quote_days", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_answer_quote_days_account_id"))
    op.drop_table("answer_quote_days")


def downgrade() -> None:
    table = op.create_table(
        "answer_quote_days",
        sa.Column("period", sa.String(length=7), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("days", sa.Float(), nullable=False),
        sa.Column("count", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_answer_quote_days_account_id_accounts"),
            ondelete="CASCADE",
        ),  # fmt: skip
        sa.PrimaryKeyConstraint("period", "account_id", "days", name=op.f("pk_answer_quote_days")),
    )
    with op.batch_alter_table("answer_quote_days", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_answer_quote_days_account_id"), ["account_id"], unique=False
        )
    bind = op.get_bind()
    sums = _sums_table()
    rows = []
    for period, account_id, blob in bind.execute(
        sa.select(sums.c.period, sums.c.account_id, sums.c.quote_days).where(
            sums.c.quote_days.is_not(None)
        )
    ):
        for days, count in RECORD.iter_unpack(bytes(blob)):
            rows.append({"period": period, "account_id": account_id, "days": days, "count": count})
    for start in range(0, len(rows), BATCH):
        bind.execute(table.insert(), rows[start : start + BATCH])
    with op.batch_alter_table("answer_sums", schema=None) as batch_op:
        batch_op.drop_column("quote_days")
