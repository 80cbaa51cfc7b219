"""Load the demo data set. Idempotent: only what is missing is added."""

from __future__ import annotations

import random
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from cpi.accounts.models import Account, Contact
from cpi.auth.models import User
from cpi.auth.passwords import hash_password
from cpi.demo import enablement, story
from cpi.kpis.models import KpiFigure, Target, kpi_scope_key
from cpi.scoring import Answers
from cpi.surveys.models import Campaign, Invitation, Response, Survey
from cpi.surveys.sums import add_answers
from cpi.surveys.tokens import new_token

SEED = 20261129


def load_demo(session: Session) -> dict[str, int]:
    """Add the demo data that is not there yet; return how many rows of each were added."""
    rng = random.Random(SEED)
    accounts = story.build_accounts(rng)
    responses = story.build_responses(rng, accounts)
    kpis = story.build_kpis(rng, accounts)
    added = {"users": _users(session)}
    account_pks, contact_pks = _accounts(session, accounts, added)
    invitations = _campaigns(session, accounts, account_pks, contact_pks, added)
    added["responses"] = _responses(session, responses, account_pks, contact_pks, invitations)
    added["kpis"] = _kpis(session, kpis, account_pks)
    added["targets"] = _targets(session)
    session.flush()
    added["outcomes"] = enablement.load_outcomes(session, accounts, account_pks)
    added["initiatives"] = enablement.load_initiatives(session)
    return added


def _users(session: Session) -> int:
    existing = set(session.scalars(select(User.email)))
    new = [
        User(email=email, role=role, name=name, password_hash=hash_password(password))
        for email, role, name, password in story.STAFF
        if email not in existing
    ]
    session.add_all(new)
    return len(new)


def _accounts(
    session: Session, accounts: list[story.DemoAccount], added: dict[str, int]
) -> tuple[dict[str, int], dict[tuple[str, str], int]]:
    existing = {a.account_id: a for a in session.scalars(select(Account))}
    added["accounts"] = added["contacts"] = 0
    for demo in accounts:
        if demo.account_id not in existing:
            account = Account(
                account_id=demo.account_id,
                name=demo.name,
                segment=demo.segment,
                owner_email=demo.owner_email,
            )
            session.add(account)
            existing[demo.account_id] = account
            added["accounts"] += 1
    session.flush()
    account_pks = {account_id: account.id for account_id, account in existing.items()}
    known = set(session.execute(select(Contact.account_id, Contact.email)))
    for demo in accounts:
        pk = account_pks[demo.account_id]
        for contact in demo.contacts:
            if (pk, contact.email) not in known:
                session.add(
                    Contact(
                        account_id=pk, email=contact.email, name=contact.name, locale=contact.locale
                    )
                )
                added["contacts"] += 1
    session.flush()
    contact_pks = {
        (account_id, email): contact_id
        for contact_id, account_id, email in session.execute(
            select(Contact.id, Account.account_id, Contact.email).join(Account)
        )
    }
    return account_pks, contact_pks


def _campaigns(
    session: Session,
    accounts: list[story.DemoAccount],
    account_pks: dict[str, int],
    contact_pks: dict[tuple[str, str], int],
    added: dict[str, int],
) -> dict[tuple[int, str], int]:
    """One closed campaign per quarter over every contact.

    Returns (contact, period) -> invitation id.
    """
    survey_id = session.scalar(select(Survey.id).where(Survey.code == "cpi-pulse"))
    assert survey_id is not None, "the default survey comes with the first migration"
    added["campaigns"] = 0
    invitations: dict[tuple[int, str], int] = {}
    for quarter in story.QUARTERS:
        name = f"CPI pulse {quarter}"
        campaign = session.scalar(select(Campaign).where(Campaign.name == name))
        if campaign is None:
            year, q = int(quarter[:4]), int(quarter[-1])
            closes = date(year + (q == 4), (q * 3) % 12 + 1, 21)
            campaign = Campaign(
                name=name, period=quarter, survey_id=survey_id, status="closed", closes_on=closes
            )
            session.add(campaign)
            session.flush()
            added["campaigns"] += 1
        query = select(Invitation.contact_id, Invitation.id).where(
            Invitation.campaign_id == campaign.id
        )
        invited = {contact: invitation for contact, invitation in session.execute(query)}
        for demo in accounts:
            for contact in demo.contacts:
                contact_id = contact_pks[(demo.account_id, contact.email)]
                if contact_id not in invited:
                    invitation = Invitation(
                        campaign_id=campaign.id, contact_id=contact_id, token_hash=new_token()[1]
                    )
                    session.add(invitation)
                    session.flush()
                    invited[contact_id] = invitation.id
                invitations[(contact_id, quarter)] = invited[contact_id]
    return invitations


def _responses(
    session: Session,
    responses: list[story.DemoResponse],
    account_pks: dict[str, int],
    contact_pks: dict[tuple[str, str], int],
    invitations: dict[tuple[int, str], int],
) -> int:
    existing = set(session.execute(
        select(Response.account_id, Response.contact_id, Response.period)
    ).all())  # fmt: skip
    count = 0
    added: list[tuple[int, str, Answers]] = []
    for demo in responses:
        account_pk = account_pks[demo.account_id]
        contact_id = contact_pks[(demo.account_id, demo.contact_email)]
        if (account_pk, contact_id, demo.period) in existing:
            continue
        invitation_id = invitations[(contact_id, demo.period)]
        added.append((account_pk, demo.period, Answers(**demo.answers)))  # type: ignore[arg-type]
        session.add(Response(
            account_id=account_pk, contact_id=contact_id, invitation_id=invitation_id,
            period=demo.period, source="survey", submitted_at=demo.submitted_at,
            comment=demo.comment, name_consent=demo.name_consent, **demo.answers,
        ))  # fmt: skip
        invitation = session.get(Invitation, invitation_id)
        assert invitation is not None
        invitation.answered_at = demo.submitted_at
        invitation.sent_at = demo.submitted_at
        count += 1
    add_answers(session, added)  # the answer sums, in the same transaction
    return count


def _kpis(session: Session, kpis: list[dict[str, object]], account_pks: dict[str, int]) -> int:
    existing = set(session.execute(
        select(KpiFigure.indicator, KpiFigure.period, KpiFigure.scope_key)
    ).all())  # fmt: skip
    count = 0
    for row in kpis:
        account_id = row["account_id"]
        scope_key = kpi_scope_key(account_id, None)  # type: ignore[arg-type]
        if (row["indicator"], row["period"], scope_key) in existing:
            continue
        numerator, denominator = row.get("numerator"), row.get("denominator")
        value = row.get("value")
        if value is None:
            value = 100.0 * numerator / denominator  # type: ignore[operator]
        session.add(KpiFigure(
            indicator=row["indicator"], period=row["period"], scope_key=scope_key,
            account_id=account_pks[account_id] if account_id else None,  # type: ignore[index]
            value=value, numerator=numerator, denominator=denominator,
        ))  # fmt: skip
        count += 1
    return count


def _targets(session: Session) -> int:
    existing = set(session.execute(
        select(Target.indicator, Target.period, Target.segment_key)
    ).all())  # fmt: skip
    count = 0
    for row in story.build_targets():
        key = (row["indicator"], row["period"], row["segment"] or "")
        if key in existing:
            continue
        session.add(
            Target(
                indicator=row["indicator"],
                period=row["period"],
                segment_key=row["segment"] or "",
                target=row["target"],
                tolerance=row["tolerance"],
            )
        )
        count += 1
    return count
