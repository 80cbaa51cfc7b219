"""Import every feature's tables so that ``Base.metadata`` knows them all.

Used by Alembic's autogenerate check and by tests; the app itself imports the
feature modules it needs. One module per line (sorted), so that branches adding
features merge without conflicts.
"""

import cpi.accounts.models
import cpi.audit.models
import cpi.auth.models
import cpi.initiatives.models
import cpi.kpis.models
import cpi.mail.models
import cpi.outcomes.models
import cpi.scorecards.qbr.models
import cpi.surveys.models

from cpi.accounts.models import Account, Contact
from cpi.kpis.models import KpiFigure, Target
from cpi.surveys.models import Response

__all__ = ["Account", "Contact", "KpiFigure", "Response", "Target"]  # tests/test_cli.py
