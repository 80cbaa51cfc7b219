"""Periods are not a formula under test: the oracle uses the production ``Period``
(one definition of how quarters and years are named and walked)."""

from cpi.scoring.periods import Period

__all__ = ["Period"]
