from __future__ import annotations

from sqlalchemy.orm import Session

from cpi.audit.models import AuditEvent


def record(session: Session, actor: str, action: str, detail: str | None = None) -> AuditEvent:
    """Add an audit event to the session; it commits with the change it describes."""
    event = AuditEvent(actor=actor, action=action, detail=detail)
    session.add(event)
    return event


def audit_export(action: str, detail: str) -> None:
    """Log a download by the signed-in user in its own short write transaction
    (the download itself is a read-only GET)."""
    from flask_login import current_user

    from cpi.db import database

    with database().transaction() as session:
        record(session, current_user.email, action, detail)
