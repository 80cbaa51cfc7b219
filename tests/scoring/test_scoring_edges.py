"""Small samples and degenerate answers."""

import pytest

from cpi.scoring import INDICATORS_BY_CODE, Answers, AnswerStats, compute_indicator


def score(code: str, answers: list[Answers]):  # type: ignore[no-untyped-def]
    return compute_indicator(INDICATORS_BY_CODE[code], AnswerStats.from_answers(answers))


@pytest.mark.parametrize("code", list(INDICATORS_BY_CODE))
def test_no_answers(code: str) -> None:
    est = score(code, [])
    assert (est.n, est.value, est.ci_low, est.ci_high) == (0, None, None, None)


def test_all_not_applicable_counts_nothing() -> None:
    est = score("fcr", [Answers(fcr="na")] * 8)
    assert (est.n, est.value, est.ci_low) == (0, None, None)


def test_all_yes_and_all_no() -> None:
    yes = score("fcr", [Answers(fcr="yes")] * 5)
    assert yes.value == 100.0 and yes.ci_high == 100.0 and 0 < yes.ci_low < 100
    no = score("fcr", [Answers(fcr="no")] * 5)
    assert no.value == 0.0 and no.ci_low == 0.0 and 0 < no.ci_high < 100


def test_one_answer() -> None:
    assert score("ces", [Answers(ces=5)]).ci_low is None
    assert score("value_added_calls", [Answers(contacts_value_added=2)]).ci_low is None
    share = score("value_added_share", [Answers(contacts_total=4, contacts_value_added=1)])
    assert (share.value, share.ci_low) == (25.0, None)
    fcr = score("fcr", [Answers(fcr="yes")])
    assert fcr.n == 1 and fcr.ci_low is not None
    nps = score("nps", [Answers(nps=10)])
    assert (nps.value, nps.ci_low, nps.ci_high) == (100.0, 100.0, 100.0)


def test_two_answers_give_t_interval_clipped_to_range() -> None:
    est = score("ces", [Answers(ces=7), Answers(ces=6)])
    assert est.value == 6.5
    assert est.ci_high == 7.0  # clipped to the 1-7 scale
    assert est.ci_low is not None and est.ci_low >= 1.0


def test_identical_answers_give_zero_width_mean_interval() -> None:
    est = score("ces", [Answers(ces=4)] * 3)
    assert (est.value, est.ci_low, est.ci_high) == (4.0, 4.0, 4.0)


@pytest.mark.parametrize(("n", "has_interval"), [(1, False), (2, False), (5, False), (6, True)])
def test_median_interval_needs_six(n: int, has_interval: bool) -> None:
    est = score("quote_turnaround", [Answers(quote_turnaround_days=float(d)) for d in range(n)])
    assert est.n == n
    assert (est.ci_low is not None) is has_interval
    if n == 6:
        assert (est.value, est.ci_low, est.ci_high) == (2.5, 0.0, 5.0)


def test_median_with_ties() -> None:
    days = [3.0, 3.0, 3.0, 3.0, 1.0, 9.0, 3.0, 2.0]
    est = score("quote_turnaround", [Answers(quote_turnaround_days=d) for d in days])
    assert est.value == 3.0
    assert est.ci_low is not None and est.ci_low <= 3.0 <= (est.ci_high or 0)
    even = score(
        "quote_turnaround", [Answers(quote_turnaround_days=d) for d in [1.0, 2.0, 4.0, 8.0]]
    )
    assert even.value == 3.0


def test_zero_totals_are_left_out_of_the_share() -> None:
    answers = [Answers(contacts_total=0, contacts_value_added=0)] * 4
    share = score("value_added_share", answers)
    assert (share.n, share.value) == (0, None)
    calls = score("value_added_calls", answers)
    assert (calls.n, calls.value) == (4, 0.0)


def test_value_added_without_total_counts_for_calls_only() -> None:
    answers = [Answers(contacts_value_added=3), Answers(contacts_total=5, contacts_value_added=1)]
    assert score("value_added_calls", answers).value == 2.0
    assert score("value_added_share", answers).n == 1


def test_nps_all_detractors_clipped() -> None:
    est = score("nps", [Answers(nps=0)] * 3 + [Answers(nps=7)])
    assert est.value == -75.0
    assert est.ci_low is not None and est.ci_low >= -100.0
