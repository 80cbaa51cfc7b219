"""A small in-process cache for dashboards, keyed by a fingerprint of the data.

Scoring 2,000 accounts over eight quarters takes seconds; the data behind a
dashboard changes only when something is imported, answered or edited. Each
request computes a cheap fingerprint of what a dashboard reads: the latest audit
event (every import, target, user change and erasure is logged), the largest id
and the latest update of all answers (a new survey answer, an answer changed;
both read from an index, so the fingerprint costs no table scan however many
answers there are), KPI, target and invitation counts, and every account's name,
segment and owner (so an owner change is seen at once). A result computed from
the same fingerprint is reused; any change computes afresh. Answers are never
deleted by the app (an erasure keeps them and is audit-logged); direct database
edits that bypass the app are not seen until the process restarts.
"""

from __future__ import annotations

import hashlib
import threading
from collections import Counter, OrderedDict
from collections.abc import Callable, Hashable, Sequence
from typing import Any, TypeVar

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cpi.accounts.models import Account
from cpi.audit.models import AuditEvent
from cpi.kpis.models import KpiFigure, Target
from cpi.surveys.models import Invitation, Response

T = TypeVar("T")
MAX_ENTRIES = 32
_entries: OrderedDict[Hashable, Any] = OrderedDict()
MAX_SMALL_ENTRIES = 1024
_small: OrderedDict[Hashable, Any] = OrderedDict()
_lock = threading.Lock()
# Lookups answered from the cache (hits) and computed (misses) since the last clear().
stats: Counter[str] = Counter()


def data_fingerprint(session: Session, quarters: Sequence[str]) -> str:
    """``quarters`` name what the dashboard reads; answers are fingerprinted as a
    whole (two index look-ups), which only makes the cache a little more eager."""
    r = Response
    parts: list[Any] = [
        tuple(quarters),
        # every import, target, user change and erasure writes an audit event
        session.scalar(select(func.max(AuditEvent.id))),
        session.scalar(select(func.max(r.id))),
        session.scalar(select(func.max(r.updated_at))),
        session.execute(select(func.count(), func.max(KpiFigure.id))).one(),
        session.execute(select(func.count(), func.max(Target.id), func.sum(Target.target))).one(),
        session.execute(select(func.count(), func.max(Invitation.id))).one(),
    ]
    digest = hashlib.sha256(repr(parts).encode())
    for row in session.execute(
        select(Account.account_id, Account.name, Account.segment, Account.owner_email)
    ):
        digest.update(repr(tuple(row)).encode())
    return digest.hexdigest()


def cached(key: Hashable, compute: Callable[[], T], *, small: bool = False) -> T:
    """``small``: a small result (the differencing audit's, one per viewer and year)
    kept among many more entries, so that it never pushes dashboards out."""
    entries, limit = (_small, MAX_SMALL_ENTRIES) if small else (_entries, MAX_ENTRIES)
    with _lock:
        if key in entries:
            entries.move_to_end(key)
            stats["hits"] += 1
            return entries[key]  # type: ignore[no-any-return]
        stats["misses"] += 1
    value = compute()
    with _lock:
        entries[key] = value
        while len(entries) > limit:
            entries.popitem(last=False)
    return value


def clear() -> None:
    with _lock:
        _entries.clear()
        _small.clear()
        stats.clear()
