from __future__ import annotations

from sqlalchemy.orm import Session

from cpi.audit.models import AuditEvent


def record(session: Session, actor: str, action: str, detail: str | None = None) -> AuditEvent:
    """Add an audit event to the session; it commits with the change it describes."""
    event = AuditEvent(actor=actor, action=action, detail=detail)
    session.add(event)
    return event
