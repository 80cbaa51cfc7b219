"""Import every feature's tables so that ``Base.metadata`` knows them all.

Used by Alembic's autogenerate check and by tests; the app itself imports the
feature modules it needs.
"""

from cpi.accounts.models import Account, Contact
from cpi.audit.models import AuditEvent
from cpi.auth.models import User
from cpi.kpis.models import KpiFigure, Target
from cpi.mail.models import OutboxMessage
from cpi.surveys.models import Campaign, Invitation, Question, Response, Survey
from cpi.surveys.sums_models import AnswerQuoteDays, AnswerSums

__all__ = [
    "Account",
    "AnswerQuoteDays",
    "AnswerSums",
    "AuditEvent",
    "Campaign",
    "Contact",
    "Invitation",
    "KpiFigure",
    "OutboxMessage",
    "Question",
    "Response",
    "Survey",
    "Target",
    "User",
]
