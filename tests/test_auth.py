"""Sign-in, sign-out, sessions and throttling, through the real login form."""

from __future__ import annotations

from datetime import datetime

import argon2
import pytest
from sqlalchemy import select
from staff_support import OWNER_A, sign_in, small_dataset
from support import csrf_token

from cpi import create_app
from cpi.audit.models import AuditEvent
from cpi.auth.models import User
from cpi.auth.operations import authenticate, create_user
from cpi.auth.passwords import verify_password
from cpi.db import database


@pytest.fixture
def staff(runner, write_csv):  # type: ignore[no-untyped-def]
    small_dataset(runner, write_csv)


def post_login(client, email: str, password: str):  # type: ignore[no-untyped-def]
    return client.post(
        "/login", data={"email": email, "password": password, "csrf_token": csrf_token(client)}
    )


def test_staff_pages_need_sign_in(client, staff) -> None:  # type: ignore[no-untyped-def]
    for url in (
        "/",
        "/accounts",
        "/accounts/ACC-1",
        "/accounts/ACC-1/scorecard.pdf",
        "/segments/Retail",
        "/exports/scorecards.csv?period=2026-Q3",
        "/admin/",
    ):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response.headers["Location"].startswith("/login?next="), url


def test_sign_in_and_out(client, staff, db) -> None:  # type: ignore[no-untyped-def]
    response = sign_in(client, "lead@example.test", "password-123")
    assert response.headers["Location"] == "/"
    assert "Company" in client.get("/").get_data(as_text=True)
    # sign-out is a POST with a CSRF token; a GET does nothing
    assert client.get("/logout").status_code == 405
    token = csrf_token(client, "/")
    assert client.post("/logout", data={"csrf_token": token}).status_code == 302
    assert client.get("/").status_code == 302
    db.rollback()
    actions = [e.action for e in db.scalars(select(AuditEvent).order_by(AuditEvent.id))]
    assert "login" in actions and "logout" in actions


def test_wrong_password_and_unknown_email_get_the_same_answer(client, staff) -> None:  # type: ignore[no-untyped-def]
    wrong = post_login(client, "lead@example.test", "not-the-password")
    unknown = post_login(client, "nobody@example.test", "not-the-password")
    assert wrong.status_code == unknown.status_code == 401
    message = "The email or password is not right."
    assert message in wrong.get_data(as_text=True) and message in unknown.get_data(as_text=True)


def test_login_without_csrf_token_is_refused(client, staff) -> None:  # type: ignore[no-untyped-def]
    response = client.post(
        "/login", data={"email": "lead@example.test", "password": "password-123"}
    )
    assert response.status_code == 400
    assert client.get("/").status_code == 302


def test_failed_sign_ins_are_throttled_per_email(client, staff) -> None:  # type: ignore[no-untyped-def]
    codes = [post_login(client, OWNER_A, f"wrong-{i}").status_code for i in range(6)]
    assert codes[:5] == [401] * 5 and codes[5] == 429
    # the right password is refused too while the email is throttled
    assert post_login(client, OWNER_A, "password-123").status_code == 429
    # another email from the same client still works
    assert post_login(client, "lead@example.test", "password-123").status_code == 302


def test_unknown_emails_are_throttled_like_known_ones(client, staff) -> None:  # type: ignore[no-untyped-def]
    codes = [post_login(client, "ghost@example.test", "x-password").status_code for _ in range(6)]
    assert codes[-1] == 429


def test_failed_sign_ins_are_throttled_per_client(client, staff) -> None:  # type: ignore[no-untyped-def]
    codes = [
        post_login(client, f"user{i}@example.test", "wrong-pass").status_code for i in range(21)
    ]
    assert codes[:20] == [401] * 20 and codes[20] == 429


def test_account_locks_after_repeated_failures(app, client, staff, db) -> None:  # type: ignore[no-untyped-def]
    app.config["RATELIMIT_ENABLED"] = False
    from cpi.extensions import limiter

    limiter.enabled = False
    try:
        from cpi.auth.operations import MAX_FAILED_LOGINS

        for i in range(MAX_FAILED_LOGINS):
            assert post_login(client, OWNER_A, f"wrong-{i}").status_code == 401
        # locked: even the right password is refused, with the same message
        response = post_login(client, OWNER_A, "password-123")
        assert response.status_code == 401
    finally:
        limiter.enabled = True
    db.rollback()
    user = db.scalar(select(User).where(User.email == OWNER_A))
    assert user.locked_until is not None


def test_session_changes_at_sign_in_and_dies_at_sign_out(app, staff) -> None:  # type: ignore[no-untyped-def]
    client = app.test_client()
    csrf_token(client)
    before = client.get_cookie("session").value
    sign_in(client, "lead@example.test", "password-123")
    after = client.get_cookie("session").value
    assert before != after
    # a copy of the signed-in cookie (stolen, or another tab) ...
    thief = app.test_client()
    thief.set_cookie("session", after)
    assert thief.get("/").status_code == 200
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    # ... stops working once the user signs out
    assert thief.get("/").status_code == 302


def test_session_cookie_flags(app, staff) -> None:  # type: ignore[no-untyped-def]
    client = app.test_client()
    response = sign_in(client, "lead@example.test", "password-123")
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    tls = create_app({**app.config, "BASE_URL": "https://cpi.example.com"})
    assert tls.config["SESSION_COOKIE_SECURE"] is True


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/",
        "//evil.example/",
        "/\\evil.example",
        "http:/evil.example",
        "javascript:alert(1)",
        "\t//evil.example",
    ],
)
def test_next_only_goes_to_this_site(client, staff, target: str) -> None:  # type: ignore[no-untyped-def]
    response = client.post(
        "/login?next=" + target,
        data={
            "email": "lead@example.test",
            "password": "password-123",
            "csrf_token": csrf_token(client),
        },
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/"


def test_next_goes_to_the_page_asked_for(client, staff) -> None:  # type: ignore[no-untyped-def]
    response = client.post(
        "/login?next=/accounts/ACC-1",
        data={
            "email": "lead@example.test",
            "password": "password-123",
            "csrf_token": csrf_token(client),
        },
    )
    assert response.headers["Location"] == "/accounts/ACC-1"


def test_disabled_user_cannot_sign_in(client, staff, db) -> None:  # type: ignore[no-untyped-def]
    user = db.scalar(select(User).where(User.email == OWNER_A))
    user.active = False
    db.commit()
    assert post_login(client, OWNER_A, "password-123").status_code == 401


# --- argon2 parameters: the suite hashes with argon2-cffi's CHEAPEST profile (conftest) ---


def test_production_hashes_use_rfc_9106_low_memory_parameters(app_config, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Without PASSWORD_HASH_PROFILE (as in production) a new hash, a login and a
    rehash of a cheap test hash all give RFC 9106's low-memory parameters."""
    config = {k: v for k, v in app_config.items() if k != "PASSWORD_HASH_PROFILE"}
    app = create_app(config)
    cheap = argon2.PasswordHasher.from_parameters(argon2.profiles.CHEAPEST).hash("pass-w0rd-x")
    with app.app_context():
        session = database(app).session()
        user = create_user(session, email="p@example.test", role="admin", password="pass-w0rd-1")
        old = User(email="old@example.test", role="admin", password_hash=cheap)
        session.add(old)
        session.commit()
        assert authenticate(session, "old@example.test", "pass-w0rd-x", datetime(2026, 1, 1))
        session.commit()
        hashes = [user.password_hash, old.password_hash]
        session.close()
    database(app).engine.dispose()
    production = argon2.profiles.RFC_9106_LOW_MEMORY
    for password_hash in hashes:
        parameters = argon2.extract_parameters(password_hash)
        assert parameters == production, parameters
        assert (parameters.time_cost, parameters.memory_cost, parameters.parallelism) == (
            3,
            64 * 1024,
            4,
        )
    assert verify_password(hashes[1], "pass-w0rd-x")


def test_the_cheap_test_profile_is_refused_outside_tests(app_config) -> None:  # type: ignore[no-untyped-def]
    for name, testing in (("CHEAPEST", False), ("NO-SUCH-PROFILE", True)):
        config = {**app_config, "TESTING": testing, "PASSWORD_HASH_PROFILE": name}
        with pytest.raises(RuntimeError, match="PASSWORD_HASH_PROFILE"):
            create_app(config)
