"""Property: any valid answers give an interval around the value, inside the range."""

from hypothesis import given, settings
from hypothesis import strategies as st

from cpi.scoring import CATALOGUE, Answers, AnswerStats, compute_indicator, validate_answers


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
