"""Enablement initiatives: statistics with a known effect, ROI arithmetic, the CLI and its
JSON, bad input, and who sees what."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from datetime import date
from pathlib import Path

import numpy as np
import pytest
from initiatives_support import (
    OTHER_AMS,
    TREATED_AM,
    TRUE_EFFECT,
    seed_database,
    simulate_fcr,
)
from sqlalchemy import func, select

from cpi.initiatives import effects, roi
from cpi.initiatives.models import Initiative, InitiativeCost
from cpi.initiatives.operations import (
    CostLine,
    InitiativeError,
    InitiativeNotFound,
    Viewer,
    create_initiative,
    get_initiative,
    list_initiatives,
    record_case_study,
    review_case_study,
)
from cpi.initiatives.report import build_report, check_windows, windows
from cpi.outcomes.models import Outcome
from cpi.scoring import (
    CATALOGUE,
    INDICATORS_BY_CODE,
    Answers,
    AnswerStats,
    Period,
    compute_indicator,
)

# -- statistics --------------------------------------------------------------------


@pytest.mark.slow
def test_interval_covers_a_known_effect_and_rarely_calls_a_null_one_significant() -> None:
    runs = 40  # benchmarks/bench_initiatives.py runs the full 200
    covered = sum(
        r.low is not None and r.low <= TRUE_EFFECT <= r.high  # type: ignore[operator]
        for r in (simulate_fcr(seed, TRUE_EFFECT) for seed in range(runs))
    )
    false_positives = sum(simulate_fcr(1000 + seed, 0.0).significant for seed in range(runs))
    assert covered >= 0.9 * runs
    assert false_positives <= 0.1 * runs


def test_a_large_effect_is_significant_and_a_seed_repeats_exactly() -> None:
    first = simulate_fcr(7, 30.0, treated=30, untreated=30)
    assert first.significant and first.low is not None and first.low > 0
    assert simulate_fcr(7, 30.0, treated=30, untreated=30) == first


def _random_answers(rng: np.random.Generator, n: int) -> list[Answers]:
    return [
        Answers(
            fcr=str(rng.choice(["yes", "no", "na"])),  # type: ignore[arg-type]
            contacts_total=int(t), contacts_value_added=int(rng.integers(0, t + 1)),
            quote_turnaround_days=float(rng.choice([0.5, 1, 2, 2.5, 4, 7])),
            csat=int(rng.integers(1, 6)), nps=int(rng.integers(0, 11)), ces=int(rng.integers(1, 8)),
        )
        for t in rng.integers(0, 9, n)
    ]  # fmt: skip


@pytest.mark.parametrize("code", [i.code for i in CATALOGUE])
def test_pooled_values_follow_the_cpi_definitions(code: str) -> None:
    """The bootstrap's value function, on the pooled sums, equals compute_indicator."""
    rng = np.random.default_rng(3)
    accounts = [AnswerStats.from_answers(_random_answers(rng, int(n))) for n in (3, 7, 4, 9)]
    indicator = INDICATORS_BY_CODE[code]
    days = effects.quote_days(accounts)
    measure = effects.indicator_measure(indicator, days)
    rows = effects.as_matrix([effects.indicator_sums(indicator, s, days) for s in accounts],
                             measure.features)  # fmt: skip
    value, n = measure.value(rows.sum(axis=0, keepdims=True))
    expected = compute_indicator(indicator, AnswerStats.merge(accounts))
    assert int(n[0]) == expected.n
    assert value[0] == pytest.approx(expected.value)


def test_thin_cells_say_not_enough_answers() -> None:
    measure = effects.indicator_measure(INDICATORS_BY_CODE["fcr"])
    thin = np.array([[1.0, 2.0], [1.0, 2.0]])
    fine = np.array([[5.0, 8.0], [4.0, 8.0], [6.0, 9.0]])
    result = effects.difference_in_differences(measure, thin, thin, fine, fine, min_n=5)
    assert result.did is None and result.reason == effects.NOT_ENOUGH_ANSWERS
    assert result.treated_before.value is None and result.untreated_before.value is not None
    one = np.array([[9.0, 20.0]])
    alone = effects.difference_in_differences(measure, one, one, fine, fine, min_n=5)
    assert alone.did is None and alone.reason == effects.NOT_ENOUGH_ACCOUNTS


def test_windows_exclude_the_initiative_quarters_and_check_their_sizes() -> None:
    before, after = windows(date(2025, 10, 1), date(2025, 12, 31), 2, 2)
    assert [str(q) for q in before] == ["2025-Q2", "2025-Q3"]
    assert [str(q) for q in after] == ["2026-Q1", "2026-Q2"]
    with pytest.raises(InitiativeError, match="^before: "):
        windows(date(2025, 10, 1), date(2025, 12, 31), 0, 2)
    with pytest.raises(InitiativeError, match="^end: "):
        windows(date(2026, 1, 2), date(2026, 1, 1), 2, 2)
    with pytest.raises(InitiativeError, match=r"^after: the after window \(2026-Q1\) overlaps"):
        check_windows([Period.parse("2025-Q4"), Period.parse("2026-Q1")], [Period.parse("2026-Q1")])


# -- ROI ---------------------------------------------------------------------------


def test_roi_of_the_interfaces_example_costs_with_hours() -> None:
    """Fees 20,000 + 160 h x 75 = 32,000; case studies 90,000 (hand-computed)."""
    result = roi.compute_roi(20000.0 + 160 * 75.0, [50000.0, 40000.0])
    assert result.costs == 32000.0
    assert result.benefits == 90000.0
    assert result.roi_percent == pytest.approx(181.25)
    assert result.return_multiple == pytest.approx(2.8125)
    assert result.roi_low is None  # no measured benefit: nothing to carry


def test_roi_with_a_measured_benefit_carries_the_interval() -> None:
    # Renewal +5 points (interval 1 to 9) over 40 treated account-quarters, 10,000 each:
    # 0.05 x 40 x 10,000 = 20,000 (4,000 to 36,000). Costs 8,000 + 50 h x 40 = 10,000.
    measured = roi.measured_benefit("renewed", 5.0, 1.0, 9.0, units=40, value_per_unit=10000.0)
    assert (measured.value, measured.low, measured.high) == pytest.approx((20000, 4000, 36000))
    result = roi.compute_roi(8000.0 + 50 * 40.0, [5000.0], measured)
    assert result.benefits == pytest.approx(25000.0)
    assert result.roi_percent == pytest.approx(150.0)  # (25,000 − 10,000) / 10,000
    assert (result.roi_low, result.roi_high) == pytest.approx((-10.0, 310.0))
    assert (result.multiple_low, result.multiple_high) == pytest.approx((0.9, 4.1))


def test_a_fall_in_churn_is_a_gain_and_no_costs_means_no_roi() -> None:
    measured = roi.measured_benefit("churned", -2.0, -3.0, -1.0, units=100, value_per_unit=500.0)
    assert (measured.value, measured.low, measured.high) == pytest.approx((1000, 500, 1500))
    result = roi.compute_roi(0.0, [100.0])
    assert result.roi_percent is None and result.return_multiple is None


# -- the database, operations and command line ---------------------------------------


@pytest.fixture
def seeded(db):  # type: ignore[no-untyped-def]
    seed_database(db)
    db.commit()
    return db


def _create(runner, *extra: str, expect_exit: int | str = 0):  # type: ignore[no-untyped-def]
    args = [
        "initiative", "create", "--name", "FCR course", "--kind", "training",
        "--start", "2025-10-01", "--end", "2025-12-31", "--indicators", "fcr,csat",
        "--participants", TREATED_AM, "--fees", "20000", "--hours", "160",
        "--hourly-cost", "75", *extra,
    ]  # fmt: skip
    return runner.invoke(*args, expect_exit=expect_exit)


def test_cli_create_list_show_and_json_report(seeded, runner) -> None:  # type: ignore[no-untyped-def]
    created = _create(runner)
    initiative_id = int(created.output.strip())
    listing = runner.invoke("initiative", "list").output
    assert "FCR course" in listing and "32,000.00" in listing
    shown = runner.invoke("initiative", "show", str(initiative_id)).output
    assert TREATED_AM in shown and "160 h x 75.00 = 12,000.00" in shown

    output = runner.invoke("initiative", "report", str(initiative_id), "--format", "json").output
    report = json.loads(output)
    assert report["initiative"] == {**report["initiative"], "id": initiative_id,
                                    "name": "FCR course", "start": "2025-10-01",
                                    "end": "2025-12-31"}  # fmt: skip
    assert report["before"] == ["2025-Q2", "2025-Q3"] and report["after"] == ["2026-Q1", "2026-Q2"]
    fcr = report["effects"][0]
    for key in ("indicator", "treated_before", "treated_after", "untreated_before",
                "untreated_after", "did", "did_low", "did_high", "significant",
                "n_treated_accounts", "n_untreated_accounts", "pretrend_warning"):  # fmt: skip
        assert key in fcr
    assert fcr["indicator"] == "fcr" and fcr["significant"] is True
    assert fcr["did"] == pytest.approx(
        (fcr["treated_after"] - fcr["treated_before"])
        - (fcr["untreated_after"] - fcr["untreated_before"])
    )
    assert fcr["did_low"] < 25.0 < fcr["did_high"]
    assert (fcr["n_treated_accounts"], fcr["n_untreated_accounts"]) == (8, 16)
    assert fcr["pretrend_warning"] is False
    assert report["costs"] == {**report["costs"], "fees": 20000.0, "hours": 160.0,
                               "hourly_cost": 75.0, "total": 32000.0}  # fmt: skip
    assert report["benefits"] == {**report["benefits"], "case_studies": 0.0, "measured": None,
                                  "total": 0.0}  # fmt: skip
    assert report["roi_percent"] == pytest.approx(-100.0) and report["return_multiple"] == 0.0
    assert [p["period"] for p in report["trends"]["fcr"]] == [
        "2025-Q2", "2025-Q3", "2025-Q4", "2026-Q1", "2026-Q2",
    ]  # fmt: skip

    table = runner.invoke("initiative", "report", str(initiative_id)).output
    assert "significant" in table and "ROI: -100.0%" in table


def test_only_approved_case_studies_count(seeded, runner, app) -> None:  # type: ignore[no-untyped-def]
    initiative_id = int(_create(runner).output.strip())
    with app.app_context():
        initiative = get_initiative(seeded, initiative_id, Viewer.cli())
        common = {"actor": "lead@example.com", "participant_email": TREATED_AM,
                  "happened_on": "2026-02-01"}  # fmt: skip
        approved = record_case_study(seeded, initiative, title="Renewal saved", kind="new_revenue",
                                     amount="50000", account_id="A0-01", **common)  # fmt: skip
        hours = record_case_study(
            seeded,
            initiative,
            title="Escalations avoided",
            kind="hours_avoided",
            hours=100,
            hourly_rate=400,
            **common,
        )
        record_case_study(seeded, initiative, title="Not yet reviewed", kind="direct_savings",
                          amount=999999, **common)  # fmt: skip
        rejected = record_case_study(seeded, initiative, title="Rejected", kind="direct_savings",
                                     amount=77777, **common)  # fmt: skip
        review_case_study(seeded, approved, actor="lead@example.com", approve=True)
        review_case_study(seeded, hours, actor="lead@example.com", approve=True)
        review_case_study(seeded, rejected, actor="lead@example.com", approve=False)
        seeded.commit()
    report = json.loads(
        runner.invoke("initiative", "report", str(initiative_id), "--format", "json").output
    )
    assert report["benefits"]["case_studies"] == 90000.0  # 50,000 + 100 h x 400
    assert report["roi_percent"] == pytest.approx(181.25)
    assert report["return_multiple"] == pytest.approx(2.8125)
    assert sorted(s["status"] for s in report["case_studies"]) == [
        "approved", "approved", "pending", "rejected",
    ]  # fmt: skip


BAD_CREATE = [
    (("--start", "2026-01-01", "--end", "2025-12-31"), "end: 2025-12-31 is before the start"),
    (("--participants", "nobody@example.com"), "participants: 'nobody@example.com' is not an"),
    (("--participants", ",".join((TREATED_AM, *OTHER_AMS))), "no untreated accounts are left"),
    (("--fees", "-5"), "fees: must not be negative"),
    (("--fees", "lots"), "'lots' is not a number"),
    (("--hours", "10", "--hourly-cost", ""), "hourly_cost"),
    (("--indicators", "fcr,speed"), "indicators: 'speed' is not one of"),
    (("--kind", "party"), "kind: must be one of"),
    (("--start", "2025-13-01"), "start: '2025-13-01' is not a date"),
]


@pytest.mark.parametrize(("extra", "message"), BAD_CREATE)
def test_bad_initiatives_are_refused_naming_the_field(seeded, runner, extra, message) -> None:  # type: ignore[no-untyped-def]
    result = _create(runner, *extra, expect_exit=1)
    assert message in result.output
    assert len(result.output.strip().splitlines()) == 1
    seeded.rollback()
    assert seeded.scalar(select(func.count()).select_from(Initiative)) == 0
    assert seeded.scalar(select(func.count()).select_from(InitiativeCost)) == 0


def test_cost_and_participant_csv_imports_are_all_or_nothing(seeded, runner, write_csv) -> None:  # type: ignore[no-untyped-def]
    initiative_id = str(int(_create(runner).output.strip()))
    header = "kind,description,amount,hours,hourly_cost\n"
    lines = "materials,Workbooks,1500,,\nhours,Coaching,,12,abc\nfees,Venue,-3,,\n"
    bad = write_csv("costs.csv", header + lines)
    result = runner.invoke("initiative", "import-costs", initiative_id, str(bad), expect_exit=1)
    assert "line 3: hourly_cost: 'abc' is not a number" in result.output
    assert "line 4: amount: must not be negative" in result.output
    seeded.rollback()
    assert seeded.scalar(select(func.count()).select_from(InitiativeCost)) == 2  # from create
    good = write_csv("costs2.csv", "kind,description,amount,hours,hourly_cost\n"
                     "materials,Workbooks,1500,,\nhours,Coaching,,12,80\n")  # fmt: skip
    assert "2 cost lines added" in runner.invoke("initiative", "import-costs", initiative_id,
                                                 str(good)).output  # fmt: skip
    shown = runner.invoke("initiative", "show", initiative_id).output
    assert "34,460.00" in shown.splitlines()[-1]  # 32,000 + 1,500 + 12 x 80

    people = write_csv("p.csv", f"email\n{OTHER_AMS[0]}\nghost@example.com\n")
    result = runner.invoke("initiative", "import-participants", initiative_id, str(people),
                           expect_exit=1)  # fmt: skip
    assert "line 3: email: 'ghost@example.com' is not an account manager" in result.output
    people = write_csv("p2.csv", f"email\n{OTHER_AMS[0]}\n")
    assert (
        "1 participants added"
        in runner.invoke("initiative", "import-participants", initiative_id, str(people)).output
    )


OUTCOMES_HEADER = (
    "account_id,period,renewed,churned,revenue,expansion_revenue,referrals,cost_to_serve\n"
)
BAD_OUTCOMES = [
    ("NOPE-1,2025-Q3,yes,no,1,1,1,1\n", "line 2: account_id: no account 'NOPE-1'"),
    ("A0-00,2025,yes,no,1,1,1,1\n", "line 2: period: '2025' must be a quarter"),
    ("A0-00,2999-Q1,yes,no,1,1,1,1\n", "line 2: period: '2999-Q1' has not started yet"),
    ("A0-00,2025-Q3,maybe,no,1,1,1,1\n", "line 2: renewed: 'maybe' must be yes or no"),
    ("A0-00,2025-Q3,yes,no,-10,1,1,1\n", "line 2: revenue: must not be negative"),
    ("A0-00,2025-Q3,yes,no,1,1,1.5,1\n", "line 2: referrals: '1.5' must be a whole number"),
]


@pytest.mark.parametrize(("row", "message"), BAD_OUTCOMES)
def test_bad_outcomes_name_the_line_and_field_and_write_nothing(
    seeded, runner, write_csv, row, message
) -> None:  # type: ignore[no-untyped-def]
    good = "A0-01,2025-Q3,yes,no,100,10,1,5\n"
    path = write_csv("outcomes.csv", OUTCOMES_HEADER + row + good)
    result = runner.invoke("import", "outcomes", str(path), expect_exit=1)
    assert message in result.output
    seeded.rollback()
    assert seeded.scalar(select(func.count()).select_from(Outcome)) == 0


def test_outcomes_import_and_their_difference_in_differences(seeded, runner, write_csv) -> None:  # type: ignore[no-untyped-def]
    rows = []
    for owner in range(3):
        for number in range(8):
            for quarter in ("2025-Q2", "2025-Q3", "2026-Q1", "2026-Q2"):
                renewed = "yes" if owner == 0 and quarter >= "2026" or number % 4 else "no"
                rows.append(f"A{owner}-{number:02d},{quarter},{renewed},no,1000,,2,\n")
    path = write_csv("outcomes.csv", OUTCOMES_HEADER + "".join(rows))
    assert "Imported 96 outcomes rows" in runner.invoke("import", "outcomes", str(path)).output
    again = runner.invoke("import", "outcomes", str(path)).output
    assert "0 new" in again
    initiative_id = _create(runner, "--benefit-outcome", "renewed", "--benefit-value", "1000")
    report = json.loads(runner.invoke("initiative", "report", initiative_id.output.strip(),
                                      "--format", "json").output)  # fmt: skip
    renewal = next(r for r in report["outcome_effects"] if r["outcome"] == "renewed")
    # treated 75% -> 100%, untreated 75% -> 75%: +25 points
    assert renewal["did"] == pytest.approx(25.0)
    assert renewal["treated_before"] == pytest.approx(75.0)
    revenue = next(r for r in report["outcome_effects"] if r["outcome"] == "revenue")
    assert revenue["did"] == pytest.approx(0.0)
    cost = next(r for r in report["outcome_effects"] if r["outcome"] == "cost_to_serve")
    assert cost["did"] is None and cost["reason"] == "not enough answers"
    # measured benefit: 0.25 x 16 treated account-quarters after x 1,000 = 4,000
    assert report["benefits"]["measured"] == pytest.approx(4000.0)
    assert report["benefits"]["total"] == pytest.approx(4000.0)


# -- who sees what -------------------------------------------------------------------


def test_account_managers_see_their_initiatives_and_their_own_figures(seeded, app) -> None:  # type: ignore[no-untyped-def]
    with app.app_context():
        mine = create_initiative(
            seeded, actor="lead@example.com", name="Mine", kind="coaching",
            start="2025-10-01", end="2025-12-31", indicators="fcr",
            participants=[TREATED_AM, OTHER_AMS[0]], costs=[CostLine("fees", amount=100)],
        )  # fmt: skip
        other = create_initiative(
            seeded, actor="lead@example.com", name="Not mine", kind="tool",
            start="2025-10-01", end="2025-12-31", indicators="csat", participants=[OTHER_AMS[0]],
        )  # fmt: skip
        seeded.commit()
        me = Viewer(email=TREATED_AM, role="account_manager")
        assert [i.name for i in list_initiatives(seeded, me)] == ["Mine"]
        assert {i.name for i in list_initiatives(seeded, Viewer(None, "enablement"))} == {
            "Mine", "Not mine",
        }  # fmt: skip
        with pytest.raises(InitiativeNotFound):
            get_initiative(seeded, other.id, me)
        as_lead = build_report(seeded, mine, viewer=Viewer("l@example.com", "enablement"),
                               min_n=5, resamples=200)  # fmt: skip
        as_me = build_report(seeded, mine, viewer=me, min_n=5, resamples=200)
        assert as_lead["effects"][0]["n_treated_accounts"] == 16
        assert as_me["effects"][0]["n_treated_accounts"] == 8  # their own accounts only
        # min_n applies to every figure: 8 accounts x 8 answers = 64 a quarter, 128 a window
        thin = build_report(seeded, mine, viewer=me, min_n=65, resamples=200)
        assert thin["effects"][0]["treated_before"] is not None
        assert all(p["treated"] is None for p in thin["trends"]["fcr"])
        thinner = build_report(seeded, mine, viewer=me, min_n=129, resamples=200)
        effect = thinner["effects"][0]
        assert effect["treated_before"] is None and effect["did"] is None
        assert effect["reason"] == "not enough answers"


def test_effects_module_stays_pure() -> None:
    probe = (
        "import sys; import cpi.initiatives.effects, cpi.initiatives.roi; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('flask', 'sqlalchemy')))"
    )
    # cpi/__init__ imports Flask; load the modules as a bare package like the scoring check
    root = Path(__file__).resolve().parents[1] / "cpi"
    code = (
        f"import sys, types; p = types.ModuleType('cpi'); p.__path__ = [{str(root)!r}]; "
        "sys.modules['cpi'] = p; " + probe
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True, timeout=60)  # fmt: skip
    assert result.stdout.strip() == "[]"


# -- coaching focus and the driver view ---------------------------------------------


def test_coaching_focus_lists_significant_lags_with_their_comments(seeded, app) -> None:  # type: ignore[no-untyped-def]
    from cpi.initiatives.coaching import coaching_focus

    with app.app_context():
        focus = coaching_focus(seeded, viewer=Viewer(None, "enablement"), min_n=5)
        assert focus["quarters"] == ["2026-Q1", "2026-Q2"]
        by_owner = {m["owner"]: m for m in focus["managers"]}
        assert set(by_owner) == {TREATED_AM, *OTHER_AMS}
        # the treated team's FCR rose by 25 points: the others now lag on FCR
        assert "fcr" not in [lag["indicator"] for lag in by_owner[TREATED_AM]["lags"]]
        lag = next(x for x in by_owner[OTHER_AMS[0]]["lags"] if x["indicator"] == "fcr")
        assert lag["gap"] < 0 and lag["gap_high"] < 0 and lag["n"] >= 5
        assert lag["comments"] and set(lag["comments"]) == {"Had to call back twice"}
        assert by_owner[OTHER_AMS[0]]["prefill"]["participants"] == OTHER_AMS[0]
        assert "fcr" in by_owner[OTHER_AMS[0]]["prefill"]["indicators"]
        own = coaching_focus(seeded, viewer=Viewer(OTHER_AMS[1], "account_manager"), min_n=5)
        assert [m["owner"] for m in own["managers"]] == [OTHER_AMS[1]]
        thin = coaching_focus(seeded, viewer=Viewer(None, "admin"), min_n=10_000)
        assert all(not m["lags"] for m in thin["managers"])


def test_pooled_rate_by_hand() -> None:
    from cpi.outcomes.drivers import pooled_rate

    # three accounts: 2 of 2, 1 of 2, 0 of 1 quarters renewed: 3/5 = 60%
    result = pooled_rate([(2, 2), (1, 2), (0, 1)], 100.0)
    assert result["value"] == pytest.approx(60.0)
    # Σ(y − 0.6x)² = 0.64 + 0.04 + 0.36 = 1.04; var = 1.04 / (2 · 3 · (5/3)²) = 0.0624
    half = 1.959963984540054 * math.sqrt(0.0624) * 100
    assert (result["low"], result["high"]) == pytest.approx((60 - half, 60 + half))
    assert (result["accounts"], result["n"]) == (3, 5)


def test_driver_view_relates_cpis_to_outcomes_with_counts(seeded, runner, write_csv, app) -> None:  # type: ignore[no-untyped-def]
    from cpi.outcomes.drivers import driver_view

    rows = []
    for owner in range(3):
        for number in range(8):
            for quarter in ("2026-Q1", "2026-Q2"):
                renewed = "yes" if owner == 0 or (number + owner) % 3 == 0 else "no"
                rows.append(f"A{owner}-{number:02d},{quarter},{renewed},,,,,\n")
    runner.invoke("import", "outcomes", str(write_csv("o.csv", OUTCOMES_HEADER + "".join(rows))))
    with app.app_context():
        view = driver_view(seeded, min_n=5, quarters=2)
        assert view["quarters"] == ["2026-Q1", "2026-Q2"] and "not cause" in view["caveat"]
        row = next(r for r in view["rows"] if (r["indicator"], r["outcome"]) == ("fcr", "renewed"))
        assert row["better"]["accounts"] + row["worse"]["accounts"] == 24
        assert row["better"]["value"] > row["worse"]["value"]
        assert row["significant"] and row["difference_low"] > 0
        revenue = next(r for r in view["rows"] if r["outcome"] == "revenue")
        assert revenue["difference"] is None and revenue["reason"] == "not enough accounts"
        mine = driver_view(seeded, min_n=5, quarters=2, owner=TREATED_AM)
        fcr = next(r for r in mine["rows"] if (r["indicator"], r["outcome"]) == ("fcr", "renewed"))
        assert fcr["better"]["accounts"] + fcr["worse"]["accounts"] <= 8


def test_demo_has_a_significant_finished_initiative_and_one_without_effect(runner) -> None:  # type: ignore[no-untyped-def]
    runner.invoke("demo")
    assert "nothing changed" in runner.invoke("demo").output
    course = json.loads(runner.invoke("initiative", "report", "1", "--format", "json").output)
    assert course["complete"] is True
    fcr = course["effects"][0]
    assert fcr["indicator"] == "fcr" and fcr["significant"] and 5 < fcr["did"] < 25
    assert course["costs"]["total"] == 25600.0 and course["costs"]["hours"] == 120.0
    approved = [s for s in course["case_studies"] if s["status"] == "approved"]
    assert len(approved) == 2 and course["benefits"]["case_studies"] == 54800.0
    assert course["roi_percent"] is not None and course["roi_low"] is not None
    coaching = json.loads(runner.invoke("initiative", "report", "2", "--format", "json").output)
    assert not any(e["significant"] for e in coaching["effects"])
    table = runner.invoke("initiative", "report", "1").output
    assert "with the measured benefit's 95% interval" in table


def test_case_studies_are_checked_and_account_managers_record_only_their_own(seeded, app) -> None:  # type: ignore[no-untyped-def]
    with app.app_context():
        initiative = create_initiative(
            seeded, actor="lead@example.com", name="Two", kind="content", start="2025-10-01",
            end="2025-12-31", indicators="fcr", participants=[TREATED_AM, OTHER_AMS[0]],
        )  # fmt: skip
        me = Viewer(TREATED_AM, "account_manager")
        common = {"actor": TREATED_AM, "title": "Saved", "happened_on": "2026-02-01",
                  "kind": "direct_savings", "amount": 10}  # fmt: skip
        cases = [
            ({"participant_email": OTHER_AMS[0], "viewer": me}, "participant: you can record"),
            ({"participant_email": TREATED_AM, "viewer": me, "account_id": "A1-00"}, "account:"),
            ({"participant_email": OTHER_AMS[1]}, "participant: 'third.am@example.com' does not"),
            ({"participant_email": TREATED_AM, "amount": "-1"}, "amount: must not be negative"),
            ({"participant_email": TREATED_AM, "kind": "vibes"}, "kind: must be one of"),
            ({"participant_email": TREATED_AM, "happened_on": "soon"}, "date: 'soon' is not"),
        ]
        for extra, message in cases:
            with pytest.raises(InitiativeError, match=f"^{message}"):
                record_case_study(seeded, initiative, **{**common, **extra})
        own = record_case_study(seeded, initiative, participant_email=TREATED_AM, viewer=me,
                                account_id="A0-00", **{**common})  # fmt: skip
        assert own.status == "pending" and own.amount == 10.0


def test_report_windows_from_the_command_line_and_an_unfinished_initiative(seeded, runner) -> None:  # type: ignore[no-untyped-def]
    initiative_id = _create(runner).output.strip()
    result = runner.invoke("initiative", "report", initiative_id, "--before", "0", expect_exit=1)
    assert result.output.strip() == "Error: before: must be a number of quarters from 1 to 8"
    result = runner.invoke("initiative", "report", "999", expect_exit=1)
    assert "no initiative 999" in result.output
    late = _create(runner, "--start", "2026-04-01", "--end", "2026-06-30").output.strip()
    report = json.loads(runner.invoke("initiative", "report", late, "--format", "json").output)
    assert report["after"] == ["2026-Q3", "2026-Q4"] and report["complete"] is False
    assert report["marks"] == {"start": "2026-Q2", "end": "2026-Q2"}
    assert report["effects"][0]["did"] is None
    assert report["effects"][0]["reason"] == "not enough answers"


def test_the_roi_is_the_initiatives_for_every_reader(seeded, runner, write_csv, app) -> None:  # type: ignore[no-untyped-def]
    rows = [
        f"A{owner}-{number:02d},{quarter},{'no' if owner or quarter < '2026' else 'yes'},,,,,\n"
        for owner in range(3) for number in range(8)
        for quarter in ("2025-Q2", "2025-Q3", "2026-Q1", "2026-Q2")
    ]  # fmt: skip
    runner.invoke("import", "outcomes", str(write_csv("o.csv", OUTCOMES_HEADER + "".join(rows))))
    with app.app_context():
        both = create_initiative(
            seeded, actor="lead@example.com", name="Both", kind="training", start="2025-10-01",
            end="2025-12-31", indicators="fcr", participants=[TREATED_AM, OTHER_AMS[0]],
            costs=[CostLine("fees", amount=1000)], benefit_outcome="renewed", benefit_value=100,
        )  # fmt: skip
        lead = build_report(seeded, both, viewer=Viewer(None, "enablement"), min_n=5,
                            resamples=200)  # fmt: skip
        mine = build_report(seeded, both, viewer=Viewer(TREATED_AM, "account_manager"), min_n=5,
                            resamples=200)  # fmt: skip
    # all treated: 8 of 16 accounts renew after, untreated none: +50 points x 32 x 100
    assert lead["benefits"]["measured"] == pytest.approx(0.5 * 32 * 100)
    assert mine["outcome_effects"][0]["did"] == pytest.approx(100.0)  # their own team
    assert mine["benefits"] == lead["benefits"] and mine["roi_percent"] == lead["roi_percent"]
