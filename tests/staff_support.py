"""Helpers for the staff-app tests: sign in through the real login form."""

from __future__ import annotations

import re
from typing import Any

DEMO_PASSWORDS = {
    "admin@demo.cpi-tracker.test": "demo-admin-pass",
    "lead@demo.cpi-tracker.test": "demo-lead-pass",
    "anna.kovacs@demo.cpi-tracker.test": "demo-am-pass",
    "marc.dubois@demo.cpi-tracker.test": "demo-am-pass",
    "julia.weber@demo.cpi-tracker.test": "demo-am-pass",
}
CSRF_RE = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


def csrf_token(client: Any, url: str = "/login") -> str:
    page = client.get(url).get_data(as_text=True)
    match = CSRF_RE.search(page)
    assert match, f"no CSRF token on {url}"
    return match.group(1)


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
