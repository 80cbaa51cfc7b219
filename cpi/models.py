"""Import every feature's tables so that ``Base.metadata`` knows them all.

Used by Alembic's autogenerate check and by tests; the app itself imports the
feature modules it needs.
"""

from cpi.accounts.models import Account, Contact
from cpi.audit.models import AuditEvent
from cpi.auth.models import User
from cpi.initiatives.models import CaseStudy, Initiative, InitiativeCost, InitiativeParticipant
from cpi.kpis.models import KpiFigure, Target
from cpi.mail.models import OutboxMessage
from cpi.outcomes.models import Outcome
from cpi.surveys.models import (
    Campaign,
    CampaignAccount,
    CampaignSchedule,
    CustomAnswer,
    Invitation,
    Question,
    Response,
    ScheduledCampaign,
    Survey,
)

__all__ = [
    "Account",
    "AuditEvent",
    "Campaign",
    "CampaignAccount",
    "CampaignSchedule",
    "CaseStudy",
    "Contact",
    "CustomAnswer",
    "Initiative",
    "InitiativeCost",
    "InitiativeParticipant",
    "Invitation",
    "KpiFigure",
    "OutboxMessage",
    "Outcome",
    "Question",
    "Response",
    "ScheduledCampaign",
    "Survey",
    "Target",
    "User",
]
