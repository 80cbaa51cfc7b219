"""Survey answers and the additive sufficient statistics built from them.

Every indicator is a function of a few sums, so the database layer can
``GROUP BY`` account and quarter once, and segments, portfolios, the company
and years are just ``+`` of those sums. Integer sums stay integers, so the
scores are exact whatever order the sums are added in.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields
from decimal import Decimal
from typing import Literal

FcrAnswer = Literal["yes", "no", "na"]


@dataclass(frozen=True)
class Answers:
    """One respondent's validated answers; None means blank."""

    fcr: FcrAnswer | None = None
    contacts_total: int | None = None
    contacts_value_added: int | None = None
    quote_turnaround_days: float | None = None
    csat: int | None = None
    nps: int | None = None
    ces: int | None = None


INT_FIELDS: tuple[str, ...] = (
    "responses",
    "fcr_yes",
    "fcr_no",
    "calls_n",
    "calls_sum",
    "calls_sumsq",
    "share_n",
    "share_y",
    "share_x",
    "share_yy",
    "share_xx",
    "share_xy",
    "csat_n",
    "csat_top2",
    "nps_n",
    "nps_promoters",
    "nps_detractors",
    "ces_n",
    "ces_sum",
    "ces_sumsq",
)


def _as_int(name: str, value: object) -> int:
    """SQL sums arrive as int, Decimal (PostgreSQL numeric), float or NULL."""
    if value is None:
        return 0
    if isinstance(value, bool):
        raise TypeError(f"{name}: expected an integer sum, got a bool")
    if isinstance(value, int):
        return value
    if isinstance(value, (Decimal, float)) and value == int(value):
        return int(value)
    raise TypeError(f"{name}: expected an integer sum, got {value!r}")


@dataclass(frozen=True)
class AnswerStats:
    """Additive sums over a set of responses.

    * ``calls_*``: over respondents who answered ``contacts_value_added``
      (n, Σ value_added, Σ value_added²).
    * ``share_*``: over respondents with ``contacts_total > 0`` and
      ``contacts_value_added`` answered; y = value_added, x = total.
    * ``quote_days``: histogram of ``quote_turnaround_days`` (value -> count).
    * ``csat_top2``: answers of 4 or 5; ``nps_promoters`` 9-10,
      ``nps_detractors`` 0-6.

    ``None`` sums (SQL ``SUM`` over no rows) are read as 0 and Decimal sums
    are converted to int, so the database layer can pass results straight in.
    """

    responses: int = 0
    fcr_yes: int = 0
    fcr_no: int = 0
    calls_n: int = 0
    calls_sum: int = 0
    calls_sumsq: int = 0
    share_n: int = 0
    share_y: int = 0
    share_x: int = 0
    share_yy: int = 0
    share_xx: int = 0
    share_xy: int = 0
    quote_days: Mapping[float, int] = field(default_factory=dict)
    csat_n: int = 0
    csat_top2: int = 0
    nps_n: int = 0
    nps_promoters: int = 0
    nps_detractors: int = 0
    ces_n: int = 0
    ces_sum: int = 0
    ces_sumsq: int = 0

    def __post_init__(self) -> None:
        # Scoring a company builds thousands of these: skip conversions not needed.
        for name in INT_FIELDS:
            value = getattr(self, name)
            if type(value) is not int:
                object.__setattr__(self, name, _as_int(name, value))
        histogram: dict[float, int] = {}
        for days, count in (self.quote_days or {}).items():
            key = days if type(days) is float else float(days)
            if type(count) is not int:
                count = _as_int("quote_days", count)
            histogram[key] = histogram.get(key, 0) + count
        object.__setattr__(self, "quote_days", {k: c for k, c in histogram.items() if c})

    @property
    def quote_n(self) -> int:
        return sum(self.quote_days.values())

    @property
    def fcr_n(self) -> int:
        return self.fcr_yes + self.fcr_no

    @classmethod
    def empty(cls) -> AnswerStats:
        return cls()

    def __add__(self, other: AnswerStats) -> AnswerStats:
        if not isinstance(other, AnswerStats):
            return NotImplemented
        sums = {name: getattr(self, name) + getattr(other, name) for name in INT_FIELDS}
        histogram = dict(self.quote_days)
        for days, count in other.quote_days.items():
            histogram[days] = histogram.get(days, 0) + count
        return AnswerStats(quote_days=histogram, **sums)

    @classmethod
    def merge(cls, parts: Iterable[AnswerStats]) -> AnswerStats:
        """The sum of any number of stats (the empty stats for none)."""
        parts = list(parts)
        if len(parts) == 1:
            return parts[0]  # frozen: sharing it is safe
        sums = dict.fromkeys(INT_FIELDS, 0)
        histogram: dict[float, int] = {}
        for part in parts:
            for name in INT_FIELDS:
                sums[name] += getattr(part, name)
            for days, count in part.quote_days.items():
                histogram[days] = histogram.get(days, 0) + count
        return cls(quote_days=histogram, **sums)

    @classmethod
    def from_answers(cls, answers: Iterable[Answers]) -> AnswerStats:
        sums = dict.fromkeys(INT_FIELDS, 0)
        histogram: dict[float, int] = {}
        add_answers(sums, histogram, answers)
        return cls(quote_days=histogram, **sums)


def add_answers(
    sums: dict[str, int], histogram: dict[float, int], answers: Iterable[Answers], sign: int = 1
) -> None:
    """Add (``sign`` 1) or subtract (-1) the answers to running sums and a days histogram:
    the one definition of what each answer contributes (counts may pass through 0)."""
    for a in answers:
        sums["responses"] += sign
        if a.fcr == "yes":
            sums["fcr_yes"] += sign
        elif a.fcr == "no":
            sums["fcr_no"] += sign
        y, x = a.contacts_value_added, a.contacts_total
        if y is not None:
            sums["calls_n"] += sign
            sums["calls_sum"] += sign * y
            sums["calls_sumsq"] += sign * y * y
            if x is not None and x > 0:
                sums["share_n"] += sign
                sums["share_y"] += sign * y
                sums["share_x"] += sign * x
                sums["share_yy"] += sign * y * y
                sums["share_xx"] += sign * x * x
                sums["share_xy"] += sign * x * y
        if a.quote_turnaround_days is not None:
            days = float(a.quote_turnaround_days)
            histogram[days] = histogram.get(days, 0) + sign
        if a.csat is not None:
            sums["csat_n"] += sign
            sums["csat_top2"] += sign * (a.csat >= 4)
        if a.nps is not None:
            sums["nps_n"] += sign
            sums["nps_promoters"] += sign * (a.nps >= 9)
            sums["nps_detractors"] += sign * (a.nps <= 6)
        if a.ces is not None:
            sums["ces_n"] += sign
            sums["ces_sum"] += sign * a.ces
            sums["ces_sumsq"] += sign * a.ces * a.ces


STATS_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(AnswerStats))
