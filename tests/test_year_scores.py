"""Years get targets (the mean of their quarters' targets) and statuses, end to end."""

from __future__ import annotations

import json

import pytest

from cpi.scoring import INDICATORS_BY_CODE, status, status_certain


def card(runner, period: str, *scope: str) -> dict:  # type: ignore[no-untyped-def,type-arg]
    result = runner.invoke("score", "--period", period, *scope, "--format", "json")
    assert result.exit_code == 0, result.output
    return {i["code"]: i for i in json.loads(result.output)["indicators"]}


def test_year_targets_and_statuses_from_the_quarters(runner, write_csv) -> None:  # type: ignore[no-untyped-def]
    assert runner.invoke("demo").exit_code == 0
    # the demo sets 80 (Healthcare: 85 ± 5) every quarter; make the quarters differ
    targets = write_csv(
        "t.csv",
        "indicator,period,segment,target,tolerance\n"
        "fcr,2026-Q1,,60,\n"
        "fcr,2026-Q2,Healthcare,95,2\n"
        "nps,2026-Q3,,10,1\n",
    )
    assert runner.invoke("import", "targets", str(targets)).exit_code == 0

    company = card(runner, "2026")
    fcr = company["fcr"]
    assert fcr["target"] == pytest.approx((60 + 80 + 80) / 3)
    assert fcr["tolerance"] == pytest.approx((6 + 8 + 8) / 3)
    assert company["nps"]["target"] == pytest.approx((30 + 30 + 10) / 3)
    assert company["nps"]["tolerance"] == pytest.approx((3 + 3 + 1) / 3)

    healthcare = card(runner, "2026", "--segment", "Healthcare")
    assert healthcare["fcr"]["target"] == pytest.approx((85 + 95 + 85) / 3)
    assert healthcare["fcr"]["tolerance"] == pytest.approx((5 + 2 + 5) / 3)

    # 2025: only Q3 and Q4 were surveyed and have targets
    assert card(runner, "2025")["fcr"]["target"] == pytest.approx(80.0)

    for scores in (company, healthcare):
        for code, item in scores.items():
            indicator = INDICATORS_BY_CODE[code]
            assert item["target"] is not None, code
            expected = status(
                indicator, item["n"], item["value"], item["target"], item["tolerance"]
            )
            assert item["status"] == expected in ("green", "amber", "red"), code
            assert item["status_certain"] is status_certain(
                indicator, expected, item["ci_low"], item["ci_high"], item["target"],
                item["tolerance"],
            )  # fmt: skip
            # a year is compared with the year before, with an interval for the change
            if code != "quote_turnaround":
                assert item["delta_low"] <= item["delta"] <= item["delta_high"], code
