"""The custom answers CSV: one row per answer to a custom question, anonymous, safe to
open in a spreadsheet (``neutralise``, as every export). Accounts with fewer than
``min_n`` responses in the period are left out, as in the responses CSV."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cpi.accounts.models import Account
from cpi.exports.operations import neutralise
from cpi.scoring import Period
from cpi.surveys.models import CustomAnswer, Question, Response

CUSTOM_HEADER = (
    "account_id", "account_name", "segment", "period", "field", "question", "retired",
    "answer", "answer_label",
)  # fmt: skip


def custom_answer_rows(
    session: Session, account_ids: Iterable[str], period: Period | str, *, min_n: int
) -> Iterator[list[str]]:
    quarters = [str(q) for q in Period.parse(period).quarters()]
    enough = (
        select(Response.account_id)
        .where(Response.period.in_(quarters))
        .group_by(Response.account_id)
        .having(func.count() >= min_n)
    )
    statement = (
        select(
            Account.account_id, Account.name, Account.segment, Response.period,
            Question.field, Question.label, Question.retired_at, Question.kind,
            Question.options, CustomAnswer.value_text, CustomAnswer.value_number,
        )
        .join(Response, Response.id == CustomAnswer.response_id)
        .join(Account, Account.id == Response.account_id)
        .join(Question, Question.id == CustomAnswer.question_id)
        .where(Response.period.in_(quarters), Response.account_id.in_(enough))
        .order_by(Account.account_id, Response.period, Response.id, Question.position)
    )  # fmt: skip
    ids = list(account_ids)
    for start in range(0, len(ids), 500):
        chunk = statement.where(Account.account_id.in_(ids[start : start + 500]))
        for row in session.execute(chunk):
            answer = str(row.value_number) if row.value_number is not None else row.value_text
            label = ""
            if row.kind == "options":
                labels = {str(o["value"]): o["labels"].get("en", "") for o in row.options or []}
                label = labels.get(answer or "", "")
            texts = (row.account_id, row.name, row.segment, row.period, row.field, row.label)
            yield [
                *(neutralise(text) for text in texts),
                "yes" if row.retired_at is not None else "no",
                neutralise(answer),
                neutralise(label),
            ]
