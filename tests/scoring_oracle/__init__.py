"""The pure-Python scorer as it was before the columnar one (commit bc7d318): the test oracle.

A verbatim copy of cpi/scoring (imports renamed), kept ONLY for tests: production
scores with the columnar scorer in cpi/scoring, and tests/scoring/test_scoring_columnar.py
checks it equals this one. Never import it from cpi/.

Pure Python (standard library only): no Flask, no SQLAlchemy, no I/O.
The definitions follow docs/indicators.md.
"""

from scoring_oracle.catalogue import (
    ANSWER_FIELDS,
    CATALOGUE,
    INDICATORS_BY_CODE,
    Indicator,
    validate_answers,
)
from scoring_oracle.changes import Change, change_interval
from scoring_oracle.compare import (
    KpiRow,
    Scope,
    TargetRow,
    find_target,
    resolve_kpi,
    status,
    status_certain,
)
from scoring_oracle.estimates import Estimate, compute_indicator
from scoring_oracle.intervals import (
    Z,
    median_rank,
    newcombe_difference,
    t_quantile_975,
    welch_difference,
    wilson_interval,
)
from scoring_oracle.periods import Period
from scoring_oracle.scorecard import IndicatorResult, Scorecard, iso_utc, score_scope
from scoring_oracle.stats import STATS_FIELDS, Answers, AnswerStats

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
