"""Import every feature's tables so that ``Base.metadata`` knows them all.

Used by Alembic's autogenerate check and by tests; the app itself imports the
feature modules it needs. One module per line (sorted), so that branches adding
features merge without conflicts.
"""

import cpi.accounts.models  # noqa: F401
import cpi.audit.models  # noqa: F401
import cpi.auth.models  # noqa: F401
import cpi.followups.models  # noqa: F401
import cpi.generation  # noqa: F401
import cpi.initiatives.models  # noqa: F401
import cpi.kpis.models  # noqa: F401
import cpi.mail.models  # noqa: F401
import cpi.outcomes.models  # noqa: F401
import cpi.scorecards.qbr.models  # noqa: F401
import cpi.surveys.models  # noqa: F401
import cpi.surveys.sums_models  # noqa: F401
from cpi.accounts.models import Account, Contact
from cpi.kpis.models import KpiFigure, Target
from cpi.surveys.models import Response

__all__ = ["Account", "Contact", "KpiFigure", "Response", "Target"]  # tests/test_cli.py
