"""Moved to :mod:`cpi.logs`: logging is infrastructure every layer uses, so it sits
below the features (cpi.core_cli, which every feature's commands import, needs it).
The old name is the same module object until its last importers move."""

import sys

from cpi import logs

sys.modules[__name__] = logs
