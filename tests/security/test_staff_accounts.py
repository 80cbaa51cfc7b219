"""Issue 11 items 16-18 (ASVS 5.0 level 2): staff change their own password (checked
against the shipped common-password list), sensitive admin changes need a recent
re-authentication, an optional TOTP second factor (required for admins with
CPI_REQUIRE_MFA=1) with real codes from pyotp, denied access logged as a security
event, and the secret key rotated with fallbacks."""

from __future__ import annotations

import logging
import re
import time
from typing import Any

import pyotp
import pytest
from sqlalchemy import select
from staff_support import OWNER_A, OWNER_B, small_dataset
from support import csrf_token

from cpi import create_app
from cpi.auth.account import AUTH_AT
from cpi.auth.models import User
from cpi.auth.passwords import verify_password
from cpi.db import database

PASSWORD = "password-123"
ADMIN = "admin@example.test"


@pytest.fixture
def staff(runner: Any, write_csv: Any) -> None:
    small_dataset(runner, write_csv)


def signed_in(app: Any, email: str, password: str = PASSWORD) -> Any:
    client = app.test_client()
    response = client.post(
        "/login",
        data={"email": email, "password": password, "csrf_token": csrf_token(client)},
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    return client


def post(client: Any, url: str, page: str, **data: str) -> Any:
    return client.post(url, data={**data, "csrf_token": csrf_token(client, page)})


def user(db: Any, email: str) -> User:
    db.rollback()
    return db.scalars(select(User).where(User.email == email)).one()


# --- 16: own password, common passwords, re-authentication ----------------------------


def test_item16_staff_change_their_own_password(app: Any, staff: None, db: Any) -> None:
    client = signed_in(app, OWNER_A)
    other = signed_in(app, OWNER_A)  # another browser
    page = "/account/password"
    wrong = post(client, page, page, current_password="not-it-at-all",
                 new_password="a-fresh-long-one", confirm="a-fresh-long-one")  # fmt: skip
    assert wrong.status_code == 400 and "current_password" in wrong.get_data(as_text=True)
    common = post(client, page, page, current_password=PASSWORD,
                  new_password="Password1234", confirm="Password1234")  # fmt: skip
    assert common.status_code == 400 and "too common" in common.get_data(as_text=True)
    short = post(client, page, page, current_password=PASSWORD,
                 new_password="short", confirm="short")  # fmt: skip
    assert short.status_code == 400 and "at least 10" in short.get_data(as_text=True)
    differ = post(client, page, page, current_password=PASSWORD,
                  new_password="a-fresh-long-one", confirm="a-fresh-long-two")  # fmt: skip
    assert differ.status_code == 400
    assert verify_password(user(db, OWNER_A).password_hash, PASSWORD)

    done = post(client, page, page, current_password=PASSWORD,
                new_password="a-fresh-long-one", confirm="a-fresh-long-one")  # fmt: skip
    assert done.status_code == 302
    assert verify_password(user(db, OWNER_A).password_hash, "a-fresh-long-one")
    assert client.get("/accounts").status_code == 200  # this session goes on
    assert other.get("/accounts").status_code == 302  # the other one ended
    signed_in(app, OWNER_A, "a-fresh-long-one")


def test_item16_admins_cannot_set_common_passwords_either(
    app: Any, staff: None, runner: Any
) -> None:
    admin = signed_in(app, ADMIN)
    response = post(admin, "/admin/users", "/admin/users", email="new@example.test",
                    role="account_manager", password="iloveyou12")  # fmt: skip
    assert response.status_code == 400 and "too common" in response.get_data(as_text=True)
    result = runner.invoke("user", "create", "--email", "x@example.test", "--role", "admin",
                           env={"CPI_PASSWORD": "qwertyuiop"}, expect_exit=1)  # fmt: skip
    assert result.exit_code == 1 and "too common" in result.output


def test_item16_changing_roles_or_passwords_needs_recent_reauthentication(
    app: Any, staff: None, db: Any
) -> None:
    app.config["REAUTH_MINUTES"] = 15
    admin = signed_in(app, ADMIN)
    owner = user(db, OWNER_B)
    form = {"role": "admin", "active": "1", "password": ""}
    with admin.session_transaction() as session:
        session[AUTH_AT] -= 15 * 60 + 5  # the password was given 15 minutes ago
    response = post(admin, f"/admin/users/{owner.id}", "/admin/users", **form)
    assert response.status_code == 302 and "/reauth" in response.headers["Location"]
    assert user(db, OWNER_B).role == "account_manager"  # nothing changed
    created = post(admin, "/admin/users", "/admin/users", email="new@example.test",
                   role="admin", password="a-fresh-long-one")  # fmt: skip
    assert "/reauth" in created.headers["Location"]
    wrong = post(admin, "/reauth?next=/admin/users", "/reauth", password="wrong-password")
    assert wrong.status_code == 401
    confirmed = post(admin, "/reauth?next=/admin/users", "/reauth", password=PASSWORD)
    assert confirmed.status_code == 302 and confirmed.headers["Location"] == "/admin/users"
    response = post(admin, f"/admin/users/{owner.id}", "/admin/users", **form)
    assert response.status_code == 302 and "/reauth" not in response.headers["Location"]
    assert user(db, OWNER_B).role == "admin"


def test_item16_the_common_password_list_is_package_data() -> None:
    from importlib import resources

    text = resources.files("cpi.auth").joinpath("common_passwords.txt").read_text()
    words = [line for line in text.splitlines() if line and not line.startswith("# ")]
    assert len(words) == 10_000 and words[:2] == ["123456", "123456789"]


# --- 17: TOTP second factor -------------------------------------------------------------


def steady_clock() -> None:
    """Wait until at least 10 s remain in the current 30-second TOTP step, so that the
    codes a test computes belong to the steps it means."""
    while 30 - time.time() % 30 < 10:
        time.sleep(0.5)


def enrol(app: Any, email: str) -> tuple[Any, str]:
    client = signed_in(app, email)
    page = client.get("/account/mfa").get_data(as_text=True)
    secret = re.search(r'id="totp-secret">([A-Z2-7]+)<', page)
    uri = re.search(r'id="totp-uri">([^<]+)<', page)
    assert secret and uri, page[:500]
    assert pyotp.parse_uri(uri.group(1).replace("&amp;", "&")).secret == secret.group(1)
    wrong = post(client, "/account/mfa", "/account/mfa", password=PASSWORD, code="000000")
    assert wrong.status_code == 400
    totp = pyotp.TOTP(secret.group(1))
    steady_clock()
    # enrolled with the code of the step before (allowed for clock drift)
    earlier = totp.at(time.time() - 30)
    done = post(client, "/account/mfa", "/account/mfa", password=PASSWORD, code=earlier)
    assert done.status_code == 302, done.get_data(as_text=True)[:500]
    return client, secret.group(1)


def sign_in_with_code(app: Any, email: str, code: str) -> tuple[Any, Any]:
    client = app.test_client()
    first = client.post(
        "/login", data={"email": email, "password": PASSWORD, "csrf_token": csrf_token(client)}
    )
    assert first.status_code == 302 and first.headers["Location"] == "/login/code"
    assert client.get("/accounts").status_code == 302  # not signed in yet
    second = post(client, "/login/code", "/login/code", code=code)
    return client, second


def test_item17_totp_second_factor_with_real_codes(app: Any, staff: None, db: Any) -> None:
    _, secret = enrol(app, OWNER_A)
    assert user(db, OWNER_A).totp_secret == secret
    totp = pyotp.TOTP(secret)
    # a wrong code: not signed in, and it counts as a failure
    client, response = sign_in_with_code(app, OWNER_A, "123456" if totp.now() != "123456" else "1")
    assert response.status_code == 401
    assert client.get("/accounts").status_code == 302
    assert user(db, OWNER_A).failed_logins == 1
    # the right code
    current = totp.now()
    client, response = sign_in_with_code(app, OWNER_A, current)
    assert response.status_code == 302
    assert client.get("/accounts").status_code == 200
    assert user(db, OWNER_A).failed_logins == 0
    # the same code again (replay) is refused
    _, replay = sign_in_with_code(app, OWNER_A, current)
    assert replay.status_code == 401
    # turning it off needs the password and a fresh code
    later = totp.at(time.time() + 30)
    off = post(client, "/account/mfa", "/account/mfa", password=PASSWORD, code=later)
    assert off.status_code == 302
    assert user(db, OWNER_A).totp_secret is None


def test_item17_admins_must_enrol_when_mfa_is_required(
    app: Any, app_config: dict[str, Any], staff: None
) -> None:
    strict = create_app({**app_config, "REQUIRE_MFA": "1"})
    try:
        admin = signed_in(strict, ADMIN)
        for url in ("/admin/users", "/", "/api/scorecard?period=2026-Q3"):
            response = admin.get(url)
            assert response.status_code == 302, url
            assert response.headers["Location"] == "/account/mfa"
        owner = signed_in(strict, OWNER_A)  # not an admin: not required
        assert owner.get("/accounts").status_code == 200
        admin, secret = enrol(strict, ADMIN)
        assert admin.get("/admin/users").status_code == 200  # enrolled: free to go on
        client, response = sign_in_with_code(strict, ADMIN, pyotp.TOTP(secret).now())
        assert response.status_code == 302
        assert client.get("/admin/users").status_code == 200
        # and cannot turn it off
        off = post(client, "/account/mfa", "/account/mfa", password=PASSWORD,
                   code=pyotp.TOTP(secret).at(time.time() + 30))  # fmt: skip
        assert off.status_code == 400
    finally:
        database(strict).engine.dispose()


# --- 18: denied access is a security event; key rotation --------------------------------


def test_item18_denied_access_is_logged_as_a_security_event(
    app: Any, staff: None, caplog: Any
) -> None:
    owner = signed_in(app, OWNER_A)
    lead = signed_in(app, "lead@example.test")
    caplog.set_level(logging.INFO, logger="cpi.security")
    assert owner.get("/accounts/ACC-1?period=2026-Q3").status_code == 200
    assert not [r for r in caplog.records if r.name == "cpi.security"]
    denied = [
        (owner, "/accounts/ACC-2?period=2026-Q3", 404),
        (owner, "/api/scorecard?period=2026-Q3&account=ACC-2", 404),
        (owner, "/exports/scorecards.csv?period=2026-Q3&account=ACC-2", 404),
        (owner, f"/owners/{OWNER_B}?period=2026-Q3", 404),
        (owner, "/segments/Retail?period=2026-Q3", 404),
        (lead, "/admin/users", 403),
    ]
    for client, url, status in denied:
        caplog.clear()
        assert client.get(url).status_code == status, url
        events = [r for r in caplog.records if r.name == "cpi.security"]
        assert len(events) == 1, (url, events)
        event = events[0]
        assert event.event == "access.denied" and event.status == status
        assert event.user in (OWNER_A, "lead@example.test")
        assert event.path == url.split("?")[0]


def test_item18_old_secret_keys_still_verify_sessions_and_remind_with_old_links(
    app_config: dict[str, Any], runner: Any, write_csv: Any, staff: None
) -> None:
    old = create_app(app_config)
    client = signed_in(old, OWNER_A)
    database(old).engine.dispose()
    rotated = create_app(
        {
            **app_config,
            "SECRET_KEY": "a-brand-new-secret",
            "SECRET_KEY_FALLBACKS": "x, test-secret-key",
        }
    )
    assert rotated.config["SECRET_KEY_FALLBACKS"] == ["x", "test-secret-key"]
    cookie = client.get_cookie("session")
    assert cookie is not None

    def same_browser(app: Any) -> Any:  # the cookie signed with the old key
        browser = app.test_client()
        browser.set_cookie("session", cookie.value, domain=cookie.domain)
        return browser

    without = create_app({**app_config, "SECRET_KEY": "a-brand-new-secret"})
    try:
        assert same_browser(rotated).get("/accounts").status_code == 200
        assert same_browser(without).get("/accounts").status_code == 302  # void
    finally:
        database(rotated).engine.dispose()
        database(without).engine.dispose()


def test_item18_reminders_after_a_key_rotation_carry_the_original_link(
    app_config: dict[str, Any], app: Any, runner: Any, write_csv: Any
) -> None:
    from support import Runner
    from survey_support import outbox_messages, parts, setup_campaign, tokens_by_email

    campaign_id = setup_campaign(runner, write_csv)
    assert runner.invoke("send", str(campaign_id)).exit_code == 0
    tokens = tokens_by_email(app)

    def remind(**config: Any) -> str:
        rotated = create_app({**app_config, "SECRET_KEY": "a-brand-new-secret", **config})
        try:
            return Runner(rotated).invoke("remind", str(campaign_id), "--after-days", "0").output
        finally:
            database(rotated).engine.dispose()

    output = remind()  # the old key is gone: no reminder with a dead link
    assert "no longer configured" in output and "0 reminders queued" in output, output
    output = remind(SECRET_KEY_FALLBACKS='["test-secret-key"]')
    messages = outbox_messages(app)  # invitations and reminders (in each one's language)
    assert "3 reminders queued" in output and len(messages) == 2 * len(tokens), output
    for message in messages:
        text, _ = parts(message)
        assert f"/s/{tokens[message['To'].addresses[0].addr_spec]}" in text
