"""Helpers for the follow-up tests: staff users, a sent campaign, answers through the form."""

from __future__ import annotations

from typing import Any

from survey_support import open_form, setup_campaign, tokens_by_email

OWNER = "am@example.test"
OTHER = "other.am@example.test"
CONTACTS = (
    "account_id,account_name,segment,owner_email,contact_email,contact_name,locale\n"
    f"ACME-001,Acme <Industrial>,Healthcare,{OWNER},ann@acme.test,Ann Smith,fr\n"
    f"ACME-001,Acme <Industrial>,Healthcare,{OWNER},bob@acme.test,Bob Jones,\n"
    f"GLOBEX-1,Globex,Healthcare,{OTHER},cara@globex.test,Cara Diaz,de\n"
)
USERS = {
    "admin@example.test": "admin",
    "lead@example.test": "enablement",
    OWNER: "account_manager",
    OTHER: "account_manager",
}
PASSWORD = "password-123"
LOW = {"fcr": "no", "nps": "3", "csat": "4", "ces": "6", "comment": "<b>Nobody called back</b>"}


def setup(app: Any, runner: Any, write_csv: Any) -> dict[str, str]:
    for email, role in USERS.items():
        result = runner.invoke("user", "create", "--email", email, "--role", role,
                               env={"CPI_PASSWORD": PASSWORD})  # fmt: skip
        assert result.exit_code == 0, result.output
    campaign_id = setup_campaign(runner, write_csv, contacts=CONTACTS)
    assert runner.invoke("send", str(campaign_id)).exit_code == 0
    return tokens_by_email(app)


def answer(client: Any, token: str, **answers: str) -> None:
    csrf = open_form(client, token)
    response = client.post(f"/s/{token}", data={**answers, "csrf_token": csrf})
    assert response.status_code == 303, response.get_data(as_text=True)[:500]
