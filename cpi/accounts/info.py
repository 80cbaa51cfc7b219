"""An account as plain values: what access checks (cpi.auth) and scoring
(cpi.scorecards) both read, so it lives below both."""

from __future__ import annotations

from typing import NamedTuple


class AccountInfo(NamedTuple):
    """(A NamedTuple: scoring builds one per account, thousands per load.)"""

    account_id: str
    name: str
    segment: str
    owner_email: str | None
