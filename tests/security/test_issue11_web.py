"""Issue 11 (security round two), the web items 3, 4, 8, 10, 12, 13 and 15.

Item 1 (HTTPS end to end) and the parts of 11 and 15 that need a real server are in
``test_issue11_https.py``. Each test names its item; SECURITY.md lists them.
"""

from __future__ import annotations

import time
from typing import Any

import pytest
from flask import Flask
from redis import Redis
from sqlalchemy import select
from staff_support import sign_in, small_dataset
from support import csrf_token
from survey_support import GOOD_ANSWERS, open_form, setup_campaign, tokens_by_email

from cpi import create_app
from cpi.audit.models import AuditEvent
from cpi.auth.models import User
from cpi.auth.operations import MAX_FAILED_LOGINS
from cpi.auth.timeouts import SEEN_AT, SIGNED_IN_AT
from cpi.db import database

OWNER_A = "owner.a@example.test"
UNKNOWN = "Z" * 43


@pytest.fixture
def sent(app: Flask, runner: Any, write_csv: Any) -> dict[str, str]:
    assert runner.invoke("send", str(setup_campaign(runner, write_csv))).exit_code == 0
    return tokens_by_email(app)


@pytest.fixture
def staff(runner: Any, write_csv: Any) -> None:
    small_dataset(runner, write_csv)


def from_address(app: Flask, address: str, **headers: str) -> Any:
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    if headers:
        client.environ_base.update(
            {"HTTP_" + k.upper().replace("-", "_"): v for k, v in headers.items()}
        )
    return client


def login(client: Any, email: str, password: str) -> int:
    data = {"email": email, "password": password, "csrf_token": csrf_token(client)}
    return int(client.post("/login", data=data).status_code)


# --- 3: Redis down ------------------------------------------------------------------------


@pytest.mark.slow
def test_item3_redis_down_survey_links_and_sign_in_still_work(
    app: Flask, app_config: dict[str, Any], sent: dict[str, str], staff: None, redis_server: Any
) -> None:
    web = create_app({**app_config, "REDIS_URL": redis_server.url})
    web.config["SURVEY_TOKEN_RATE_LIMIT"] = "3 per minute"
    token = sent["bob@acme.test"]
    try:
        client = web.test_client()
        assert client.get("/healthz").get_json() == {"status": "ok", "redis": "ok"}
        assert client.get(f"/s/{token}").status_code == 200
        assert client.get(f"/s/{UNKNOWN}").status_code == 404
        # The limits are counted in this Redis while it is up.
        assert Redis.from_url(redis_server.url).dbsize() > 0

        redis_server.stop()
        health = client.get("/healthz")
        assert health.status_code == 200  # the database answers: still serving
        assert health.get_json() == {"status": "degraded", "redis": "unavailable"}
        assert client.get(f"/s/{token}").status_code == 200
        csrf = open_form(client, token)
        submitted = client.post(f"/s/{token}", data={**GOOD_ANSWERS, "csrf_token": csrf})
        assert submitted.status_code == 303
        staff_client = web.test_client()
        assert login(staff_client, "lead@example.test", "password-123") == 302
        assert staff_client.get("/").status_code == 200
        # Wrong links are still limited, counted in memory meanwhile.
        attacker = from_address(web, "192.0.2.66")
        statuses = [attacker.get(f"/s/{UNKNOWN[:-1]}{n}").status_code for n in range(5)]
        assert statuses == [404, 404, 404, 429, 429]
    finally:
        database(web).engine.dispose()


# --- 4: per client behind a trusted proxy; no lock-out of a known user ---------------------


def test_item4_forwarded_for_is_honoured_only_from_trusted_proxies(
    app_config: dict[str, Any], sent: dict[str, str]
) -> None:
    web = create_app({**app_config, "TRUSTED_PROXIES": "10.0.0.1, 10.1.0.0/16"})
    web.config["SURVEY_TOKEN_RATE_LIMIT"] = "5 per minute"
    try:
        # One person sending wrong links through the proxy is limited ...
        attacker = from_address(web, "10.0.0.1", X_Forwarded_For="198.51.100.1")
        statuses = [attacker.get(f"/s/{UNKNOWN[:-1]}{n}").status_code for n in range(7)]
        assert statuses == [404] * 5 + [429] * 2
        # ... and every other customer behind the same proxy is not.
        for n, proxy in enumerate(("10.0.0.1", "10.1.2.3")):
            customer = from_address(web, proxy, X_Forwarded_For=f"198.51.100.{10 + n}")
            assert customer.get(f"/s/{sent['bob@acme.test']}").status_code == 200
        # A client that is not a trusted proxy cannot pick its address with the header.
        forger = from_address(web, "203.0.113.9")
        codes = []
        for n in range(7):
            forger.environ_base["HTTP_X_FORWARDED_FOR"] = f"198.51.100.{100 + n}"
            codes.append(forger.get(f"/s/{UNKNOWN[:-1]}{n}").status_code)
        assert codes == [404] * 5 + [429] * 2
    finally:
        database(web).engine.dispose()


def test_item4_failed_sign_ins_cannot_lock_a_known_user_out(
    app: Flask, staff: None, db: Any
) -> None:
    # An attacker who knows the email tries wrong passwords from one address ...
    attacker = from_address(app, "198.51.100.1")
    codes = [login(attacker, OWNER_A, f"wrong-{i}") for i in range(7)]
    assert codes == [401] * 5 + [429] * 2
    assert login(attacker, OWNER_A, "password-123") == 429  # that client stays stopped
    # ... and from a few more: the owner, at their own address, still signs in.
    for n in range(2, 4):
        helper = from_address(app, f"198.51.100.{n}")
        assert [login(helper, OWNER_A, "bad-password") for _ in range(5)] == [401] * 5
    owner = from_address(app, "192.0.2.10")
    assert login(owner, OWNER_A, "password-123") == 302

    # The slower back-off across every client: a distributed run of failures locks
    # the account for a while (the same answer, even for the right password).
    for n in range(MAX_FAILED_LOGINS // 5):
        bot = from_address(app, f"203.0.113.{n + 1}")
        assert [login(bot, OWNER_A, "bad-password") for _ in range(5)] == [401] * 5
    late = from_address(app, "192.0.2.11")
    assert login(late, OWNER_A, "password-123") == 401
    db.rollback()
    assert db.scalar(select(User.locked_until).where(User.email == OWNER_A)) is not None


# --- 8: token guessing with CSRF-less POSTs -------------------------------------------------


def test_item8_csrf_less_posts_are_throttled_and_tell_nothing(
    app: Flask, sent: dict[str, str]
) -> None:
    app.config["SURVEY_TOKEN_RATE_LIMIT"] = "5 per minute"
    guesser = from_address(app, "198.51.100.8")
    valid = guesser.post(f"/s/{sent['bob@acme.test']}", data={"csat": "5"})
    unknown = guesser.post(f"/s/{UNKNOWN}", data={"csat": "5"})
    assert valid.status_code == unknown.status_code == 404
    assert valid.get_data() == unknown.get_data()
    codes = [guesser.post(f"/s/{UNKNOWN[:-1]}{n}", data={}).status_code for n in range(5)]
    assert codes == [404, 404, 404, 429, 429]
    # A stale CSRF token counts too (the page-expired answer is throttled like a GET).
    other = from_address(app, "198.51.100.9")
    csrf = open_form(app.test_client(), sent["ann@acme.test"])
    stale = [
        other.post(f"/s/{sent['ann@acme.test']}", data={"csrf_token": csrf}).status_code
        for _ in range(6)
    ]
    assert stale == [400] * 5 + [429]


# --- 10: JSON login bodies ----------------------------------------------------------------


def test_item10_json_login_bodies_count_against_the_email(app: Flask, staff: None) -> None:
    client = from_address(app, "198.51.100.10")
    codes = [login(client, OWNER_A, "wrong-form") for _ in range(3)]
    for _ in range(3):
        csrf = csrf_token(client)
        response = client.post(
            "/login",
            json={"email": OWNER_A, "password": "wrong-json", "csrf_token": csrf},
            headers={"X-CSRFToken": csrf},
        )
        codes.append(response.status_code)
    assert codes == [401] * 5 + [429]


# --- 12: the audit log keeps no typed secrets ----------------------------------------------


def test_item12_a_password_typed_as_the_email_never_reaches_the_audit_log(
    app: Flask, staff: None, db: Any
) -> None:
    secret = "Tr0ub4dor&3-typed-in-the-wrong-box"
    client = from_address(app, "198.51.100.12")
    assert login(client, secret, "whatever-password") == 401
    assert login(client, "  Owner.A@Example.test ", "wrong-password") == 401
    db.rollback()
    actors = list(db.scalars(select(AuditEvent.actor).where(AuditEvent.action == "login.failed")))
    assert actors[1] == OWNER_A  # a known user's address is kept
    assert secret.lower() not in actors[0].lower() and secret[:8].lower() not in actors[0]
    assert actors[0].startswith("(unknown email #")
    admin = app.test_client()
    sign_in(admin, "admin@example.test", "password-123")
    page = admin.get("/admin/audit").get_data(as_text=True)
    assert secret.lower() not in page.lower() and "(unknown email #" in page


# --- 13: no-store, HSTS, session lifetime and idle timeout ---------------------------------


def test_item13_no_store_on_personal_pages_and_hsts_over_https(
    app: Flask, staff: None, sent: dict[str, str]
) -> None:
    client = app.test_client()
    sign_in(client, "admin@example.test", "password-123")
    for url in (
        "/",
        "/accounts/ACC-1",
        "/exports/scorecards.csv?period=2026-Q3",
        "/api/scorecard?period=2026-Q3",
        f"/s/{sent['bob@acme.test']}",
        f"/u/{sent['bob@acme.test']}",
    ):
        response = client.get(url)
        assert response.status_code == 200, url
        assert response.headers["Cache-Control"] == "no-store", url
        assert "Strict-Transport-Security" not in response.headers, url  # plain HTTP
    static = client.get("/static/css/app.css")
    assert "no-store" not in static.headers.get("Cache-Control", "")
    static.close()
    secure = app.test_client().get("/login", base_url="https://survey.test")
    assert secure.headers["Strict-Transport-Security"].startswith("max-age=31536000")
    assert secure.headers["Cache-Control"] == "no-store"


def test_item13_sessions_end_after_the_idle_time_and_the_absolute_lifetime(
    app: Flask, staff: None
) -> None:
    assert app.config["SESSION_MAX_HOURS"] == 8 and app.config["SESSION_IDLE_MINUTES"] == 60
    client = app.test_client()
    sign_in(client, "lead@example.test", "password-123")
    now = int(time.time())
    with client.session_transaction() as session:
        assert now - 5 <= session[SIGNED_IN_AT] <= now + 1
        session[SEEN_AT] = now - 59 * 60  # 59 minutes idle: still signed in
    assert client.get("/").status_code == 200
    with client.session_transaction() as session:
        assert session[SEEN_AT] >= now  # the request moved the last-seen time
        session[SEEN_AT] = now - 61 * 60  # 61 minutes idle: signed out
    response = client.get("/")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")

    # Busy all day: the session still ends 8 hours after sign-in.
    sign_in(client, "lead@example.test", "password-123")
    with client.session_transaction() as session:
        session[SIGNED_IN_AT] = now - 8 * 3600 - 5
        session[SEEN_AT] = now
    assert client.get("/").status_code == 302

    # Configurable (CPI_SESSION_IDLE_MINUTES, CPI_SESSION_MAX_HOURS).
    app.config["SESSION_IDLE_MINUTES"] = 5
    sign_in(client, "lead@example.test", "password-123")
    with client.session_transaction() as session:
        session[SEEN_AT] = now - 6 * 60
    assert client.get("/").status_code == 302


# --- 15: closed tokens, Host-built redirects, chunked and many-field bodies ----------------


def test_item15_closed_campaign_tokens_get_the_unknown_token_page_everywhere(
    app: Flask, runner: Any, write_csv: Any
) -> None:
    campaign_id = setup_campaign(runner, write_csv)
    assert runner.invoke("send", str(campaign_id)).exit_code == 0
    token = tokens_by_email(app)["bob@acme.test"]
    client = app.test_client()
    assert client.get(f"/s/{token}/thanks").status_code == 200
    assert client.get(f"/u/{token}").status_code == 200
    assert runner.invoke("campaign", "close", str(campaign_id)).exit_code == 0
    for path in ("/s/{}/thanks", "/u/{}"):
        closed = client.get(path.format(token))
        unknown = client.get(path.format(UNKNOWN))
        assert closed.status_code == unknown.status_code == 404, path
        assert closed.get_data() == unknown.get_data(), path
    assert client.post(f"/u/{token}").status_code == 404


def test_item15_redirects_never_name_the_host_from_the_request(
    app: Flask, sent: dict[str, str]
) -> None:
    client = app.test_client()
    token = sent["bob@acme.test"]
    for path, expected in (
        (f"/s//{token}", f"/s/{token}"),
        ("/exports//scorecards.csv?period=2026-Q3", "/exports/scorecards.csv?period=2026-Q3"),
    ):
        response = client.get(path, headers={"Host": "evil.example"})
        assert response.status_code in (301, 308), path
        assert response.headers["Location"] == expected, path


def test_item15_a_post_with_sixty_thousand_fields_is_refused(
    app: Flask, sent: dict[str, str]
) -> None:
    many = "&".join(["a="] * 60_000)  # 180 kB: under every size limit
    client = app.test_client()
    token = sent["bob@acme.test"]
    csrf = open_form(client, token)
    for url in (f"/s/{token}", "/login"):
        response = client.post(
            url, data=f"csrf_token={csrf}&{many}", content_type="application/x-www-form-urlencoded"
        )
        assert response.status_code == 413, url
    # A normal form is far below the cap.
    ok = client.post(f"/s/{token}", data={**GOOD_ANSWERS, "csrf_token": csrf})
    assert ok.status_code == 303
