"""Import every feature's tables so that ``Base.metadata`` knows them all.

Used by Alembic's autogenerate check and by tests; the app itself imports the
feature modules it needs.
"""

from cpi.accounts.models import Account, Contact
from cpi.audit.models import AuditEvent
from cpi.auth.models import User
from cpi.followups.models import AlertPreference, AlertRule, AlertState, FollowUp
from cpi.kpis.models import KpiFigure, Target
from cpi.mail.models import OutboxMessage
from cpi.surveys.models import (
    Campaign,
    CampaignAccount,
    CampaignSchedule,
    Invitation,
    Question,
    Response,
    ScheduledCampaign,
    Survey,
)

__all__ = [
    "Account",
    "AlertPreference",
    "AlertRule",
    "AlertState",
    "AuditEvent",
    "Campaign",
    "CampaignAccount",
    "CampaignSchedule",
    "Contact",
    "FollowUp",
    "Invitation",
    "KpiFigure",
    "OutboxMessage",
    "Question",
    "Response",
    "ScheduledCampaign",
    "Survey",
    "Target",
    "User",
]
