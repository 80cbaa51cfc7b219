"""Administration: targets, and the audit log as plain rows."""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cpi.audit.models import AuditEvent
from cpi.i18n.errors import field_message
from cpi.kpis.models import Target
from cpi.rules.targets import range_problem, tolerance_problem
from cpi.scoring import INDICATORS_BY_CODE, Period

AUDIT_PAGE_SIZE = 100


class AdminError(ValueError):
    """Bad input on an admin form; the message names the field (``field: reason``, in the
    reader's language on a page, English on the command line)."""


def set_target(
    session: Session,
    *,
    indicator: str,
    period: str,
    segment: str | None,
    target: float,
    tolerance: float | None,
) -> Target:
    """Create or change the target for an indicator, period and (optional) segment."""
    if indicator not in INDICATORS_BY_CODE:
        reason = _l("unknown indicator %(value)s", value=repr(indicator))
        raise AdminError(field_message("indicator", reason))
    try:
        period = str(Period.parse(period))
    except ValueError:
        reason = _l("%(value)s is not a period like 2026-Q3 or 2026", value=repr(period[:20]))
        raise AdminError(field_message("period", reason)) from None
    problem = range_problem(INDICATORS_BY_CODE[indicator], target)
    if problem:
        raise AdminError(field_message("target", problem))
    problem = tolerance_problem(tolerance) if tolerance is not None else None
    if problem:
        raise AdminError(field_message("tolerance", problem))
    key = (segment or "").strip()
    row = session.scalar(
        select(Target).where(
            Target.indicator == indicator, Target.period == period, Target.segment_key == key
        )
    )
    if row is None:
        row = Target(indicator=indicator, period=period, segment_key=key, target=target)
        session.add(row)
    row.target = target
    row.tolerance = tolerance
    session.flush()
    return row


def delete_target(session: Session, target_id: int) -> Target:
    row = session.get(Target, target_id)
    if row is None:
        raise AdminError(field_message("target", _l("no target %(id)s", id=target_id)))
    session.delete(row)
    session.flush()
    return row


def targets_for(session: Session, period: str | None) -> list[Target]:
    query = select(Target).order_by(Target.period.desc(), Target.segment_key, Target.indicator)
    if period:
        query = query.where(Target.period == period)
    return list(session.scalars(query.limit(500)))


@dataclass(frozen=True)
class AuditPage:
    events: list[AuditEvent]
    page: int
    pages: int


def audit_page(session: Session, page: int, actor: str | None = None) -> AuditPage:
    where = [AuditEvent.actor == actor] if actor else []
    total = session.scalar(select(func.count(AuditEvent.id)).where(*where)) or 0
    pages = max(1, -(-total // AUDIT_PAGE_SIZE))
    page = min(max(page, 1), pages)
    events = session.scalars(
        select(AuditEvent)
        .where(*where)
        .order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
        .offset((page - 1) * AUDIT_PAGE_SIZE)
        .limit(AUDIT_PAGE_SIZE)
    )
    return AuditPage(list(events), page, pages)
