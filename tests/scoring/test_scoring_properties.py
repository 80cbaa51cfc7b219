"""Property: any valid answers give an interval around the value, inside the range."""

from hypothesis import given, settings
from hypothesis import strategies as st

from cpi.scoring import (
    CATALOGUE,
    Answers,
    AnswerStats,
    KpiRow,
    Scope,
    TargetRow,
    compute_indicator,
    score_scope,
    validate_answers,
)


@st.composite
def answers(draw: st.DrawFn) -> Answers:
    total = draw(st.none() | st.integers(0, 999))
    added_max = 999 if total is None else total
    return Answers(
        fcr=draw(st.sampled_from([None, "yes", "no", "na"])),
        contacts_total=total,
        contacts_value_added=draw(st.none() | st.integers(0, added_max)),
        quote_turnaround_days=draw(
            st.none() | st.floats(0, 365, allow_nan=False) | st.integers(0, 365).map(float)
        ),
        csat=draw(st.none() | st.integers(1, 5)),
        nps=draw(st.none() | st.integers(0, 10)),
        ces=draw(st.none() | st.integers(1, 7)),
    )


@settings(max_examples=300, deadline=None)
@given(st.lists(answers(), max_size=40))
def test_interval_contains_value_and_stays_in_range(sample: list[Answers]) -> None:
    stats = AnswerStats.from_answers(sample)
    for indicator in CATALOGUE:
        est = compute_indicator(indicator, stats)
        if est.value is None:
            assert est.n == 0 and est.ci_low is None and est.ci_high is None
            continue
        assert est.n > 0
        assert indicator.lower is not None and indicator.lower <= est.value
        assert indicator.upper is not None and est.value <= indicator.upper
        if est.ci_low is not None:
            assert est.ci_high is not None
            assert indicator.lower <= est.ci_low <= est.value <= est.ci_high <= indicator.upper


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.sampled_from(["fcr", "contacts_total", "contacts_value_added",
       "quote_turnaround_days", "csat", "nps", "ces"]),
       st.none() | st.text(max_size=6) | st.integers(-5, 1500) | st.floats()))  # fmt: skip
def test_validation_never_crashes_and_names_fields(raw: dict[str, object]) -> None:
    parsed, errors = validate_answers(raw)
    for field, message in errors.items():
        assert message.startswith(f"{field}: ")
        assert getattr(parsed, field) is None
    AnswerStats.from_answers([parsed])


RAW_CELL = st.none() | st.text(max_size=6) | st.integers(-5, 1500) | st.floats()
RAW_FIELDS = ["fcr", "contacts_total", "contacts_value_added", "quote_turnaround_days",
              "csat", "nps", "ces"]  # fmt: skip
QUARTERS = st.builds(lambda y, q: f"{y}-Q{q}", st.integers(2025, 2026), st.integers(1, 4))


@settings(max_examples=150, deadline=None)
@given(
    respondents=st.lists(
        st.tuples(QUARTERS, st.dictionaries(st.sampled_from(RAW_FIELDS), RAW_CELL)), max_size=30
    ),
    period=QUARTERS | st.sampled_from(["2025", "2026"]),
    kpi_values=st.lists(st.floats(0, 100) | st.none(), max_size=7),
    min_n=st.integers(0, 8),
)
def test_whatever_the_validators_accept_scores_without_crashing(
    respondents: list[tuple[str, dict[str, object]]],
    period: str,
    kpi_values: list[float | None],
    min_n: int,
) -> None:
    """Issue 7 item 38: raw input through validate_answers, then a whole scorecard."""
    by_quarter: dict[str, list[Answers]] = {}
    for quarter, raw in respondents:
        parsed, _errors = validate_answers(raw)
        by_quarter.setdefault(quarter, []).append(parsed)
    stats = {quarter: AnswerStats.from_answers(answers) for quarter, answers in by_quarter.items()}
    kpis = [
        KpiRow(indicator.code, period, "A-1", None, value, None, None)
        for indicator, value in zip(CATALOGUE, kpi_values, strict=False)
    ]
    targets = [TargetRow(indicator.code, period, None, 50.0) for indicator in CATALOGUE]
    scope = Scope("account", "A-1", "Acme", frozenset({"A-1"}), "Retail")
    card = score_scope(scope, period, stats, kpis, targets, min_n=min_n)
    assert [result.code for result in card.indicators] == [i.code for i in CATALOGUE]
    for indicator, result in zip(CATALOGUE, card.indicators, strict=True):
        if result.value is None:
            assert result.n == 0
            continue
        assert indicator.lower is not None and indicator.upper is not None
        assert indicator.lower <= result.value <= indicator.upper
        if result.ci_low is not None and result.ci_high is not None:
            assert indicator.lower <= result.ci_low <= result.value <= result.ci_high
            assert result.ci_high <= indicator.upper
        assert (result.status == "insufficient") == (result.n < min_n)
