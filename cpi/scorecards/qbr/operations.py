"""Preparing an account's QBR: its comments, the saved choices, its language and logo.

Functions take a session, flush, never commit (the view or command commits once).
"""

from __future__ import annotations

import io
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cpi.accounts.models import Account, Contact
from cpi.audit.operations import record
from cpi.i18n import DEFAULT_LOCALE, SUPPORTED_LOCALES, normalise
from cpi.i18n.errors import LocalisedError
from cpi.scorecards.qbr.edition import MAX_ACTIONS, PRINTED_COMMENT_CHARS, PRINTED_COMMENTS
from cpi.scorecards.qbr.models import AccountBranding, QbrPlan
from cpi.scoring import Period
from cpi.surveys.models import Response

EDITIONS = ("customer", "internal")
PAGE_SIZES = ("A4", "letter")
ACTION_CHARS = 200
LOGO_MAX_BYTES = 512 * 1024
LOGO_MAX_PIXELS = 4000
LOGO_STORED_WIDTH = 600  # re-encoded no wider: a small, clean file in every PDF
OFFERED_COMMENTS = 50


class QbrError(LocalisedError):
    """Bad input, with a message that names the field, in the reader's language
    (:class:`cpi.i18n.errors.LocalisedError`)."""

    field_labels = {
        "edition": _l("edition"),
        "language": _l("language"),
        "page size": _l("page size"),
        "actions": _l("actions"),
        "comments": _l("comments"),
        "logo": _l("logo"),
    }


@dataclass(frozen=True)
class AccountComment:
    id: int
    text: str
    author: str | None
    period: str


@dataclass
class Choices:
    """What the account manager chose for one account and period."""

    edition: str = "customer"
    language: str | None = None
    page_size: str | None = None
    show_internal: bool = False
    actions: list[str] = field(default_factory=list)
    chosen: list[int] = field(default_factory=list)
    hidden: list[int] = field(default_factory=list)


def account_comments(
    session: Session, account: Account, period: Period | str, *, min_answers: int = 0
) -> list[AccountComment]:
    """The period's comments of the account, newest first; none when the account has
    fewer than ``min_answers`` answers in the period (the privacy rule, SECURITY.md)."""
    quarters = [str(q) for q in Period.parse(period).quarters()]
    in_period = (Response.account_id == account.id, Response.period.in_(quarters))
    if min_answers:
        answers = session.scalar(select(func.count(Response.id)).where(*in_period)) or 0
        if answers < min_answers:
            return []
    rows = session.execute(
        select(Response.id, Response.comment, Response.period, Response.name_consent,
               Contact.name, Contact.erased_at)
        .outerjoin(Contact, Contact.id == Response.contact_id)
        .where(*in_period, Response.comment.is_not(None), Response.comment != "")
        .order_by(Response.submitted_at.desc(), Response.id.desc())
        .limit(OFFERED_COMMENTS)
    )  # fmt: skip
    return [
        AccountComment(
            id=rid,
            text=text,
            author=name if consent and name and erased is None else None,
            period=quarter,
        )
        for rid, text, quarter, consent, name, erased in rows
    ]


def printed_comments(comments: Sequence[AccountComment], choices: Choices) -> list[AccountComment]:
    """The chosen comments, in the order chosen, never a hidden one, shortened."""
    by_id = {c.id: c for c in comments}
    hidden = set(choices.hidden)
    shown = [by_id[i] for i in choices.chosen if i in by_id and i not in hidden]
    return [_shorten(c) for c in shown[:PRINTED_COMMENTS]]


def _shorten(comment: AccountComment) -> AccountComment:
    if len(comment.text) <= PRINTED_COMMENT_CHARS:
        return comment
    text = comment.text[:PRINTED_COMMENT_CHARS].rstrip() + "…"
    return AccountComment(comment.id, text, comment.author, comment.period)


def plan(session: Session, account: Account, period: Period | str) -> QbrPlan | None:
    return session.scalar(
        select(QbrPlan).where(QbrPlan.account_id == account.id, QbrPlan.period == str(period))
    )


def choices(session: Session, account: Account, period: Period | str) -> Choices:
    """The saved choices, else the defaults (customer edition, account's language)."""
    found = plan(session, account, period)
    if found is None:
        return Choices()
    return Choices(
        edition=found.edition,
        language=found.language,
        page_size=found.page_size,
        show_internal=found.show_internal,
        actions=[str(a) for a in found.actions or []],
        chosen=[int(i) for i in found.chosen_comments or []],
        hidden=[int(i) for i in found.hidden_comments or []],
    )


def hidden_by_account(session: Session, period: Period | str) -> dict[str, list[int]]:
    """The comments hidden on the QBR page for ``period``, by account_id (batch PDFs)."""
    rows = session.execute(
        select(Account.account_id, QbrPlan.hidden_comments)
        .join(Account, Account.id == QbrPlan.account_id)
        .where(QbrPlan.period == str(period))
    )
    return {account_id: [int(i) for i in hidden] for account_id, hidden in rows if hidden}


def check_choices(chosen: Choices, offered: Sequence[AccountComment]) -> Choices:
    """Clean what a form or command sent; QbrError names the first bad field."""
    if chosen.edition not in EDITIONS:
        raise QbrError("edition", _l("choose customer or internal"))
    if chosen.language is not None and normalise(chosen.language) != chosen.language:
        raise QbrError(
            "language", _l("choose one of %(choices)s", choices=", ".join(SUPPORTED_LOCALES))
        )
    if chosen.page_size is not None and chosen.page_size not in PAGE_SIZES:
        raise QbrError("page size", _l("choose A4 or letter"))
    actions = [" ".join(a.split()) for a in chosen.actions if a and a.strip()]
    if len(actions) > MAX_ACTIONS:
        raise QbrError("actions", _l("at most %(limit)s", limit=MAX_ACTIONS))
    for number, action in enumerate(actions, 1):
        if len(action) > ACTION_CHARS:
            raise QbrError(
                _l("action %(number)s: at most %(limit)s characters",
                   number=number, limit=ACTION_CHARS)
            )  # fmt: skip
    known = {c.id for c in offered}
    hidden = [i for i in dict.fromkeys(chosen.hidden) if i in known]
    picked = [i for i in dict.fromkeys(chosen.chosen) if i in known and i not in hidden]
    if len(picked) > PRINTED_COMMENTS:
        raise QbrError("comments", _l("choose at most %(limit)s to print", limit=PRINTED_COMMENTS))
    return Choices(chosen.edition, chosen.language, chosen.page_size, chosen.show_internal,
                   actions, picked, hidden)  # fmt: skip


def save_choices(
    session: Session, account: Account, period: Period | str, chosen: Choices, actor: str
) -> QbrPlan:
    """Save (insert or update) the account's choices for the period, and audit-log them."""
    found = plan(session, account, period)
    if found is None:
        found = QbrPlan(account_id=account.id, period=str(period))
        session.add(found)
    found.edition = chosen.edition
    found.language = chosen.language
    found.page_size = chosen.page_size
    found.show_internal = chosen.show_internal
    found.actions = list(chosen.actions)
    found.chosen_comments = list(chosen.chosen)
    found.hidden_comments = list(chosen.hidden)
    found.updated_by = actor
    record(
        session, actor, "qbr.prepare",
        f"{account.account_id} {period}: {chosen.edition}, language {chosen.language or 'auto'}, "
        f"internal figures {'shown' if chosen.show_internal else 'hidden'}, "
        f"{len(chosen.actions)} action(s), comments printed {chosen.chosen}, "
        f"hidden {chosen.hidden}",
    )  # fmt: skip
    session.flush()
    return found


def branding(session: Session, account: Account) -> AccountBranding | None:
    return session.scalar(select(AccountBranding).where(AccountBranding.account_id == account.id))


def account_language(session: Session, account: Account) -> str:
    """The account's language: its own setting, else its contacts' most common one."""
    own = branding(session, account)
    if own is not None and own.locale:
        return own.locale
    locales = session.scalars(
        select(Contact.locale).where(Contact.account_id == account.id, Contact.erased_at.is_(None))
    )
    counts = Counter(n for n in (normalise(loc) for loc in locales) if n)
    if not counts:
        return DEFAULT_LOCALE
    # the most common; a tie goes to the first in SUPPORTED_LOCALES order (stable)
    best = max(counts.values())
    return next(loc for loc in SUPPORTED_LOCALES if counts.get(loc) == best)


def _branding_for_update(session: Session, account: Account) -> AccountBranding:
    found = branding(session, account)
    if found is None:
        found = AccountBranding(account_id=account.id)
        session.add(found)
    return found


def set_language(session: Session, account: Account, locale: str | None, actor: str) -> None:
    if locale is not None and normalise(locale) != locale:
        raise QbrError(
            "language", _l("choose one of %(choices)s", choices=", ".join(SUPPORTED_LOCALES))
        )
    found = _branding_for_update(session, account)
    found.locale = locale
    found.updated_by = actor
    record(session, actor, "account.language", f"{account.account_id}: {locale or 'auto'}")
    session.flush()


def clean_logo(data: bytes) -> bytes:
    """A PNG or JPEG checked and re-encoded as a small PNG; QbrError says why not.

    Re-encoding keeps only pixels: no metadata, no trailing payload, nothing a
    renderer could follow. SVG is refused (it can hold scripts and addresses)."""
    from PIL import Image, UnidentifiedImageError

    if not data:
        raise QbrError("logo", _l("the file is empty"))
    if len(data) > LOGO_MAX_BYTES:
        raise QbrError(
            "logo", _l("the file is larger than %(limit)s kB", limit=LOGO_MAX_BYTES // 1024)
        )
    if not (data.startswith(b"\x89PNG\r\n\x1a\n") or data.startswith(b"\xff\xd8\xff")):
        raise QbrError("logo", _l("upload a PNG or JPEG image"))
    try:
        with Image.open(io.BytesIO(data)) as image:
            if image.format not in ("PNG", "JPEG"):
                raise QbrError("logo", _l("upload a PNG or JPEG image"))
            width, height = image.size
            if width > LOGO_MAX_PIXELS or height > LOGO_MAX_PIXELS:
                raise QbrError(
                    "logo", _l("at most %(limit)s pixels wide and high", limit=LOGO_MAX_PIXELS)
                )
            image.load()
            picture = image.convert("RGBA")
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as error:
        if isinstance(error, QbrError):
            raise
        raise QbrError("logo", _l("the image cannot be read")) from None
    if picture.width > LOGO_STORED_WIDTH:
        ratio = LOGO_STORED_WIDTH / picture.width
        picture = picture.resize((LOGO_STORED_WIDTH, max(1, round(picture.height * ratio))))
    out = io.BytesIO()
    picture.save(out, format="PNG", optimize=True)
    return out.getvalue()


def save_logo(session: Session, account: Account, data: bytes | None, actor: str) -> None:
    """Store the account's logo (``None`` removes it), audit-logged."""
    found = _branding_for_update(session, account)
    found.logo = clean_logo(data) if data is not None else None
    found.logo_type = "image/png" if data is not None else None
    found.updated_by = actor
    record(session, actor, "account.logo", f"{account.account_id}: "
           + ("uploaded" if data is not None else "removed"))  # fmt: skip
    session.flush()


def account_logo(session: Session, account: Account) -> bytes | None:
    found = branding(session, account)
    return found.logo if found is not None else None
