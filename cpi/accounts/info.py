"""An account as plain values: what access checks (cpi.auth) and scoring
(cpi.scorecards) both read, so it lives below both."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class AccountInfo:
    account_id: str
    name: str
    segment: str
    owner_email: str | None
