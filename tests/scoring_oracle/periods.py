"""Reporting periods: a calendar quarter ``YYYY-Qn`` or a year ``YYYY``."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

_PERIOD_RE = re.compile(r"^(\d{4})(?:-[Qq]([1-4]))?$")


@dataclass(frozen=True)
class Period:
    """A quarter (``quarter`` 1-4) or a whole year (``quarter`` None).

    Periods order chronologically; a year sorts just before its first
    quarter (it starts at the same moment and is the longer span).
    """

    year: int
    quarter: int | None = None

    def __post_init__(self) -> None:
        if not 1 <= self.year <= 9999:
            raise ValueError("period year must be from 1 to 9999")
        if self.quarter is not None and self.quarter not in (1, 2, 3, 4):
            raise ValueError("period quarter must be 1, 2, 3 or 4")

    @staticmethod
    def parse(text: str | Period) -> Period:
        """Parse ``"2026-Q3"`` or ``"2026"``; raise ValueError otherwise."""
        if isinstance(text, Period):
            return text
        return _parse_cached(text)

    @property
    def is_year(self) -> bool:
        return self.quarter is None

    def previous(self) -> Period:
        """The quarter before (2026-Q1 -> 2025-Q4), or the year before."""
        if self.quarter is None:
            return Period(self.year - 1)
        if self.quarter == 1:
            return Period(self.year - 1, 4)
        return Period(self.year, self.quarter - 1)

    def quarters(self) -> tuple[Period, ...]:
        """A year's four quarters in order; a quarter is its own only quarter."""
        if self.quarter is None:
            return tuple(Period(self.year, q) for q in (1, 2, 3, 4))
        return (self,)

    def _key(self) -> tuple[int, int]:
        return (self.year, self.quarter or 0)

    def __lt__(self, other: Period) -> bool:
        return self._key() < other._key()

    def __le__(self, other: Period) -> bool:
        return self._key() <= other._key()

    def __gt__(self, other: Period) -> bool:
        return self._key() > other._key()

    def __ge__(self, other: Period) -> bool:
        return self._key() >= other._key()

    def __str__(self) -> str:
        if self.quarter is None:
            return f"{self.year:04d}"
        return f"{self.year:04d}-Q{self.quarter}"


@lru_cache(maxsize=4096)
def _parse_cached(text: str) -> Period:
    if not isinstance(text, str):
        raise ValueError("period must look like 2026-Q3 or 2026")
    match = _PERIOD_RE.match(text.strip())
    if match is None or int(match.group(1)) == 0:
        raise ValueError(f"period must look like 2026-Q3 or 2026, not {text!r}")
    quarter = match.group(2)
    return Period(int(match.group(1)), int(quarter) if quarter else None)
