"""The initiative report: effects on the target CPIs and on outcomes, the parallel-trends
data, costs, case studies and ROI, as one plain dict (the JSON of ``cpi initiative
report``; the page and the PDF render the same dict).

Loading happens here; the statistics are in :mod:`cpi.initiatives.effects` and
:mod:`cpi.initiatives.roi` (pure). Treated accounts: those owned by a participant;
untreated: every other account. An account manager viewing the report sees their own
accounts as the treated group ("their own figures") and every figure built on fewer than
``min_n`` answers is withheld ("not enough answers"), for every viewer.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import date
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from cpi.accounts.models import Account
from cpi.initiatives import effects, roi
from cpi.initiatives.models import Initiative
from cpi.initiatives.operations import InitiativeError, Viewer, cost_summary, visible_case_studies
from cpi.outcomes.models import BINARY_OUTCOMES, OUTCOME_FIELDS, Outcome
from cpi.scorecards.operations import load_scoring_data
from cpi.scoring import INDICATORS_BY_CODE, AnswerStats, Period
from cpi.timeutil import utcnow

MAX_WINDOW = 8


def quarter_of(day: date) -> Period:
    return Period(day.year, (day.month - 1) // 3 + 1)


def next_quarter(period: Period) -> Period:
    if period.quarter == 4:
        return Period(period.year + 1, 1)
    return Period(period.year, (period.quarter or 0) + 1)


def quarter_end(period: Period) -> date:
    month = (period.quarter or 4) * 3
    return date(period.year, month, 31 if month in (3, 12) else 30)


def windows(start: date, end: date, before: int, after: int) -> tuple[list[Period], list[Period]]:
    """``before`` quarters ending with the quarter before the start's quarter, and ``after``
    quarters starting with the quarter after the end's quarter (the initiative's own
    quarters belong to neither: they are partly treated). InitiativeError for bad input."""
    for field, count in (("before", before), ("after", after)):
        if not isinstance(count, int) or not 1 <= count <= MAX_WINDOW:
            raise InitiativeError(
                field, _l("must be a number of quarters from 1 to %(limit)s", limit=MAX_WINDOW)
            )
    if start > end:
        raise InitiativeError(
            "end", _l("%(end)s is before the start %(start)s", end=end, start=start)
        )
    try:
        before_quarters = [quarter_of(start).previous()]
        while len(before_quarters) < before:
            before_quarters.append(before_quarters[-1].previous())
    except ValueError:
        raise InitiativeError(
            "start", _l("%(start)s leaves no room for the before window", start=start)
        ) from None
    try:
        after_quarters = [next_quarter(quarter_of(end))]
        while len(after_quarters) < after:
            after_quarters.append(next_quarter(after_quarters[-1]))
    except ValueError:
        raise InitiativeError(
            "end", _l("%(end)s leaves no room for the after window", end=end)
        ) from None
    before_quarters.reverse()
    check_windows(before_quarters, after_quarters)
    return before_quarters, after_quarters


def check_windows(before: Sequence[Period], after: Sequence[Period]) -> None:
    """Windows chosen by hand (the web form) must not overlap: before ends before after."""
    if not before:
        raise InitiativeError("before", _l("choose at least one quarter"))
    if not after:
        raise InitiativeError("after", _l("choose at least one quarter"))
    if max(before) >= min(after):
        raise InitiativeError(
            "after",
            _l(
                "the after window (%(after)s) overlaps the before window (%(before)s)",
                after=min(after),
                before=max(before),
            ),  # fmt: skip
        )


def _sum(stats: Sequence[AnswerStats]) -> AnswerStats:
    return AnswerStats.merge(stats)


def build_report(
    session: Session,
    initiative: Initiative,
    *,
    viewer: Viewer,
    min_n: int,
    before: int = 2,
    after: int = 2,
    include_measured: bool | None = None,
    resamples: int = effects.RESAMPLES,
    seed: int = effects.DEFAULT_SEED,
) -> dict[str, Any]:
    """The whole report as a JSON-ready dict (interfaces.md keys, and more).

    ``include_measured``: count the measured outcome benefit in the ROI (default: when
    the initiative names a benefit outcome and value)."""
    before_q, after_q = windows(initiative.start_date, initiative.end_date, before, after)
    participants = set(initiative.participant_emails)
    owners = {
        account_id: (owner or "").lower()
        for account_id, owner in session.execute(select(Account.account_id, Account.owner_email))
    }
    treated = sorted(a for a, owner in owners.items() if owner in participants)
    untreated = sorted(a for a, owner in owners.items() if owner not in participants)
    all_treated = treated
    if not viewer.sees_everything:
        me = (viewer.email or "").lower()
        treated = [a for a in treated if owners[a] == me]
    if not untreated:
        raise InitiativeError("participants", _l("no untreated accounts are left to compare with"))
    span = _span(before_q[0], after_q[-1])
    data = load_scoring_data(session, after_q[-1], history=len(span))
    stats = data.stats  # account -> quarter -> stats

    pooled: dict[tuple[str, tuple[str, ...]], AnswerStats] = {}

    def window_stats(accounts: Sequence[str], quarters: Sequence[Period]) -> list[AnswerStats]:
        """Each account's answers pooled over the quarters; every indicator reads the same
        windows, so each is pooled once."""
        names = tuple(str(q) for q in quarters)
        found = []
        for account in accounts:
            key = (account, names)
            if key not in pooled:
                by_quarter = stats.get(account, {})
                pooled[key] = _sum([by_quarter[q] for q in names if q in by_quarter])
            found.append(pooled[key])
        return found

    effect_rows = []
    trends: dict[str, list[dict[str, Any]]] = {}
    for code in initiative.indicator_codes:
        indicator = INDICATORS_BY_CODE[code]
        everything = [s for a in treated + untreated for s in stats.get(a, {}).values()]
        days = effects.quote_days(everything)
        measure = effects.indicator_measure(indicator, days)

        def matrix(accounts: Sequence[str], quarters: Sequence[Period]) -> effects.FloatArray:
            rows = [effects.indicator_sums(indicator, s, days)  # noqa: B023
                    for s in window_stats(accounts, quarters)]  # fmt: skip
            return effects.as_matrix(rows, measure.features)  # noqa: B023

        effect_rows.append(
            _effect_entry(
                code,
                measure,
                matrix,
                treated,
                untreated,
                before_q,
                after_q,
                min_n=min_n,
                resamples=resamples,
                seed=seed,
            )  # fmt: skip
        )
        trends[code] = [
            _point(effects.trend_point(measure, str(q), matrix(treated, [q]),
                                       matrix(untreated, [q]), min_n=min_n))
            for q in span
        ]  # fmt: skip

    outcome_rows, outcome_trends = _outcome_effects(
        session, treated, untreated, before_q, after_q, span,
        min_n=min_n, resamples=resamples, seed=seed,
    )  # fmt: skip
    costs = cost_summary(initiative)
    studies = visible_case_studies(initiative, viewer)
    approved = [s for s in initiative.case_studies if s.status == "approved"]
    measured = None
    wants_measured = (
        include_measured if include_measured is not None else initiative.benefit_outcome is not None
    )
    if wants_measured and initiative.benefit_outcome and initiative.benefit_value is not None:
        # The ROI is the initiative's, the same for every reader: its measured benefit
        # comes from every treated account, also when the effect tables show one team.
        rows_for_roi = outcome_rows
        if all_treated != treated:
            rows_for_roi, _ = _outcome_effects(
                session, all_treated, untreated, before_q, after_q, span,
                min_n=min_n, resamples=resamples, seed=seed,
            )  # fmt: skip
        row = next(r for r in rows_for_roi if r["outcome"] == initiative.benefit_outcome)
        measured = roi.measured_benefit(
            initiative.benefit_outcome, row["did"], row["did_low"], row["did_high"],
            units=row["n_treated_after"], value_per_unit=initiative.benefit_value,
            reason=row["reason"],
        )  # fmt: skip
    result = roi.compute_roi(costs["total"], [s.amount for s in approved], measured)
    today = utcnow().date()
    return {
        "initiative": {
            "id": initiative.id, "name": initiative.name, "kind": initiative.kind,
            "description": initiative.description,
            "start": initiative.start_date.isoformat(), "end": initiative.end_date.isoformat(),
            "indicators": initiative.indicator_codes,
            "participants": initiative.participant_emails,
        },
        # Where the chart marks the initiative: its first and last quarter.
        "marks": {"start": str(quarter_of(initiative.start_date)),
                  "end": str(quarter_of(initiative.end_date))},
        "before": [str(q) for q in before_q],
        "after": [str(q) for q in after_q],
        "complete": today > quarter_end(after_q[-1]),
        "min_n": min_n,
        "method": {
            "estimator": "difference in differences of pooled values",
            "interval": "95% percentile, account-level cluster bootstrap stratified by group",
            "resamples": resamples, "seed": seed,
            "pretrend": "the same DiD between the first and last quarter of the before window",
        },
        "treated_accounts": len(treated),
        "untreated_accounts": len(untreated),
        "effects": effect_rows,
        "outcome_effects": outcome_rows,
        "trends": trends,
        "outcome_trends": outcome_trends,
        "costs": costs,
        "case_studies": [_study(s) for s in studies],
        "benefits": {
            "case_studies": result.case_studies,
            "measured": result.measured,
            "measured_detail": _measured(measured),
            "total": result.benefits,
            "total_low": result.benefits_low,
            "total_high": result.benefits_high,
        },
        "roi_percent": result.roi_percent,
        "roi_low": result.roi_low,
        "roi_high": result.roi_high,
        "return_multiple": result.return_multiple,
        "multiple_low": result.multiple_low,
        "multiple_high": result.multiple_high,
    }  # fmt: skip


def _span(first: Period, last: Period) -> list[Period]:
    quarters = [first]
    while quarters[-1] < last:
        quarters.append(next_quarter(quarters[-1]))
    return quarters


def _effect_entry(
    name: str,
    measure: effects.Measure,
    matrix: Any,
    treated: Sequence[str],
    untreated: Sequence[str],
    before_q: Sequence[Period],
    after_q: Sequence[Period],
    *,
    min_n: int,
    resamples: int,
    seed: int,
    key: str = "indicator",
) -> dict[str, Any]:
    effect = effects.difference_in_differences(
        measure, matrix(treated, before_q), matrix(treated, after_q),
        matrix(untreated, before_q), matrix(untreated, after_q),
        min_n=min_n, resamples=resamples, seed=seed,
    )  # fmt: skip
    pretrend = None
    if len(before_q) >= 2:
        pretrend = effects.difference_in_differences(
            measure, matrix(treated, before_q[:1]), matrix(treated, before_q[-1:]),
            matrix(untreated, before_q[:1]), matrix(untreated, before_q[-1:]),
            min_n=min_n, resamples=resamples, seed=seed,
        )  # fmt: skip
    return {
        key: name,
        "treated_before": effect.treated_before.value,
        "treated_after": effect.treated_after.value,
        "untreated_before": effect.untreated_before.value,
        "untreated_after": effect.untreated_after.value,
        "did": effect.did,
        "did_low": effect.low,
        "did_high": effect.high,
        "significant": effect.significant,
        "reason": effect.reason,
        "n_treated_accounts": effect.treated_accounts,
        "n_untreated_accounts": effect.untreated_accounts,
        "n_treated_before": effect.treated_before.n,
        "n_treated_after": effect.treated_after.n,
        "n_untreated_before": effect.untreated_before.n,
        "n_untreated_after": effect.untreated_after.n,
        "pretrend_tested": pretrend is not None and pretrend.did is not None,
        "pretrend_did": pretrend.did if pretrend else None,
        "pretrend_low": pretrend.low if pretrend else None,
        "pretrend_high": pretrend.high if pretrend else None,
        "pretrend_warning": bool(pretrend and pretrend.significant),
    }


def _point(point: effects.TrendPoint) -> dict[str, Any]:
    return {"period": point.period, "treated": point.treated, "treated_n": point.treated_n,
            "untreated": point.untreated, "untreated_n": point.untreated_n}  # fmt: skip


def _outcome_effects(
    session: Session,
    treated: Sequence[str],
    untreated: Sequence[str],
    before_q: Sequence[Period],
    after_q: Sequence[Period],
    span: Sequence[Period],
    *,
    min_n: int,
    resamples: int,
    seed: int,
) -> tuple[list[dict[str, Any]], dict[str, list[dict[str, Any]]]]:
    """The same DiD for each outcome: pooled over the group's account-quarters (rates in
    percent for yes/no outcomes; ``n`` counts account-quarters with the outcome known)."""
    rows = session.execute(
        select(Account.account_id, Outcome.period,
               *(getattr(Outcome, name) for name in OUTCOME_FIELDS))
        .join(Account, Account.id == Outcome.account_id)
        .where(Outcome.period.in_([str(q) for q in span]))
    ).all()  # fmt: skip
    # outcome -> account -> quarter -> (sum, count)
    sums: dict[str, dict[str, dict[str, tuple[float, float]]]] = defaultdict(
        lambda: defaultdict(dict)
    )
    for account_id, quarter, *values in rows:
        for name, value in zip(OUTCOME_FIELDS, values, strict=True):
            if value is not None:
                sums[name][account_id][quarter] = (float(value), 1.0)
    entries = []
    trends: dict[str, list[dict[str, Any]]] = {}
    for name in OUTCOME_FIELDS:
        measure = effects.mean_measure(name, 100.0 if name in BINARY_OUTCOMES else 1.0)
        by_account = sums.get(name, {})

        def matrix(accounts: Sequence[str], quarters: Sequence[Period]) -> effects.FloatArray:
            out = []
            for account in accounts:
                cells = [by_account.get(account, {}).get(str(q)) for q in quarters]  # noqa: B023
                known = [c for c in cells if c is not None]
                out.append([sum(c[0] for c in known), float(len(known))])
            return effects.as_matrix(out, 2)

        entries.append(
            _effect_entry(
                name,
                measure,
                matrix,
                treated,
                untreated,
                before_q,
                after_q,
                min_n=min_n,
                resamples=resamples,
                seed=seed,
                key="outcome",
            )  # fmt: skip
        )
        trends[name] = [
            _point(effects.trend_point(measure, str(q), matrix(treated, [q]),
                                       matrix(untreated, [q]), min_n=min_n))
            for q in span
        ]  # fmt: skip
    return entries, trends


def _study(study: Any) -> dict[str, Any]:
    return {
        "id": study.id, "title": study.title, "description": study.description,
        "participant": study.participant_email, "date": study.happened_on.isoformat(),
        "kind": study.kind, "amount": study.amount, "hours": study.hours,
        "hourly_rate": study.hourly_rate, "status": study.status,
        "counted": study.status == "approved",
    }  # fmt: skip


def _measured(measured: roi.MeasuredBenefit | None) -> dict[str, Any] | None:
    if measured is None:
        return None
    return {
        "outcome": measured.outcome, "did": measured.did, "did_low": measured.did_low,
        "did_high": measured.did_high, "units": measured.units,
        "value_per_unit": measured.value_per_unit, "value": measured.value,
        "low": measured.low, "high": measured.high, "reason": measured.reason,
    }  # fmt: skip
