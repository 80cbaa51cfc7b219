"""The headline's rules (indicators.md, Headlines) on scorecards built from answers."""

from __future__ import annotations

from cpi.scorecards import display
from cpi.scorecards.headline import NO_CHANGE, change_size, gap_size, headline
from cpi.scoring import Answers, AnswerStats, KpiRow, Scope, score_scope

ACME = Scope("account", "ACME", "Acme", frozenset({"ACME"}), "industrial")


def stats(n: int, **answer: object) -> AnswerStats:
    return AnswerStats.from_answers([Answers(**answer)] * n)  # type: ignore[arg-type]


def mix(*groups: tuple[int, dict[str, object]]) -> AnswerStats:
    return AnswerStats.merge(stats(n, **answer) for n, answer in groups)


def test_only_significant_changes_ranked_by_share_of_the_range() -> None:
    # FCR: 40 of 40 yes after 20 of 40 (+50 pts of 100: 0.5, significant);
    # CES: all 7 after all 4 (+3 of 6: 0.5 too, significant, no spread);
    # NPS: all promoters after all detractors (+200 of 200: 1.0, significant);
    # CSAT: 3 of 6 top-2 after 2 of 6 (+16.7 pts, not significant)
    now = mix(
        (40, {"fcr": "yes", "nps": 10, "ces": 7}),
        (3, {"csat": 5}),
        (3, {"csat": 1}),
    )
    before = mix(
        (20, {"fcr": "yes", "nps": 0, "ces": 4}),
        (20, {"fcr": "no", "nps": 0, "ces": 4}),
        (2, {"csat": 5}),
        (4, {"csat": 1}),
    )
    card = score_scope(ACME, "2026-Q3", {"2026-Q3": now, "2026-Q2": before}, [], [])
    csat = card.indicator("csat")
    assert csat.delta is not None and csat.delta > 10 and not csat.delta_significant
    h = headline(card)
    assert h.improved_codes == ("nps", "ces")  # 1.0, then 0.5 (ties: by code, "ces" < "fcr")
    assert change_size(card.indicator("fcr")) == change_size(card.indicator("ces")) == 0.5
    assert h.slipped == () and h.no_change == NO_CHANGE
    assert h.improved[0].startswith("Net Promoter Score up 200.0 pts, from -100.0 to 100.0")
    # the previous figure hidden from staff: not quoted
    assert "nps" not in headline(card, frozenset({"nps"})).improved_codes


def test_counts_and_days_relative_to_the_previous_value_and_lower_is_better() -> None:
    # quote turnaround 10 → 2 days (intervals apart): improved by 80% of the previous value
    now = mix((10, {"quote_turnaround_days": 2.0, "contacts_total": 9, "contacts_value_added": 1}))
    before = mix(
        (10, {"quote_turnaround_days": 10.0, "contacts_total": 9, "contacts_value_added": 2})
    )
    card = score_scope(ACME, "2026-Q3", {"2026-Q3": now, "2026-Q2": before}, [], [])
    quote, calls = card.indicator("quote_turnaround"), card.indicator("value_added_calls")
    assert quote.delta_significant and calls.delta_significant
    assert change_size(quote) == 0.8  # −8 d of 10 d, lower is better
    assert change_size(calls) == -0.5  # −1 of 2 contacts
    h = headline(card)
    assert h.improved_codes == ("quote_turnaround",)
    assert h.slipped_codes[0] == "value_added_calls"
    assert "down 8.0 d" in h.improved[0]


def test_largest_gap_only_when_significant_and_relative_to_the_kpi() -> None:
    now = mix(
        (30, {"fcr": "yes", "quote_turnaround_days": 6.0}),
        (30, {"fcr": "no", "quote_turnaround_days": 6.0}),
    )
    kpis = [
        KpiRow("fcr", "2026-Q3", "ACME", None, 80.0),  # −30 pts of 100: 0.3
        KpiRow("quote_turnaround", "2026-Q3", "ACME", None, 2.0),  # +4 d of 2 d: 2.0
    ]
    card = score_scope(ACME, "2026-Q3", {"2026-Q3": now}, kpis, [])
    assert gap_size(card.indicator("quote_turnaround")) == 2.0
    h = headline(card)
    assert h.largest_gap_code == "quote_turnaround"
    assert (h.improved, h.slipped) == ((), ())  # no previous quarter: no change at all
    # a KPI inside the customers' interval is no headline
    close = [KpiRow("fcr", "2026-Q3", "ACME", None, 52.0)]
    card = score_scope(ACME, "2026-Q3", {"2026-Q3": now}, close, [])
    assert not card.indicator("fcr").gap_significant
    assert headline(card).largest_gap is None


def test_too_few_answers_never_make_a_headline() -> None:
    now, before = stats(4, fcr="yes", nps=10), stats(40, fcr="no", nps=0)
    card = score_scope(ACME, "2026-Q3", {"2026-Q3": now, "2026-Q2": before}, [], [])
    assert headline(card).empty
    assert display.off_target(card) == "no data"
    card = score_scope(ACME, "2026-Q3", {"2026-Q3": before}, [], [])
    assert display.off_target(card) == "no targets"
