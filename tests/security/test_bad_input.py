"""Issue 11 item 9: bad input never gives a 500, on any staff URL, query parameter or
form field (the app's own url_map is enumerated, so a new page is covered too)."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from staff_support import OWNER_A, sign_in, small_dataset
from support import csrf_token

pytestmark = pytest.mark.slow

PASSWORD = "password-123"
ODD_PERIODS = ["0001", "0001-Q1", "0002-Q3", "0000", "9999", "9999-Q4", "1-Q1", "²⁰²⁶", "2026-Q5"]
ODD_VALUES = [
    "", "\x00", "a\x00b", "²", "-1", "0", "99999999999999999999", "sNaN", "NaN", "inf",
    "1e309", "%", "'", "\\", "../../etc/passwd", "ACC-1", OWNER_A, "Retail",
    "2026-Q3", "x" * 300,
]  # fmt: skip
QUERY_KEYS = ["period", "indicator", "page", "actor", "account", "segment", "owner", "q", "next"]
# sample values for the URL converters: real ids and junk
PATH_VALUES = {
    "account_id": ["ACC-1", "ACC-3", "NOPE"],
    "segment": ["Retail", "Health", "x/y"],
    "email": [OWNER_A, "nobody@example.test"],
    "user_id": ["1", "2", "999"],
    "target_id": ["1", "999"],
    "kind": ["contacts", "responses", "nope"],
}
# any other argument (campaign_id, initiative_id, job ids, tokens ...): real-looking ids and junk
OTHER_VALUES = ["1", "2", "999", "nope", "..%2F..%2Fetc"]
SKIP = {"static", "health.healthz"}
PUBLIC_PREFIXES = ("/s/", "/u/")


def odd_text() -> st.SearchStrategy[str]:
    # any text a client can send (a lone surrogate cannot be encoded into a request)
    text = st.text(st.characters(exclude_categories=("Cs",)), max_size=40)
    return st.one_of(st.sampled_from(ODD_VALUES + ODD_PERIODS), text)


@pytest.fixture
def signed_in(app, runner, write_csv):  # type: ignore[no-untyped-def]
    small_dataset(runner, write_csv)
    clients = {}
    for email in ("admin@example.test", OWNER_A):
        client = app.test_client()
        sign_in(client, email, PASSWORD)
        # every POST carries a valid CSRF token: the fuzzing reaches what comes after
        clients[email] = (client, csrf_token(client, "/accounts"))
    return clients


def staff_rules(app: Any) -> list[Any]:
    rules = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint in SKIP or rule.rule.startswith(PUBLIC_PREFIXES):
            continue
        rules.append(rule)
    assert len(rules) >= 15, [r.rule for r in rules]
    return rules


def build_paths(rule: Any) -> list[str]:
    paths = [rule.rule]
    for name in rule.arguments:
        paths = [
            p.replace(f"<{c}:{name}>", v).replace(f"<{name}>", v)
            for p in paths
            for v in PATH_VALUES.get(name, OTHER_VALUES)
            for c in ("int", "path")
        ]
    return sorted(set(paths))


def no_500(response: Any, what: str) -> None:
    status, body = response.status_code, response.get_data()[:300].decode(errors="replace")
    response.close()
    assert status < 500, (what, status, body)


def test_every_staff_url_with_odd_periods_never_gives_500(app, signed_in) -> None:  # type: ignore[no-untyped-def]
    for rule in staff_rules(app):
        if "GET" not in rule.methods:
            continue
        for path in build_paths(rule):
            for period in ODD_PERIODS:
                for client, _csrf in signed_in.values():
                    url = f"{path}?period={period}"
                    no_500(client.get(url), url)


def test_named_bad_inputs_never_give_500(app, signed_in, write_csv, runner) -> None:  # type: ignore[no-untyped-def]
    admin, csrf = signed_in["admin@example.test"]
    no_500(admin.get("/admin/audit?page=²"), "audit page ²")
    for target in ("sNaN", "NaN", "-sNaN", "1e999999", "Infinity"):
        response = admin.post(
            "/admin/targets",
            data={
                "indicator": "csat",
                "period": "2026-Q3",
                "segment": "",
                "target": target,
                "csrf_token": csrf,
            },  # fmt: skip
        )
        no_500(response, f"target {target}")
        assert response.status_code == 400
    # multipart admin forms: NUL in a field is refused like in urlencoded ones
    response = admin.post(
        "/admin/users",
        data={
            "email": "a\x00@example.test",
            "role": "admin",
            "password": "long-enough-1",
            "csrf_token": csrf,
        },  # fmt: skip
        content_type="multipart/form-data",
    )
    assert response.status_code == 400
    # NUL in the sign-in email
    anonymous = app.test_client()
    login = {"email": "a\x00b@example.test", "password": "x", "csrf_token": csrf_token(anonymous)}
    response = anonymous.post("/login", data=login)
    assert response.status_code in (400, 401)
    # an import row with a timestamp that falls before year 1 in UTC: a named error
    lines = [
        "account_id,contact_email,period,fcr,csat,nps,ces,quote_turnaround_days,comment,submitted_at",
        "ACC-1,c0@acc-1.test,2026-Q1,yes,5,9,5,2,,0001-01-01T00:00:00+01:00",
    ]
    result = runner.invoke(
        "import", "responses", str(write_csv("r.csv", "\n".join(lines) + "\n")), expect_exit=1
    )
    assert result.exit_code == 1 and "submitted_at" in result.output, result.output
    assert "Traceback" not in result.output
    upload = admin.post(
        "/admin/uploads",
        data={
            "kind": "responses",
            "csrf_token": csrf,
            "file": (write_csv("r.csv", "\n".join(lines) + "\n").open("rb"), "r.csv"),
        },  # fmt: skip
        content_type="multipart/form-data",
    )
    assert upload.status_code == 400 and "submitted_at" in upload.get_data(as_text=True)


def test_sql_parameters_are_never_logged(app) -> None:  # type: ignore[no-untyped-def]
    from cpi.db import database

    assert database(app).engine.hide_parameters is True


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_fuzz_every_staff_url_and_form_field(app, signed_in, data) -> None:  # type: ignore[no-untyped-def]
    rules = staff_rules(app)
    rule = data.draw(st.sampled_from(rules), label="rule")
    path = data.draw(st.sampled_from(build_paths(rule)), label="path")
    client, csrf = signed_in[data.draw(st.sampled_from(sorted(signed_in)), label="who")]
    query = data.draw(st.dictionaries(st.sampled_from(QUERY_KEYS), odd_text(), max_size=4))
    if "GET" in rule.methods and data.draw(st.booleans(), label="get"):
        no_500(client.get(path, query_string=query), f"GET {path} {query!r}")
        return
    if "POST" not in rule.methods:
        return
    fields = data.draw(
        st.dictionaries(
            st.sampled_from(
                ["email", "password", "name", "role", "active", "kind", "indicator", "period",
                 "segment", "target", "tolerance", "current_password", "new_password",
                 "confirm", "code"]
            ),
            odd_text(),
            max_size=8,
        ),
        label="fields",
    )  # fmt: skip
    multipart = data.draw(st.booleans(), label="multipart")
    response = client.post(
        path,
        query_string=query,
        data={**fields, "csrf_token": csrf},
        content_type="multipart/form-data" if multipart else None,
    )
    no_500(response, f"POST {path} {fields!r} multipart={multipart}")
    logging.getLogger(__name__).debug("%s %s", path, response.status_code)


def test_every_staff_get_writes_only_in_a_write_transaction_of_its_own(app, signed_in) -> None:  # type: ignore[no-untyped-def]
    # A GET reads in a deferred transaction. On SQLite a write inside it fails at once
    # ("database is locked", no waiting) when another connection committed since it
    # began: a page that writes must do so in a write transaction of its own
    # (BEGIN IMMEDIATE, as cpi.audit.operations.audit_export does).
    from sqlalchemy import event

    from cpi.db import database

    stray: list[str] = []

    def spy(conn, _cursor, statement, *_args) -> None:  # type: ignore[no-untyped-def]
        verb = statement.lstrip().split(None, 1)[0].upper()
        if verb in {"INSERT", "UPDATE", "DELETE"} and not conn.get_execution_options().get(
            "cpi_write"
        ):
            stray.append(f"{current}: {statement[:120]}")

    engine = database(app).engine
    event.listen(engine, "before_cursor_execute", spy)
    seen = 0
    try:
        for rule in staff_rules(app):
            if "GET" not in rule.methods:
                continue
            for path in build_paths(rule):
                for who, (client, _csrf) in signed_in.items():
                    current = f"GET {path} as {who}"
                    response = client.get(path)
                    seen += response.status_code == 200
                    response.close()
    finally:
        event.remove(engine, "before_cursor_execute", spy)
    assert seen >= 30, seen
    assert stray == []
