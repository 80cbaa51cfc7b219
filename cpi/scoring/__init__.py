"""Scoring: survey answers in, indicator values out.

Pure (Python and numpy): no Flask, no SQLAlchemy, no I/O. The definitions follow
docs/indicators.md.

The scorer is columnar everywhere: every formula (values, intervals, KPI and target
resolution, status, certainty, change intervals) is written once, over columns of
scopes (``SumsColumns`` in, ``ScoreColumns`` out, ``score_scopes``). One scope is a
column of length one: ``score_scope``, ``compute_indicator``, ``change_interval``,
``wilson_interval`` ... are thin wrappers, not second definitions. Results stay
columns; ``IndicatorResult``/``Scorecard`` objects are built only for the scopes a
caller shows (``ScoreColumns.card``). The pure-Python scorer this replaced is kept
under tests/scoring_oracle/ as the test oracle only.
"""

from cpi.scoring.catalogue import (
    ANSWER_FIELDS,
    CATALOGUE,
    INDICATORS_BY_CODE,
    Indicator,
    validate_answers,
)
from cpi.scoring.changes import Change, Changes, change_columns, change_interval
from cpi.scoring.columns import SumsColumns
from cpi.scoring.compare import (
    KpiIndex,
    KpiRow,
    Scope,
    TargetIndex,
    TargetRow,
    find_target,
    resolve_kpi,
)
from cpi.scoring.estimates import (
    Estimate,
    Estimates,
    answer_counts,
    compute_indicator,
    compute_indicators,
    estimate_columns,
)
from cpi.scoring.intervals import (
    Z,
    median_rank,
    newcombe_difference,
    t_quantile_975,
    welch_difference,
    wilson_interval,
)
from cpi.scoring.periods import Period
from cpi.scoring.scorecard import (
    IndicatorColumns,
    IndicatorResult,
    Scorecard,
    ScoreColumns,
    iso_utc,
    score_scope,
    score_scopes,
)
from cpi.scoring.stats import INT_FIELDS, STATS_FIELDS, Answers, AnswerStats
from cpi.scoring.status import status, status_certain

__all__ = [
    "compute_indicators",
    "answer_counts",
    "INT_FIELDS",
    "score_scopes",
    "estimate_columns",
    "change_columns",
    "ScoreColumns",
    "IndicatorColumns",
    "Estimates",
    "TargetIndex",
    "KpiIndex",
    "SumsColumns",
    "Changes",
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
