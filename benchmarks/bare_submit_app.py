"""The floors for bench_submits.py: a bare Flask app whose one handler does a survey
submit's database work and nothing else (no CSRF, rate limit, validation, language,
templates, session cookie, request log).

- ``CPI_BARE_WORK=upsert`` (the default): find the invitation by its token's hash, then
  the same Core upsert and invitation update as the app (``cpi.surveys.responses.
  write_answers``), in one transaction: three statements on SQLite, two on PostgreSQL
  (the invitation's update is a CTE of the upsert there).
- ``CPI_BARE_WORK=full``: the app's own database work through its operations
  (``find_visit``, ``record_answers``: the answer sums, the alert state, the data
  generations) in one transaction of a plain session: what a submit must write since
  the sums are kept on write (issue 13 item 1), without the web framework around it.

    CPI_DATABASE_URL=... [CPI_BARE_WORK=full] gunicorn --chdir benchmarks bare_submit_app:app
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from typing import Any

from flask import Flask, redirect, request
from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from cpi.accounts.models import Contact
from cpi.db import make_engine
from cpi.scoring import Answers
from cpi.surveys.models import Campaign, Invitation
from cpi.surveys.responses import find_visit, record_answers, write_answers
from cpi.surveys.tokens import hash_token

INTEGERS = ("contacts_total", "contacts_value_added", "csat", "nps", "ces")

app = Flask(__name__)
engine = make_engine(os.environ["CPI_DATABASE_URL"])
writer = engine.execution_options(cpi_write=True)
lookup = (
    select(Invitation.id, Invitation.contact_id, Contact.account_id, Campaign.period)
    .join(Campaign, Campaign.id == Invitation.campaign_id)
    .join(Contact, Contact.id == Invitation.contact_id)
    .where(Invitation.token_hash == bindparam("token_hash"))
)
FULL = os.environ.get("CPI_BARE_WORK", "upsert") == "full"


def _answers(form: Any) -> Answers:
    return Answers(
        fcr=form["fcr"], quote_turnaround_days=float(form["quote_turnaround_days"]),
        **{name: int(form[name]) for name in INTEGERS},
    )  # fmt: skip


def _full_submit(token: str) -> Any:
    with Session(writer) as session:
        visit = find_visit(session, token)
        if visit is None:
            return "not found", 404
        form = request.form
        record_answers(session, visit, _answers(form), comment=form.get("comment"),
                       name_consent=False)  # fmt: skip
        session.commit()
    return redirect(f"/s/{token}/thanks", code=303)


@app.post("/s/<token>")
def submit(token: str) -> Any:
    if FULL:
        return _full_submit(token)
    form = request.form
    now = datetime.now(UTC).replace(tzinfo=None)
    params: dict[str, Any] = {name: int(form[name]) for name in INTEGERS}
    params.update(
        fcr=form["fcr"], quote_turnaround_days=float(form["quote_turnaround_days"]),
        comment=form.get("comment"), name_consent=False, source="survey",
        submitted_at=now, updated_at=now,
    )  # fmt: skip
    with writer.begin() as connection:
        row = connection.execute(lookup, {"token_hash": hash_token(token)}).first()
        if row is None:
            return "not found", 404
        params.update(
            account_id=row.account_id, contact_id=row.contact_id, period=row.period,
            invitation_id=row.id,
        )  # fmt: skip
        write_answers(connection, params, now)
    return redirect(f"/s/{token}/thanks", code=303)
