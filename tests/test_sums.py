"""Answer sums kept on write (cpi/surveys/sums.py): after every write that changes
answers the sums tables equal a recomputation from the answers, on SQLite and (with
CPI_TEST_DATABASE_URL) PostgreSQL."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import textwrap
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test
from sqlalchemy import delete, func, select, text, update
from sqlalchemy.orm import Session
from support import PG_URL, wait_until

from cpi.accounts.models import Account, Contact
from cpi.db import database, make_engine
from cpi.imports.csvfile import ImportFailed
from cpi.imports.operations import import_csv
from cpi.migrate import upgrade
from cpi.ops.privacy import forget_contact
from cpi.scoring import ANSWER_FIELDS, Answers, AnswerStats
from cpi.scoring.columns import unpack_histogram
from cpi.scoring.stats import INT_FIELDS
from cpi.surveys.models import Campaign, Invitation, Response, Survey
from cpi.surveys.responses import Visit, record_answers
from cpi.surveys.sums import differences
from cpi.surveys.sums_models import AnswerSums

QUARTERS = ("2026-Q1", "2026-Q2")
ACCOUNTS = ("ACC-1", "ACC-2", "ACC-3")
EMAILS = ("a@x.example", "b@x.example", "c@x.example")
HEADER = "account_id,contact_email,period,fcr,contacts_total,contacts_value_added," \
    "quote_turnaround_days,csat,nps,ces,comment\n"  # fmt: skip


def oracle(session: Session) -> dict[tuple[int, str], AnswerStats]:
    """The sums computed in Python (AnswerStats.from_answers) from every response."""
    grouped: dict[tuple[int, str], list[Answers]] = defaultdict(list)
    columns = [getattr(Response, name) for name in ANSWER_FIELDS]
    for account_pk, period, *values in session.execute(
        select(Response.account_id, Response.period, *columns)
    ):
        grouped[(account_pk, period)].append(
            Answers(**dict(zip(ANSWER_FIELDS, values, strict=True)))
        )
    return {key: AnswerStats.from_answers(group) for key, group in grouped.items()}


def stored(session: Session) -> dict[tuple[int, str], AnswerStats]:
    rows = session.execute(select(AnswerSums)).scalars().all()
    for row in rows:  # stored packed as written: ascending days, positive counts
        histogram = unpack_histogram(row.quote_days)
        assert list(histogram) == sorted(histogram)
        assert all(count > 0 for count in histogram.values())
    return {
        (row.account_id, row.period): AnswerStats(
            quote_days=unpack_histogram(row.quote_days),
            **{name: getattr(row, name) for name in INT_FIELDS},
        )
        for row in rows
        if row.responses or row.quote_days
    }


def assert_sums_agree(session: Session) -> None:
    session.rollback()
    assert differences(session) == []
    assert stored(session) == oracle(session)
    session.rollback()


def seed(session: Session) -> dict[str, Any]:
    """Accounts, contacts, one campaign per quarter and an invitation per contact."""
    survey_id = session.scalar(select(Survey.id).where(Survey.code == "cpi-pulse"))
    accounts, contacts, visits = {}, {}, {}
    campaigns = {}
    for quarter in QUARTERS:
        campaign = Campaign(name=quarter, period=quarter, survey_id=survey_id, status="open")
        session.add(campaign)
        session.flush()
        campaigns[quarter] = campaign.id
    for index, account_id in enumerate(ACCOUNTS):
        account = Account(account_id=account_id, name=account_id, segment="Retail")
        session.add(account)
        session.flush()
        accounts[account_id] = account.id
        for email in EMAILS:
            contact = Contact(account_id=account.id, email=email)
            session.add(contact)
            session.flush()
            contacts[(account_id, email)] = contact.id
            for quarter in QUARTERS:
                invitation = Invitation(
                    campaign_id=campaigns[quarter],
                    contact_id=contact.id,
                    token_hash=f"{index}-{email}-{quarter}".ljust(64, "0")[:64],
                )
                session.add(invitation)
                session.flush()
                visits[(account_id, email, quarter)] = Visit(
                    invitation.id, campaigns[quarter], contact.id, account.id, quarter,
                    survey_id, None, True, False,
                )  # fmt: skip
    session.commit()
    return {"accounts": accounts, "contacts": contacts, "visits": visits}


answers_strategy = st.builds(
    Answers,
    fcr=st.sampled_from(["yes", "no", "na", None]),
    contacts_total=st.one_of(st.none(), st.integers(0, 9)),
    contacts_value_added=st.none(),
    quote_turnaround_days=st.one_of(st.none(), st.sampled_from([0.5, 1.0, 2.0, 7.5])),
    csat=st.one_of(st.none(), st.integers(1, 5)),
    nps=st.one_of(st.none(), st.integers(0, 10)),
    ces=st.one_of(st.none(), st.integers(1, 7)),
).flatmap(
    lambda a: st.builds(
        lambda added: Answers(**{**a.__dict__, "contacts_value_added": added}),
        st.one_of(st.none(), st.integers(0, a.contacts_total or 0)),
    )
)
slot = st.tuples(st.sampled_from(ACCOUNTS), st.sampled_from(EMAILS), st.sampled_from(QUARTERS))


def csv_row(account_id: str, email: str, quarter: str, answers: Answers) -> str:
    cells = ["" if getattr(answers, n) is None else str(getattr(answers, n)) for n in ANSWER_FIELDS]
    return ",".join([account_id, email, quarter, *cells, "imported"]) + "\n"


class AnswerWrites(RuleBasedStateMachine):
    """Random imports, submits, re-answers, erasures and account deletions."""

    app: Flask

    def __init__(self) -> None:
        super().__init__()
        self.session = database(self.app).session(write=True)
        for model in (AnswerSums, Response, Invitation, Campaign, Contact):
            self.session.execute(delete(model))
        self.session.execute(delete(Account))
        self.session.commit()
        self.data = seed(self.session)
        self.deleted: set[str] = set()

    def teardown(self) -> None:
        self.session.rollback()
        self.session.close()

    @rule(rows=st.lists(st.tuples(slot, answers_strategy), min_size=1, max_size=8))
    def import_responses(self, rows: list[tuple[tuple[str, str, str], Answers]]) -> None:
        unique = {key: answers for key, answers in rows if key[0] not in self.deleted}
        if not unique:
            return
        content = HEADER + "".join(csv_row(*key, answers) for key, answers in unique.items())
        import_csv(self.session, "responses", io.BytesIO(content.encode()))
        self.session.commit()

    @rule(key=slot, answers=answers_strategy)
    def submit(self, key: tuple[str, str, str], answers: Answers) -> None:
        if key[0] in self.deleted:
            return
        with self.app.app_context():  # as in a request: alerts read the app's settings
            record_answers(
                self.session, self.data["visits"][key], answers, comment=None, name_consent=False
            )
            self.session.commit()

    @rule(email=st.sampled_from(EMAILS))
    def erase(self, email: str) -> None:
        forget_contact(self.session, email, actor="test")
        self.session.commit()

    @rule(account_id=st.sampled_from(ACCOUNTS))
    def delete_account(self, account_id: str) -> None:
        if account_id in self.deleted or len(self.deleted) == len(ACCOUNTS) - 1:
            return
        self.session.execute(delete(Account).where(Account.account_id == account_id))
        self.session.commit()
        self.deleted.add(account_id)

    @rule(rows=st.lists(st.tuples(slot, answers_strategy), min_size=1, max_size=4))
    def failed_import(self, rows: list[tuple[tuple[str, str, str], Answers]]) -> None:
        """A file with a bad last row changes nothing."""
        content = HEADER + "".join(csv_row(*key, answers) for key, answers in rows)
        content += "ACC-1,a@x.example,2026-Q1,,,,,9,,,\n"  # csat 9: out of range
        with pytest.raises(ImportFailed):
            import_csv(self.session, "responses", io.BytesIO(content.encode()))
        self.session.rollback()

    @invariant()
    def sums_equal_recomputation(self) -> None:
        assert_sums_agree(self.session)


def test_sums_equal_recomputation_after_every_write(app: Flask) -> None:
    AnswerWrites.app = app
    run_state_machine_as_test(
        AnswerWrites,
        settings=settings(
            max_examples=25,
            stateful_step_count=8,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        ),
    )


# -- concurrency: submits from 4 processes -----------------------------------------------

SUBMITTER = textwrap.dedent(
    """
    import sys
    from sqlalchemy.exc import IntegrityError
    from cpi import create_app
    from cpi.db import database
    from cpi.scoring import Answers
    from cpi.surveys.responses import Visit, record_answers

    url, instance, worker, rounds, shared, *mine = sys.argv[1:]
    app = create_app({"DATABASE_URL": url, "INSTANCE_PATH": instance, "SECRET_KEY": "x",
                      "TESTING": True})
    visits = [Visit(*map(int, v.split(":")[:4]), v.split(":")[4], 1, None, True, False)
              for v in [shared, *mine]]
    with app.app_context():
        for round_ in range(int(rounds)):
            for visit in visits:
                answers = Answers(csat=1 + (round_ + int(worker)) % 5, nps=round_ % 11,
                                  quote_turnaround_days=float(round_ % 3))
                for attempt in (1, 2):
                    session = database().session(write=True)
                    try:
                        record_answers(session, visit, answers, comment=None,
                                       name_consent=False)
                        session.commit()
                        break
                    except IntegrityError:  # the submit view retries the same way
                        session.rollback()
                        if attempt == 2:
                            raise
                    finally:
                        session.close()
    """
)


@pytest.mark.slow
@pytest.mark.database
def test_concurrent_submits_lose_no_increment(app: Flask, db: Session, tmp_path: Path) -> None:
    data = seed(db)
    account = ACCOUNTS[0]
    shared = data["visits"][(account, EMAILS[0], QUARTERS[0])]

    def arg(visit: Visit) -> str:
        ids = (visit.invitation_id, visit.campaign_id, visit.contact_id, visit.account_id)
        return ":".join(map(str, ids)) + f":{visit.period}"

    others = [v for k, v in data["visits"].items() if k[1] != EMAILS[0]]
    url = app.config["DATABASE_URL"]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    processes = [
        subprocess.Popen(
            [
                sys.executable,
                "-c",
                SUBMITTER,
                url,
                str(tmp_path / "instance"),
                str(worker),
                "6",
                arg(shared),
                *[arg(v) for v in others[worker::4]],
            ],
            env=env,
        )  # fmt: skip
        for worker in range(4)
    ]
    assert [process.wait(timeout=600) for process in processes] == [0, 0, 0, 0]
    db.rollback()
    assert db.scalar(select(func.count()).select_from(Response)) == 1 + len(others)
    assert db.scalar(select(func.sum(AnswerSums.responses))) == 1 + len(others)
    assert_sums_agree(db)


# -- all or nothing ----------------------------------------------------------------------


def _snapshot(db: Session) -> tuple[Any, ...]:
    db.rollback()
    return (
        sorted(tuple(r) for r in db.execute(select(Response.contact_id, Response.period,
                                                   Response.csat)).all()),
        sorted(tuple(r) for r in db.execute(select(AnswerSums.account_id, AnswerSums.period,
                                                   AnswerSums.responses)).all()),
    )  # fmt: skip


def test_import_failing_after_sums_were_applied_changes_nothing(
    app: Flask, db: Session, runner: Any, write_csv: Any
) -> None:
    seed(db)
    runner.invoke("import", "responses", str(write_csv("a.csv", HEADER + csv_row(
        "ACC-1", "a@x.example", "2026-Q1", Answers(csat=5)))))  # fmt: skip
    before = _snapshot(db)
    # The audit event, written after the responses and the sums, fails.
    engine = database(app).engine
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            connection.execute(
                text(
                    "CREATE FUNCTION refuse() RETURNS trigger AS $$ BEGIN "
                    "RAISE EXCEPTION 'disk full'; END $$ LANGUAGE plpgsql"
                )
            )
            connection.execute(
                text(
                    "CREATE TRIGGER refuse BEFORE INSERT ON audit_events "
                    "FOR EACH ROW EXECUTE FUNCTION refuse()"
                )
            )
        else:
            connection.execute(
                text(
                    "CREATE TRIGGER refuse BEFORE INSERT ON audit_events "
                    "BEGIN SELECT RAISE(ABORT, 'disk full'); END"
                )
            )
    # fmt: skip
    rows = "".join(
        csv_row(account, email, quarter, Answers(csat=2, quote_turnaround_days=3.0))
        for account in ACCOUNTS for email in EMAILS for quarter in QUARTERS
    )  # fmt: skip
    try:
        with pytest.raises(Exception, match="disk full"):
            runner.invoke("import", "responses", str(write_csv("b.csv", HEADER + rows)))
    finally:
        with engine.begin() as connection:
            connection.execute(
                text(
                    "DROP TRIGGER refuse"
                    + (" ON audit_events" if engine.dialect.name == "postgresql" else "")
                )
            )
            if engine.dialect.name == "postgresql":
                connection.execute(text("DROP FUNCTION refuse()"))
    # fmt: skip
    assert _snapshot(db) == before
    assert_sums_agree(db)


@pytest.mark.slow
@pytest.mark.database
def test_killed_import_changes_nothing(app: Flask, db: Session, tmp_path: Path) -> None:
    seed(db)
    contacts = "".join(
        f"ACC-{a},Acc,Retail,p{i}@x.example\n" for a in (1, 2, 3) for i in range(6000)
    )
    (tmp_path / "c.csv").write_text("account_id,account_name,segment,contact_email\n" + contacts)
    rows = "".join(
        csv_row(f"ACC-{a}", f"p{i}@x.example", q, Answers(csat=1 + i % 5, nps=i % 11))
        for a in (1, 2, 3) for i in range(6000) for q in QUARTERS
    )  # fmt: skip
    (tmp_path / "r.csv").write_text(HEADER + rows)
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(sys.path),
        "CPI_DATABASE_URL": app.config["DATABASE_URL"],
        "CPI_INSTANCE_PATH": str(tmp_path / "instance"),
        "CPI_SECRET_KEY": "x",
    }
    command = [sys.executable, "-c", "from cpi.cli import cli; cli()", "import"]
    subprocess.run([*command, "contacts", str(tmp_path / "c.csv")], env=env, check=True)
    before = _snapshot(db)
    process = subprocess.Popen([*command, "responses", str(tmp_path / "r.csv")], env=env)
    try:
        # Killed once it has written rows (uncommitted) but before it commits.
        wait_until(lambda: _writing(app, db) or process.poll() is not None, what="writes")
        os.kill(process.pid, signal.SIGKILL)
    finally:
        process.wait()
    assert process.returncode == -signal.SIGKILL
    assert _snapshot(db) == before
    assert_sums_agree(db)


def _writing(app: Flask, db: Session) -> bool:
    url = app.config["DATABASE_URL"]
    if url.startswith("sqlite"):
        wal = Path(url.removeprefix("sqlite:///") + "-wal")
        return wal.exists() and wal.stat().st_size > 1_000_000
    db.rollback()
    busy = db.scalar(
        text(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND query ILIKE 'INSERT INTO responses%' AND pid <> pg_backend_pid()"
        )
    )
    db.rollback()
    return bool(busy)  # fmt: skip


# -- migration backfill, check and rebuild -----------------------------------------------


def test_migration_backfill_equals_recomputation(tmp_path: Path) -> None:
    if PG_URL:
        pytest.skip("run on SQLite; the backfill SQL is plain (checked on PostgreSQL below)")
    engine = make_engine(f"sqlite:///{tmp_path / 'old.sqlite3'}")
    _backfill_check(engine)


@pytest.mark.skipif(not PG_URL, reason="PostgreSQL only")
def test_migration_backfill_equals_recomputation_postgresql() -> None:
    from sqlalchemy import make_url

    name = f"cpi_sums_backfill_{os.getpid()}"
    server = make_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with server.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    engine = make_engine(make_url(PG_URL).set(database=name).render_as_string(False))
    try:
        _backfill_check(engine)
    finally:
        engine.dispose()
        with server.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        server.dispose()


def _backfill_check(engine: Any) -> None:
    upgrade(engine, "0005")
    with engine.begin() as connection:
        for pk in (1, 2):
            connection.execute(
                text(
                    "INSERT INTO accounts (id, account_id, name, segment, created_at) "
                    "VALUES (:pk, :a, 'n', 's', '2026-01-01')"
                ),
                {"pk": pk, "a": f"A{pk}"},
            )
        answers = [
            ("yes", 5, 3, 2.5, 4, 9, 6), ("no", 0, 0, None, 1, 0, 7), ("na", None, 2, 2.5, 5, 6, 1),
            (None, 3, None, 10.0, None, 10, None), ("yes", 9, 9, 0.5, 3, 7, 4),
        ]  # fmt: skip
        for i in range(40):
            fcr, total, added, days, csat, nps, ces = answers[i % len(answers)]
            connection.execute(
                text(
                    "INSERT INTO contacts (id, account_id, email, created_at) "
                    "VALUES (:i, :pk, :e, '2026-01-01')"
                ),
                {"i": i + 1, "pk": 1 + i % 2, "e": f"p{i}@x.example"},
            )
            connection.execute(
                text(
                    "INSERT INTO responses (account_id, contact_id, period, source, fcr, "
                    "contacts_total, contacts_value_added, quote_turnaround_days, csat, nps, ces, "
                    "name_consent) VALUES (:pk, :i, :q, 'import', :fcr, :t, :v, :d, :c, :n, :e, "
                    "false)"
                ),
                {
                    "pk": 1 + i % 2,
                    "i": i + 1,
                    "q": QUARTERS[i % 3 % 2],
                    "fcr": fcr,
                    "t": total,
                    "v": added,
                    "d": days,
                    "c": csat,
                    "n": nps,
                    "e": ces,
                },
            )
    # fmt: skip
    upgrade(engine)
    with Session(engine) as session:
        assert session.scalar(select(func.sum(AnswerSums.responses))) == 40
        packed = session.scalars(select(AnswerSums.quote_days)).all()
        assert sum(len(unpack_histogram(histogram)) for histogram in packed) > 4
        assert_sums_agree(session)


def test_check_reports_a_planted_difference_and_rebuild_repairs_it(
    app: Flask, db: Session, runner: Any, write_csv: Any
) -> None:
    seed(db)
    rows = "".join(
        csv_row(account, email, "2026-Q1", Answers(csat=4, quote_turnaround_days=1.5))
        for account in ACCOUNTS for email in EMAILS
    )  # fmt: skip
    runner.invoke("import", "responses", str(write_csv("r.csv", HEADER + rows)))
    assert "agree" in runner.invoke("sums", "check").output
    with database(app).transaction() as session:
        acc2 = session.scalar(select(Account.id).where(Account.account_id == "ACC-2"))
        session.execute(
            update(AnswerSums)
            .where(AnswerSums.account_id == acc2)
            .values(csat_top2=AnswerSums.csat_top2 + 2)
        )
        session.execute(
            update(AnswerSums).where(AnswerSums.account_id == acc2).values(quote_days=None)
        )
    result = runner.invoke("sums", "check", expect_exit=1)
    assert "account ACC-2 2026-Q1 csat_top2: stored 5, recomputed 3" in result.output
    assert "account ACC-2 2026-Q1 quote_days=1.5: stored 0, recomputed 3" in result.output
    assert "2 difference(s)" in result.output
    result = runner.invoke("sums", "rebuild")
    assert "2 difference(s) repaired" in result.output
    assert "agree" in runner.invoke("sums", "check").output
    db.rollback()
    from cpi.audit.models import AuditEvent

    assert db.scalar(select(AuditEvent.detail).where(AuditEvent.action == "sums.rebuild"))
    assert_sums_agree(db)
