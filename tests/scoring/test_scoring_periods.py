import pytest

from cpi.scoring import Period


def test_parse_and_str_round_trip() -> None:
    assert str(Period.parse("2026-Q3")) == "2026-Q3"
    assert str(Period.parse("2026")) == "2026"
    assert Period.parse(" 2026-q1 ") == Period(2026, 1)


@pytest.mark.parametrize(
    "text", ["2026-Q5", "26Q1", "2026Q1", "2026-Q0", "", "Q1-2026", "20261", "0000", "2026-"]
)
def test_parse_rejects_bad_periods(text: str) -> None:
    with pytest.raises(ValueError, match="period must look like 2026-Q3 or 2026"):
        Period.parse(text)


def test_previous_crosses_year_boundary() -> None:
    assert Period.parse("2026-Q1").previous() == Period.parse("2025-Q4")
    assert Period.parse("2026-Q3").previous() == Period.parse("2026-Q2")
    assert Period.parse("2026").previous() == Period.parse("2025")


def test_quarters_and_is_year() -> None:
    year = Period.parse("2026")
    assert year.is_year
    assert [str(q) for q in year.quarters()] == ["2026-Q1", "2026-Q2", "2026-Q3", "2026-Q4"]
    q = Period.parse("2026-Q2")
    assert not q.is_year
    assert q.quarters() == (q,)


def test_ordering() -> None:
    periods = [Period.parse(p) for p in ["2026-Q2", "2025-Q4", "2026-Q1", "2025"]]
    assert [str(p) for p in sorted(periods)] == ["2025", "2025-Q4", "2026-Q1", "2026-Q2"]
    assert Period.parse("2025-Q4") < Period.parse("2026-Q1")
    assert Period.parse("2026-Q1") >= Period.parse("2026-Q1")
