"""Helpers for the staff-app tests: sign in through the real login form."""

from __future__ import annotations

from typing import Any

from support import csrf_token

DEMO_PASSWORDS = {
    "admin@demo.cpi-tracker.test": "demo-admin-pass",
    "lead@demo.cpi-tracker.test": "demo-lead-pass",
    "anna.kovacs@demo.cpi-tracker.test": "demo-am-pass",
    "marc.dubois@demo.cpi-tracker.test": "demo-am-pass",
    "julia.weber@demo.cpi-tracker.test": "demo-am-pass",
}


def sign_in(client: Any, email: str, password: str | None = None) -> Any:
    response = client.post(
        "/login",
        data={
            "email": email,
            "password": password or DEMO_PASSWORDS[email],
            "csrf_token": csrf_token(client),
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    return response


TRICKY_NAME = "Bolt <&> \"Nut\" 'Co' Звезда Ünïcode"
EVIL_COMMENT = (
    '<img src="file:///etc/passwd"> <script>alert(1)</script> url(http://127.0.0.1:{port}/x)'
)
OWNER_A = "owner.a@example.test"
OWNER_B = "owner.b@example.test"


def small_dataset(runner: Any, write_csv: Any, *, port: int = 9, thin: bool = True) -> None:
    """Three accounts: ACC-1 (tricky name, owner A, 8 answers in 2026-Q2 and 2026-Q3),
    ACC-2 (owner B, 8 answers), ACC-3 (owner A, only 3 answers: below min_n).
    Staff users: admin, lead, owner A and owner B (password ``password-123``)."""
    contacts = ["account_id,account_name,segment,owner_email,contact_email,contact_name"]
    responses = ["account_id,contact_email,period,fcr,csat,nps,ces,quote_turnaround_days,comment"]
    accounts = [
        ("ACC-1", TRICKY_NAME, "Retail", OWNER_A, 8),
        ("ACC-2", "Beta GmbH", "Retail", OWNER_B, 8),
        ("ACC-3", "Gamma Ltd", "Health", OWNER_A, 3 if thin else 8),
    ]
    for account_id, name, segment, owner, answers in accounts:
        quoted = '"' + name.replace('"', '""') + '"'
        for i in range(answers):
            email = f"c{i}@{account_id.lower()}.test"
            contacts.append(
                f"{account_id},{quoted},{segment},{owner},{email},Person {i} {account_id}"
            )
            for period in ("2026-Q2", "2026-Q3"):
                fcr = "yes" if i % 4 else "no"
                comment = ""
                if period == "2026-Q3" and i == 0:
                    comment = '"' + EVIL_COMMENT.format(port=port).replace('"', '""') + '"'
                if period == "2026-Q3" and i == 1:
                    comment = "Named praise from a consenting customer"
                csat = 5 if i % 3 else 2
                responses.append(
                    f"{account_id},{email},{period},{fcr},{csat},{9 - i % 5},"
                    f"{4 + i % 3},{1 + i},{comment}"
                )
    kpis = [
        "indicator,period,account_id,value",
        "fcr,2026-Q3,ACC-1,99",
        "fcr,2026-Q3,ACC-2,70",
        "fcr,2026-Q3,ACC-3,95",
        "csat,2026-Q3,ACC-1,80",
    ]
    targets = ["indicator,period,target", "fcr,2026-Q3,80", "csat,2026-Q3,70"]
    for kind, lines in (
        ("contacts", contacts),
        ("responses", responses),
        ("kpis", kpis),
        ("targets", targets),
    ):
        result = runner.invoke(
            "import", kind, str(write_csv(f"{kind}.csv", "\n".join(lines) + "\n"))
        )
        assert result.exit_code == 0, result.output
    for email, role in (
        ("admin@example.test", "admin"),
        ("lead@example.test", "enablement"),
        (OWNER_A, "account_manager"),
        (OWNER_B, "account_manager"),
    ):
        result = runner.invoke(
            "user", "create", "--email", email, "--role", role, env={"CPI_PASSWORD": "password-123"}
        )
        assert result.exit_code == 0, result.output
