from decimal import Decimal

from cpi.scoring import STATS_FIELDS, Answers, AnswerStats


def test_from_answers_sums() -> None:
    stats = AnswerStats.from_answers(
        [
            Answers(fcr="yes", contacts_total=4, contacts_value_added=3, csat=5, nps=9, ces=6),
            Answers(fcr="no", contacts_total=0, contacts_value_added=0, csat=3, nps=6, ces=2),
            Answers(fcr="na", contacts_value_added=2, quote_turnaround_days=1.5, nps=7),
            Answers(),
        ]
    )
    assert stats.responses == 4
    assert (stats.fcr_yes, stats.fcr_no) == (1, 1)
    assert (stats.calls_n, stats.calls_sum, stats.calls_sumsq) == (3, 5, 13)
    assert (stats.share_n, stats.share_y, stats.share_x) == (1, 3, 4)
    assert (stats.share_yy, stats.share_xx, stats.share_xy) == (9, 16, 12)
    assert stats.quote_days == {1.5: 1}
    assert (stats.csat_n, stats.csat_top2) == (2, 1)
    assert (stats.nps_n, stats.nps_promoters, stats.nps_detractors) == (3, 1, 1)
    assert (stats.ces_n, stats.ces_sum, stats.ces_sumsq) == (2, 8, 40)


def test_addition_is_pure_and_matches_pooling() -> None:
    a_answers = [Answers(csat=5, quote_turnaround_days=2.0), Answers(nps=3)]
    b_answers = [Answers(csat=1, quote_turnaround_days=2.0), Answers(ces=4)]
    a = AnswerStats.from_answers(a_answers)
    b = AnswerStats.from_answers(b_answers)
    before = a.quote_days.copy()
    assert a + b == AnswerStats.from_answers(a_answers + b_answers)
    assert a.quote_days == before
    assert AnswerStats.merge([a, b, AnswerStats.empty()]) == a + b
    assert AnswerStats.merge([]) == AnswerStats.empty()


def test_keyword_construction_accepts_sql_types() -> None:
    stats = AnswerStats(
        responses=3, csat_n=Decimal(3), csat_top2=None, quote_days={Decimal("2.5"): Decimal(2)}
    )
    assert stats.csat_n == 3 and isinstance(stats.csat_n, int)
    assert stats.csat_top2 == 0
    assert stats.quote_days == {2.5: 2}
    assert "quote_days" in STATS_FIELDS and len(STATS_FIELDS) == 21
