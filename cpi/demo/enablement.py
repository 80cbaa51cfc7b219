"""The demo's enablement story: outcomes per account and quarter, a finished FCR course
for Marc Dubois's team (2026-Q1) with costs and two approved case studies, and a
coaching programme for Anna Kovács's team whose effect is not significant.

Outcomes come from their own seeded generator, so the survey answers stay the same.
Loading is idempotent: initiatives are found by name, outcomes by account and quarter.
"""

from __future__ import annotations

import random

from sqlalchemy import select
from sqlalchemy.orm import Session

from cpi.demo import story
from cpi.initiatives.models import Initiative
from cpi.initiatives.operations import (
    CostLine,
    create_initiative,
    record_case_study,
    review_case_study,
)
from cpi.outcomes.models import Outcome

OUTCOME_SEED = 20261219
ACTOR = "lead@demo.cpi-tracker.test"
FCR_COURSE = "First-contact resolution course"
COACHING = "Value conversation coaching"


def _clamp(value: float, low: float, high: float) -> float:
    return max(low, min(high, value))


def build_outcomes(accounts: list[story.DemoAccount]) -> list[dict[str, object]]:
    """Renewal and churn follow each account's service quality (and the course's lift)."""
    rng = random.Random(OUTCOME_SEED)
    rows: list[dict[str, object]] = []
    for account in accounts:
        revenue = rng.lognormvariate(11.6, 0.5)
        for index, quarter in enumerate(story.QUARTERS):
            health = account.quality + story._trend(account, index)
            health += story.course_lift(account, index) / 2
            churned = rng.random() < _clamp(0.05 - 0.4 * health, 0.005, 0.4)
            renewed = not churned and rng.random() < _clamp(0.8 + 1.5 * health, 0.2, 0.99)
            rows.append({
                "account_id": account.account_id, "period": quarter,
                "renewed": renewed, "churned": churned,
                "revenue": round(revenue * (1 + rng.gauss(0, 0.05)), 2),
                "expansion_revenue": round(max(0.0, rng.gauss(8000 + 30000 * health, 4000)), 2),
                "referrals": sum(rng.random() < _clamp(0.25 + health, 0.02, 0.9)
                                 for _ in range(3)),
                "cost_to_serve": round(max(500.0, revenue * (0.09 - 0.1 * health)), 2),
            })  # fmt: skip
    return rows


def load_outcomes(
    session: Session, accounts: list[story.DemoAccount], account_pks: dict[str, int]
) -> int:
    existing = set(session.execute(select(Outcome.account_id, Outcome.period)).all())
    count = 0
    for row in build_outcomes(accounts):
        pk = account_pks[row["account_id"]]  # type: ignore[index]
        if (pk, row["period"]) in existing:
            continue
        session.add(Outcome(**{**row, "account_id": pk}))
        count += 1
    session.flush()
    return count


def load_initiatives(session: Session) -> int:
    names = set(session.scalars(select(Initiative.name)))
    count = 0
    if FCR_COURSE not in names:
        _fcr_course(session)
        count += 1
    if COACHING not in names:
        create_initiative(
            session, actor=ACTOR, name=COACHING, kind="coaching",
            description="Monthly coaching on turning support calls into value conversations.",
            start="2026-01-05", end="2026-03-27", indicators="value_added_share,nps",
            participants=[story.OWNERS[0][0]],
            costs=[CostLine("fees", "Coach", amount=6000),
                   CostLine("hours", "Participants' time", hours=36, hourly_cost=80)],
        )  # fmt: skip
        count += 1
    session.flush()
    return count


def _fcr_course(session: Session) -> None:
    course = create_initiative(
        session, actor=ACTOR, name=FCR_COURSE, kind="training",
        description="Two-day course on resolving requests at the first contact, with "
        "follow-up clinics.",
        start="2026-01-12", end="2026-03-20", indicators="fcr,csat",
        participants=[story.FCR_COURSE_TEAM], benefit_outcome="renewed", benefit_value=3000,
        costs=[CostLine("fees", "Trainer", amount=14500),
               CostLine("materials", "Workbooks and clinic rooms", amount=1500),
               CostLine("hours", "Participants' time", hours=120, hourly_cost=80)],
    )  # fmt: skip
    team = story.FCR_COURSE_TEAM
    escalations = record_case_study(
        session, course, actor=ACTOR, participant_email=team, account_id="MF-0003",
        title="Escalation hours avoided at Tisza Steelworks", kind="hours_avoided",
        hours=140, hourly_rate=120, happened_on="2026-05-14",
        description="Line-down tickets now solved on the first call: 140 engineer hours of "
        "escalation avoided this half-year.",
    )  # fmt: skip
    renewal = record_case_study(
        session, course, actor=ACTOR, participant_email=team, account_id="RT-0002",
        title="Renewal with expansion at Maison Lefèvre", kind="new_revenue", amount=38000,
        happened_on="2026-07-02",
        description="The customer named first-call fixes as the reason to renew and add "
        "two sites.",
    )  # fmt: skip
    record_case_study(
        session, course, actor=ACTOR, participant_email=team, account_id="PS-0001",
        title="Fewer repeat calls at City of Riverton", kind="direct_savings", amount=4000,
        happened_on="2026-08-20", description="Not yet checked by enablement.",
    )  # fmt: skip
    for study in (escalations, renewal):
        review_case_study(session, study, actor=ACTOR, approve=True)
