"""The rules several features share (cpi/rules): one answer whichever door the input
comes through: survey form, import, admin page, mail header."""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy.orm import Session
from werkzeug.datastructures import MultiDict

from cpi.admin.operations import AdminError, set_target
from cpi.auth.operations import UserError, create_user
from cpi.imports import fields
from cpi.imports.rows import Context, RowErrors, _duplicate, row_key
from cpi.mail.compose import InvalidAddress, checked_address, parse_sender
from cpi.rules.addresses import InvalidEmail, check_email
from cpi.rules.comments import COMMENT_MAX_CHARS, comment_problem
from cpi.surveys.forms import parse_submission
from cpi.surveys.responses import QuestionInfo

GOOD = ["ann@acme.test", " Ann.Lee+cpi@Example.COM ", "o'brien@x.ie", "x@münchen.de"]
BAD = ["a@b", "a..b@x.de", "a b@x.de", '"q"@x.de', "a@[1.2.3.4]", "a\r\n@x.de", "a@x.local"]


@pytest.mark.parametrize("address", GOOD)
def test_good_addresses_pass_every_door_alike(address: str) -> None:
    expected = check_email(address)
    assert expected == expected.strip().lower() and expected.isascii()
    assert fields.email("contact_email", address) == expected
    assert checked_address(address) == expected


@pytest.mark.parametrize("address", BAD)
def test_bad_addresses_are_refused_by_every_door_with_one_message(address: str) -> None:
    with pytest.raises(InvalidEmail) as rule:
        check_email(address)
    with pytest.raises(fields.FieldError) as imported:
        fields.email("contact_email", address)
    assert imported.value.reason == str(rule.value)
    with pytest.raises(InvalidAddress):
        checked_address(address)


def test_a_new_user_gets_the_same_email_message(db: Session) -> None:
    with pytest.raises(UserError) as error:
        create_user(db, email="a..b@x.de", role="admin", password="long enough pass 1")
    assert str(error.value) == "email: 'a..b@x.de' is not an email address"


def test_the_sender_alone_may_be_a_local_host() -> None:
    assert parse_sender("Surveys <surveys@localhost>") == ("Surveys", "surveys@localhost")
    with pytest.raises(InvalidEmail):
        check_email("surveys@localhost")


def _comment_form(text: str) -> tuple[object, dict[str, str]]:
    question = QuestionInfo("comment", "text", "Comment", False, None, None)
    return parse_submission(MultiDict({"comment": text}), [question])


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("x" * COMMENT_MAX_CHARS, None),
        ("line one\n\ttwo", None),
        ("x" * (COMMENT_MAX_CHARS + 1), "too_long"),
        ("bell\x07", "characters"),
        ("nul\x00", "characters"),
        ("lone \ud800 surrogate", "characters"),
    ],
)
def test_one_comment_rule_for_form_and_import(app: Flask, text: str, problem: str | None) -> None:
    assert comment_problem(text) == problem
    with app.test_request_context():
        _, errors = _comment_form(text)
    assert ("comment" in errors) == (problem is not None)
    if problem is None:
        assert fields.comment("comment", text) == text
    else:
        with pytest.raises(fields.FieldError):
            fields.comment("comment", text)


def test_target_rules_and_messages_are_the_admin_pages_and_the_imports(db: Session) -> None:
    from cpi.imports.rows import parse_targets

    context = Context(accounts={}, segments=set())
    row = {"indicator": "ces", "period": "2026-Q3", "segment": "", "target": "9", "tolerance": ""}
    with pytest.raises(RowErrors) as imported:
        parse_targets(row, 2, context)
    with pytest.raises(AdminError) as admin:
        set_target(db, indicator="ces", period="2026-Q3", segment=None, target=9, tolerance=None)
    assert imported.value.errors == [str(admin.value)]
    row = {**row, "target": "4", "tolerance": "-1"}
    with pytest.raises(RowErrors) as imported:
        parse_targets(row, 2, context)
    with pytest.raises(AdminError) as admin:
        set_target(db, indicator="ces", period="2026-Q3", segment=None, target=4, tolerance=-1)
    assert imported.value.errors == [str(admin.value)]


def test_duplicate_rows_are_found_by_their_keys_not_by_hash() -> None:
    # hash(-1) == hash(-2) in CPython: a hash-keyed check called these duplicates.
    assert hash(("response", -1, "a@x.de")) == hash(("response", -2, "a@x.de"))
    context = Context(accounts={}, segments=set())
    _duplicate(context, ("response", -1, "a@x.de"), 2)
    _duplicate(context, ("response", -2, "a@x.de"), 3)
    _duplicate(context, ("target", "csat", "2026", None), 4)
    _duplicate(context, ("target", "csat", "2026", "None"), 5)
    with pytest.raises(RowErrors, match="duplicate of line 2"):
        _duplicate(context, ("response", -1, "a@x.de"), 6)
    assert row_key(("a\x00b",)) != row_key(("a", "b"))
