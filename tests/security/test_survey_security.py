"""Issue 7, customer tokens, the survey form and email: items 1-7, 9, 10, 25-27, 37.

Items 25, 26 and 27 (mail headers, SMTP faults, two senders) are tested against a
real SMTP server in ``tests/test_mail.py``; they are named here for the index.
"""

from __future__ import annotations

import hashlib
import re
import threading
from typing import Any

import pytest
from redis import Redis
from sqlalchemy import func, inspect, select, text
from survey_support import (
    GOOD_ANSWERS,
    open_form,
    outbox_messages,
    parts,
    setup_campaign,
    tokens_by_email,
)

from cpi import create_app
from cpi.accounts.models import Contact
from cpi.db import database
from cpi.surveys.models import Invitation, Response
from cpi.surveys.tokens import derive_token

ITEMS_TESTED_ELSEWHERE = {
    25: "tests/test_mail.py::test_names_and_subjects_never_inject_headers",
    26: "tests/test_mail.py::test_temporary_failure_retries_with_backoff, "
    "test_permanent_failure_marks_the_contact_bounced, "
    "test_smtp_down_loses_nothing_and_deliver_later_sends_each_once",
    27: "tests/test_mail.py::test_two_senders_at_once_deliver_each_message_once",
}


def responses(db: Any) -> int:
    db.rollback()
    return int(db.scalar(select(func.count()).select_from(Response)))


@pytest.fixture
def sent(app: Any, runner: Any, write_csv: Any) -> dict[str, str]:
    runner.invoke("send", str(setup_campaign(runner, write_csv)))
    return tokens_by_email(app)


def test_item1_tokens_are_long_random_and_a_database_copy_holds_none(
    app: Any, sent: dict[str, str], db: Any
) -> None:
    tokens = list(sent.values())
    assert len(set(tokens)) == len(tokens) == 3
    for token in tokens:
        assert re.fullmatch(r"[A-Za-z0-9_-]{43}", token)  # 256 bits, URL-safe
    db.rollback()
    hashes = set(db.scalars(select(Invitation.token_hash)))
    assert hashes == {hashlib.sha256(t.encode()).hexdigest() for t in tokens}
    # Every text in every table: no token anywhere (outbox bodies are dropped once sent).
    with database(app).engine.connect() as connection:
        for table in inspect(connection).get_table_names():
            for row in connection.execute(text(f"SELECT * FROM {table}")):  # noqa: S608
                dump = " ".join(str(value) for value in row)
                assert not any(token in dump for token in tokens), table
    # The salt alone gives nothing: the token needs the app's secret key too.
    salts = list(db.scalars(select(Invitation.token_salt)))
    assert all(derive_token("another-secret", salt) not in tokens for salt in salts)
    assert {derive_token(app.config["SECRET_KEY"], salt) for salt in salts} == set(tokens)


def test_item2_wrong_tokens_are_rate_limited_per_client(app: Any, sent: dict[str, str]) -> None:
    app.config["SURVEY_TOKEN_RATE_LIMIT"] = "5 per minute"
    attacker = app.test_client()
    statuses = [attacker.get(f"/s/{'x' * 43}{n}").status_code for n in range(8)]
    assert statuses[:5] == [404] * 5 and statuses[5:] == [429] * 3
    other = app.test_client()
    other.environ_base["REMOTE_ADDR"] = "192.0.2.7"
    assert other.get(f"/s/{sent['bob@acme.test']}").status_code == 200
    # valid links do not use up the allowance
    for _ in range(10):
        assert other.get(f"/s/{sent['bob@acme.test']}").status_code == 200


def test_item2_the_limit_tells_its_state_only_to_those_it_counts(
    app: Any, sent: dict[str, str]
) -> None:
    """Issue 13 item 5: a valid link reads no count window (the hot path of a submit;
    with Redis a round trip each); a counted wrong link and the 429 say where the client
    stands, and the 429 when to come back."""
    app.config["SURVEY_TOKEN_RATE_LIMIT"] = "2 per minute;10 per hour"
    customer = app.test_client()
    customer.environ_base["REMOTE_ADDR"] = "192.0.2.8"
    token = sent["bob@acme.test"]
    csrf = open_form(customer, token)
    for response in (
        customer.get(f"/s/{token}"),
        customer.post(f"/s/{token}", data={**GOOD_ANSWERS, "csrf_token": csrf}),
    ):
        assert response.status_code in (200, 303)
        assert not [name for name, _ in response.headers if name.startswith("X-RateLimit")]
    attacker = app.test_client()
    attacker.environ_base["REMOTE_ADDR"] = "192.0.2.9"
    first, second, refused = (attacker.get(f"/s/{'z' * 43}{n}") for n in range(3))
    assert (first.status_code, second.status_code, refused.status_code) == (404, 404, 429)
    assert first.headers["X-RateLimit-Limit"] == "2"  # the shortest window
    assert first.headers["X-RateLimit-Remaining"] == "1"
    assert second.headers["X-RateLimit-Remaining"] == "0"
    assert refused.headers["X-RateLimit-Remaining"] == "0"
    assert 0 < int(refused.headers["Retry-After"]) <= 61
    assert int(refused.headers["X-RateLimit-Reset"]) > 0
    # every other header of the app's pages is still there
    assert refused.headers["Content-Security-Policy"] and refused.headers["X-Request-ID"]


def test_item2_the_limiter_uses_redis_when_configured(
    app_config: dict[str, Any], redis_server: Any
) -> None:
    redis_app = create_app({
        **app_config, "REDIS_URL": redis_server.url, "SURVEY_TOKEN_RATE_LIMIT": "3 per minute",
    })  # fmt: skip
    try:
        assert redis_app.config["RATELIMIT_STORAGE_URI"].startswith("redis://")
        client = redis_app.test_client()
        client.environ_base["REMOTE_ADDR"] = "198.51.100.9"
        statuses = [client.get(f"/s/{'y' * 43}").status_code for _ in range(5)]
        assert statuses == [404, 404, 404, 429, 429]
        with Redis.from_url(redis_server.url) as redis:
            assert redis.dbsize() > 0  # the counts are kept in Redis
    finally:
        database(redis_app).engine.dispose()


WEIRD_TOKENS = [
    "A" * 10_000,
    "abc'\"<>def" * 3,
    "abcdefghijklmnopqrstuv%00wxyz",
    "../../etc/passwd",
    "..%2F..%2Fetc%2Fpasswd",
    "1' OR '1'='1' --abcdefghijklmnop",
    "tökén-ünïcødé-😀-ÄÖÜ-abcdefghij",
    "%ff%fe%fd-invalid-utf8-abcdefghij",
    "AAAAAAAAAAAAAAAAAAAAA",  # truncated-looking
]


def test_item3_odd_tokens_all_get_the_same_not_found_page(app: Any, sent: dict[str, str]) -> None:
    client = app.test_client()
    app.config["SURVEY_TOKEN_RATE_LIMIT"] = "1000 per minute"
    reference = client.get("/s/" + "Z" * 43)
    assert reference.status_code == 404
    truncated = sent["bob@acme.test"][:-1]
    for token in [*WEIRD_TOKENS, truncated]:
        for path in (f"/s/{token}", f"/u/{token}"):
            response = client.get(path)
            assert response.status_code == 404, path
            assert response.get_data() == reference.get_data(), path


def test_item4_empty_closed_opted_out_and_other_campaign_tokens_record_nothing(
    app: Any, runner: Any, sent: dict[str, str], client: Any, db: Any
) -> None:
    csrf = open_form(client, sent["bob@acme.test"])
    answers = {**GOOD_ANSWERS, "csrf_token": csrf}
    assert client.post("/s/", data=answers).status_code == 404
    assert client.get("/s/").status_code == 404

    client.post(f"/u/{sent['ann@acme.test']}")  # Ann opts out
    assert client.post(f"/s/{sent['ann@acme.test']}", data=answers).status_code == 404

    # A second campaign for another quarter: its tokens answer only for that quarter.
    later = runner.invoke("campaign", "create", "--name", "Q4", "--period", "2026-Q4")
    runner.invoke("send", later.stdout.split()[0])
    runner.invoke("campaign", "close", "1")
    assert client.post(f"/s/{sent['bob@acme.test']}", data=answers).status_code == 404
    assert client.post(f"/s/{sent['cara@globex.test']}", data=answers).status_code == 404
    assert responses(db) == 0

    q4_token = next(
        token_of
        for addr, token_of in _latest_tokens(app).items()
        if addr == "bob@acme.test" and token_of != sent["bob@acme.test"]
    )
    csrf = open_form(client, q4_token)
    client.post(f"/s/{q4_token}", data={**GOOD_ANSWERS, "csrf_token": csrf})
    db.rollback()
    assert [r.period for r in db.scalars(select(Response))] == ["2026-Q4"]


def _latest_tokens(app: Any) -> dict[str, str]:
    from survey_support import token_of

    found: dict[str, str] = {}
    for message in outbox_messages(app):
        found[message["To"].addresses[0].addr_spec] = token_of(message)
    return found


def test_item5_fifty_identical_posts_at_once_make_one_response(
    app: Any, sent: dict[str, str], client: Any, db: Any
) -> None:
    token = sent["bob@acme.test"]
    csrf = open_form(client, token)
    cookie = client.get_cookie("session")
    assert cookie is not None
    barrier = threading.Barrier(50)
    statuses: list[int] = []

    def submit() -> None:
        twin = app.test_client()
        twin.set_cookie("session", cookie.value, domain=cookie.domain)
        barrier.wait()
        statuses.append(
            twin.post(f"/s/{token}", data={**GOOD_ANSWERS, "csrf_token": csrf}).status_code
        )

    threads = [threading.Thread(target=submit) for _ in range(50)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert statuses == [303] * 50
    assert responses(db) == 1


def test_item6_bad_fields_get_400_naming_the_field_and_record_nothing(
    app: Any, sent: dict[str, str], client: Any, db: Any
) -> None:
    token = sent["bob@acme.test"]
    csrf = open_form(client, token)
    cases: list[tuple[Any, str]] = [
        ({"nps": "11"}, "nps"),  # out of range
        ({"ces": "seven"}, "ces"),  # wrong type
        ({"csat": ["4", "5"]}, "csat"),  # repeated
        ({"csat": "4", "is_admin": "1"}, "is_admin"),  # extra
        ({"csrf_token": csrf}, "at least one question"),  # missing answers
    ]
    for data, named in cases:
        response = client.post(f"/s/{token}", data={"csrf_token": csrf, **data})
        assert response.status_code == 400, data
        assert named in response.get_data(as_text=True), data
    # no CSRF token: the wrong-link page, as for an unknown token (issue 11 item 8)
    assert client.post(f"/s/{token}", data={"csat": "4"}).status_code == 404
    assert responses(db) == 0


def test_item7_a_body_over_one_megabyte_is_refused(
    app: Any, sent: dict[str, str], client: Any, db: Any
) -> None:
    token = sent["bob@acme.test"]
    csrf = open_form(client, token)
    response = client.post(
        f"/s/{token}", data={"comment": "x" * (1024 * 1024 + 10), "csrf_token": csrf}
    )
    assert response.status_code == 413
    assert responses(db) == 0


@pytest.mark.parametrize(
    ("comment", "stored"),
    [
        ("Right-to-left: \u202eevil\u202c שלום مرحبا", True),
        ("Emoji 😀👍🏽 and ñ, ő, ж", True),
        ("NUL \x00 byte", False),
    ],
)
def test_item9_odd_text_is_stored_faithfully_or_refused(
    app: Any, sent: dict[str, str], client: Any, db: Any, comment: str, stored: bool
) -> None:
    token = sent["bob@acme.test"]
    csrf = open_form(client, token)
    response = client.post(f"/s/{token}", data={"comment": comment, "csrf_token": csrf})
    db.rollback()
    if stored:
        assert response.status_code == 303
        assert db.scalar(select(Response.comment)) == comment
    else:
        assert response.status_code == 400
        assert "characters we cannot store" in response.get_data(as_text=True)
        assert responses(db) == 0


def test_item9_invalid_utf8_in_the_body_never_crashes(
    app: Any, sent: dict[str, str], client: Any, db: Any
) -> None:
    token = sent["bob@acme.test"]
    csrf = open_form(client, token)
    body = b"comment=bad+%ff%fe+bytes&csrf_token=" + csrf.encode()
    response = client.post(
        f"/s/{token}", data=body, content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code in (303, 400)
    db.rollback()
    stored = db.scalar(select(Response.comment))
    assert stored is None or stored.startswith("bad ")


def test_item8_html_in_a_comment_is_escaped_on_the_page(
    app: Any, sent: dict[str, str], client: Any
) -> None:
    token = sent["bob@acme.test"]
    csrf = open_form(client, token)
    script = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    client.post(f"/s/{token}", data={"comment": script, "csrf_token": csrf})
    page = client.get(f"/s/{token}").get_data(as_text=True)
    assert script not in page and "&lt;script&gt;" in page


def test_item10_following_every_link_in_the_email_records_nothing(
    app: Any, sent: dict[str, str], db: Any
) -> None:
    scanner = app.test_client()
    for message in outbox_messages(app):
        text_part, html = parts(message)
        links = set(re.findall(r'href="([^"]+)"', html)) | set(
            re.findall(r"https?://\S+", text_part)
        )
        links.add(str(message["List-Unsubscribe"]).strip("<> "))
        for link in links:
            scanner.get(link.replace("http://survey.test", "").replace("&amp;", "&"))
            scanner.head(link.replace("http://survey.test", ""))
    assert responses(db) == 0
    db.rollback()
    assert db.scalar(select(func.count()).where(Contact.opted_out_at.is_not(None))) == 0
    assert db.scalar(select(func.count()).where(Invitation.answered_at.is_not(None))) == 0


def test_item37_an_opt_out_holds_for_reminders_and_every_later_campaign(
    app: Any, runner: Any, sent: dict[str, str], client: Any
) -> None:
    client.post(f"/u/{sent['bob@acme.test']}")
    runner.invoke("remind", "1", "--after-days", "0")
    for quarter in ("2026-Q4", "2027-Q1"):
        later = runner.invoke("campaign", "create", "--name", quarter, "--period", quarter)
        runner.invoke("send", later.stdout.split()[0])
        runner.invoke("remind", later.stdout.split()[0], "--after-days", "0")
    to_bob = [m for m in outbox_messages(app) if m["To"].addresses[0].addr_spec == "bob@acme.test"]
    assert len(to_bob) == 1  # the first invitation only
    to_ann = [m for m in outbox_messages(app) if m["To"].addresses[0].addr_spec == "ann@acme.test"]
    assert len(to_ann) == 6  # 3 invitations, 3 reminders: she did not opt out


def test_flask_limiter_hooks_skip_the_self_limited_survey_pages_only(app: Any) -> None:
    """Issue 13 item 5: the survey pages limit themselves (cpi/surveys/throttle.py);
    Flask-Limiter's app-wide hooks skip them, but not the staff pages, not while the
    storage is down (its hook notices it coming back), and not where app-wide limits are
    configured."""
    from flask import Flask

    from cpi.extensions import _limits_itself, _skip_app_wide_hooks, limiter

    with app.test_request_context(f"/s/{'x' * 43}", method="POST"):
        assert _limits_itself()
        limiter._storage_dead = True
        try:
            assert not _limits_itself()
        finally:
            limiter._storage_dead = False
    with app.test_request_context("/login", method="POST"):
        assert not _limits_itself()
    configured = Flask("configured")
    configured.config["RATELIMIT_DEFAULT"] = "100 per minute"
    configured.before_request(limiter._check_request_limit)
    _skip_app_wide_hooks(configured)
    assert configured.before_request_funcs[None] == [limiter._check_request_limit]
