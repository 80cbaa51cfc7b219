"""CSV imports through the real command, against the real database."""

from __future__ import annotations

import os

import pytest
from sqlalchemy import func, select

from cpi.accounts.models import Account, Contact
from cpi.kpis.models import KpiFigure, Target
from cpi.surveys.models import Response

CONTACTS = (
    "account_id,account_name,segment,owner_email,contact_email,contact_name,locale\n"
    "ACME-001,Acme Industrial,Manufacturing,am@example.com,jo@acme.example,Jo Smith,en\n"
    "ACME-001,Acme Industrial,Manufacturing,am@example.com,li@acme.example,Li Wei,fr\n"
    "HOSP-002,St. Aurelia,Healthcare,am2@example.com,eva@aurelia.example,Éva Nagy,hu\n"
)
RESPONSES_HEADER = (
    "account_id,contact_email,period,submitted_at,fcr,contacts_total,contacts_value_added,"
    "quote_turnaround_days,csat,nps,ces,comment\n"
)
GOOD_RESPONSE = "ACME-001,jo@acme.example,2026-Q3,2026-10-01T10:00:00Z,yes,5,3,2.5,4,9,6,Great\n"


def count(db, model) -> int:  # type: ignore[no-untyped-def]
    db.rollback()  # a fresh snapshot: see what the command committed
    return db.scalar(select(func.count()).select_from(model))


@pytest.fixture
def contacts(runner, write_csv):  # type: ignore[no-untyped-def]
    result = runner.invoke("import", "contacts", str(write_csv("contacts.csv", CONTACTS)))
    assert result.exit_code == 0, result.output
    return result


def test_contacts_import_creates_accounts_and_contacts(contacts, db) -> None:  # type: ignore[no-untyped-def]
    assert "Imported 3 contacts rows" in contacts.output
    db.rollback()
    acme = db.scalar(select(Account).where(Account.account_id == "ACME-001"))
    assert (acme.name, acme.segment, acme.owner_email) == (
        "Acme Industrial",
        "Manufacturing",
        "am@example.com",
    )
    assert count(db, Contact) == 3


def test_reimporting_changes_nothing(contacts, runner, write_csv, db) -> None:  # type: ignore[no-untyped-def]
    path = write_csv("contacts.csv", CONTACTS)
    assert runner.invoke("import", "contacts", str(path)).exit_code == 0
    assert (count(db, Account), count(db, Contact)) == (2, 3)
    responses = write_csv("r.csv", RESPONSES_HEADER + GOOD_RESPONSE)
    for _ in range(2):
        assert runner.invoke("import", "responses", str(responses)).exit_code == 0
    assert count(db, Response) == 1


def test_contacts_reimport_updates_by_account_id(contacts, runner, write_csv, db) -> None:  # type: ignore[no-untyped-def]
    renamed = CONTACTS.replace("Acme Industrial", "Acme Industrial Group")
    assert runner.invoke("import", "contacts", str(write_csv("c2.csv", renamed))).exit_code == 0
    names = set(db.scalars(select(Account.name)))
    assert names == {"Acme Industrial Group", "St. Aurelia"}


def test_bom_and_column_order_are_accepted(runner, write_csv, db) -> None:  # type: ignore[no-untyped-def]
    content = "\ufeffcontact_email,segment,account_name,account_id\nx@y.example,Retail,Shop,S-1\n"
    result = runner.invoke("import", "contacts", str(write_csv("bom.csv", content)))
    assert result.exit_code == 0, result.output
    assert db.scalar(select(Contact.email)) == "x@y.example"


def test_responses_are_imported_with_values(contacts, runner, write_csv, db) -> None:  # type: ignore[no-untyped-def]
    path = write_csv(
        "r.csv",
        RESPONSES_HEADER
        + GOOD_RESPONSE
        + "HOSP-002,new.person@aurelia.example,2026-Q3,,na,,,,5,,,\n",
    )
    result = runner.invoke("import", "responses", str(path))
    assert result.exit_code == 0, result.output
    row = db.scalar(select(Response).where(Response.fcr == "yes"))
    assert (
        row.contacts_total,
        row.contacts_value_added,
        row.quote_turnaround_days,
        row.csat,
        row.nps,
        row.ces,
        row.comment,
    ) == (5, 3, 2.5, 4, 9, 6, "Great")
    # a respondent not yet in the contacts becomes a contact of that account
    assert count(db, Contact) == 4


def test_kpis_and_targets_upsert(contacts, runner, write_csv, db) -> None:  # type: ignore[no-untyped-def]
    kpis = write_csv(
        "k.csv",
        "indicator,period,account_id,segment,value,numerator,denominator\n"
        "fcr,2026-Q3,ACME-001,,,86,100\n"
        "fcr,2026-Q3,,Healthcare,80,,\n"
        "csat,2026-Q3,,,90,,\n",
    )
    targets = write_csv(
        "t.csv",
        "indicator,period,segment,target,tolerance\n"
        "fcr,2026-Q3,,80,\nfcr,2026-Q3,Healthcare,85,5\n",
    )
    for _ in range(2):
        assert runner.invoke("import", "kpis", str(kpis)).exit_code == 0
        assert runner.invoke("import", "targets", str(targets)).exit_code == 0
    assert count(db, KpiFigure) == 3
    assert count(db, Target) == 2
    acme = db.scalar(select(KpiFigure).where(KpiFigure.scope_key == "account:ACME-001"))
    assert acme.value == pytest.approx(86.0)


BAD_INPUTS = [
    # (kind, file content, expected message fragment)
    ("contacts", "account,name\nA,B\n", "line 1: header: unknown column 'account'"),
    (
        "contacts",
        "account_id,account_name,segment\nA,B,C\n",
        "line 1: header: missing required column 'contact_email'",
    ),
    (
        "contacts",
        CONTACTS.replace("locale\n", "locale,colour\n", 1),
        "line 1: header: unknown column 'colour'",
    ),
    (
        "contacts",
        "account_id,account_name,segment,contact_email\nA,,Retail,a@b.example\n",
        "line 2: account_name: is required",
    ),
    (
        "responses",
        RESPONSES_HEADER + GOOD_RESPONSE.replace(",yes,", ",maybe,"),
        "line 2: fcr: must be yes, no or na",
    ),
    (
        "responses",
        RESPONSES_HEADER + GOOD_RESPONSE.replace(",4,9,6,", ",6,9,6,"),
        "line 2: csat: must be a whole number from 1 to 5",
    ),
    (
        "responses",
        RESPONSES_HEADER + GOOD_RESPONSE.replace(",4,9,6,", ",4,11,6,"),
        "line 2: nps: must be a whole number from 0 to 10",
    ),
    (
        "responses",
        RESPONSES_HEADER + GOOD_RESPONSE.replace(",4,9,6,", ",4,9,0,"),
        "line 2: ces: must be a whole number from 1 to 7",
    ),
    (
        "responses",
        RESPONSES_HEADER + GOOD_RESPONSE.replace(",5,3,", ",3,5,"),
        "line 2: contacts_value_added: must not be more than contacts_total",
    ),
    (
        "responses",
        RESPONSES_HEADER + GOOD_RESPONSE.replace(",2.5,", ",-1,"),
        "line 2: quote_turnaround_days: must be a number of days from 0 to 365",
    ),
    (
        "responses",
        RESPONSES_HEADER + GOOD_RESPONSE.replace(",2.5,", ",abc,"),
        "line 2: quote_turnaround_days: must be a number of days",
    ),
    (
        "responses",
        RESPONSES_HEADER + GOOD_RESPONSE.replace("2026-Q3", "2026-Q5"),
        "line 2: period: '2026-Q5' is not a period like 2026-Q3 or 2026",
    ),
    (
        "responses",
        RESPONSES_HEADER + GOOD_RESPONSE.replace("2026-Q3", "26Q1"),
        "line 2: period: '26Q1' is not a period",
    ),
    (
        "responses",
        RESPONSES_HEADER + GOOD_RESPONSE.replace("ACME-001", "NOPE-9"),
        "line 2: account_id: no account 'NOPE-9'",
    ),
    (
        "kpis",
        "indicator,period,account_id,value\nfcr,2026-Q3,NOPE-9,80\n",
        "line 2: account_id: no account 'NOPE-9'",
    ),
    (
        "responses",
        RESPONSES_HEADER + GOOD_RESPONSE + GOOD_RESPONSE,
        "line 3: row: duplicate of line 2",
    ),
    ("contacts", "", "line 1: file: the file is empty"),
    ("contacts", CONTACTS.replace(",", ";"), "columns are separated by semicolons"),
    ("contacts", CONTACTS + 'X-1,"broken,Retail,a@b.example\n', "broken CSV quoting"),
    (
        "kpis",
        "indicator,period,value\nspeed,2026-Q3,5\n",
        "line 2: indicator: 'speed' is not one of",
    ),
    (
        "targets",
        "indicator,period,target\nfcr,2026-Q3,180\n",
        "line 2: target: must be from 0 to 100",
    ),
]


@pytest.mark.parametrize(
    ("kind", "content", "message"),
    BAD_INPUTS,
    ids=[f"{i}-{case[0]}" for i, case in enumerate(BAD_INPUTS)],
)
def test_bad_input_is_reported_and_nothing_written(
    contacts,
    runner,
    write_csv,
    db,  # type: ignore[no-untyped-def]
    kind,
    content,
    message,
) -> None:
    before = (count(db, Account), count(db, Contact), count(db, Response), count(db, KpiFigure))
    result = runner.invoke("import", kind, str(write_csv("bad.csv", content)), expect_exit=1)
    assert result.exit_code != 0
    assert message in result.output
    assert "nothing imported" in result.output
    assert "Traceback" not in result.output
    after = (count(db, Account), count(db, Contact), count(db, Response), count(db, KpiFigure))
    assert after == before


def test_latin1_file_names_the_line(runner, write_csv, db) -> None:  # type: ignore[no-untyped-def]
    content = (
        "account_id,account_name,segment,contact_email\n"
        "A-1,Plain,Retail,a@b.example\nA-2,Café,Retail,c@d.example\n"
    ).encode("latin-1")
    result = runner.invoke(
        "import", "contacts", str(write_csv("latin1.csv", content)), expect_exit=1
    )
    assert result.exit_code != 0
    assert "line 3: file: not valid UTF-8 (byte 0xe9); save the file as UTF-8" in result.output
    assert count(db, Account) == 0


def test_every_bad_row_is_reported_and_none_imported(contacts, runner, write_csv, db) -> None:  # type: ignore[no-untyped-def]
    rows = [GOOD_RESPONSE.replace("jo@", f"p{i}@") for i in range(5)]
    rows[1] = rows[1].replace(",yes,", ",maybe,")
    rows[3] = rows[3].replace(",4,9,6,", ",9,12,0,")
    result = runner.invoke(
        "import",
        "responses",
        str(write_csv("r.csv", RESPONSES_HEADER + "".join(rows))),
        expect_exit=1,
    )
    assert result.exit_code != 0
    assert "line 3: fcr:" in result.output
    assert "line 5: csat:" in result.output
    assert "line 5: nps:" in result.output
    assert "line 5: ces:" in result.output
    assert "4 problem(s)" in result.output
    assert count(db, Response) == 0


def test_file_over_the_limit_is_refused_before_reading(app, runner, write_csv, db) -> None:  # type: ignore[no-untyped-def]
    app.config["IMPORT_MAX_BYTES"] = 1000
    path = write_csv("big.csv", CONTACTS + "A-9,Big,Retail,x@y.example\n" * 100)
    result = runner.invoke("import", "contacts", str(path), expect_exit=1)
    assert result.exit_code != 0
    assert "the limit is" in result.output
    assert count(db, Account) == 0


@pytest.mark.slow
def test_large_file_is_streamed(runner, tmp_path, db) -> None:  # type: ignore[no-untyped-def]
    """A 50 MB contacts file imports, streamed in batches."""
    path = tmp_path / "big.csv"
    with open(path, "w", encoding="utf-8") as handle:
        handle.write("account_id,account_name,segment,contact_email,contact_name\n")
        i = 0
        while handle.tell() < 50 * 1024 * 1024:
            handle.write(
                f"A-{i // 50},Account number {i // 50} with a long name,Segment {i // 50 % 4},"
                f"person.{i}@account-{i // 50}.example.com,Person {i} {'x' * 40}\n"
            )
            i += 1
    assert os.path.getsize(path) >= 50 * 1024 * 1024
    result = runner.invoke("import", "contacts", str(path))
    assert result.exit_code == 0, result.output[-500:]
    assert count(db, Contact) == i
