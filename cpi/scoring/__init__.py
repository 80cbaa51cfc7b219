"""Scoring: survey answers in, indicator values out.

Pure Python (standard library only): no Flask, no SQLAlchemy, no I/O.
The definitions follow docs/indicators.md.
"""

from cpi.scoring.catalogue import (
    ANSWER_FIELDS,
    CATALOGUE,
    INDICATORS_BY_CODE,
    Indicator,
    validate_answers,
)
from cpi.scoring.changes import Change, change_interval
from cpi.scoring.compare import (
    KpiRow,
    Scope,
    TargetRow,
    find_target,
    resolve_kpi,
    status,
    status_certain,
)
from cpi.scoring.estimates import Estimate, compute_indicator
from cpi.scoring.intervals import (
    Z,
    median_rank,
    newcombe_difference,
    t_quantile_975,
    welch_difference,
    wilson_interval,
)
from cpi.scoring.periods import Period
from cpi.scoring.scorecard import IndicatorResult, Scorecard, iso_utc, score_scope
from cpi.scoring.stats import STATS_FIELDS, Answers, AnswerStats

__all__ = [
    "ANSWER_FIELDS",
    "CATALOGUE",
    "INDICATORS_BY_CODE",
    "STATS_FIELDS",
    "Z",
    "AnswerStats",
    "Answers",
    "Change",
    "Estimate",
    "Indicator",
    "IndicatorResult",
    "KpiRow",
    "Period",
    "Scope",
    "Scorecard",
    "TargetRow",
    "change_interval",
    "compute_indicator",
    "find_target",
    "iso_utc",
    "median_rank",
    "newcombe_difference",
    "resolve_kpi",
    "score_scope",
    "status",
    "status_certain",
    "t_quantile_975",
    "validate_answers",
    "welch_difference",
    "wilson_interval",
]
