"""A scope's report for one period, as plain data: what the page and the PDF both render.

Every figure comes from ``score()``; this module only arranges scorecards (the
period, the period before, the trend quarters), the headline and the comments.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cpi.accounts.models import Account, Contact
from cpi.auth.models import User
from cpi.questions.figures import QuestionFigures, custom_figures
from cpi.scorecards import display
from cpi.scorecards.cache import changes_since, peek, quarter_state, store
from cpi.scorecards.charts import Chart, trend_charts
from cpi.scorecards.differencing import Universe
from cpi.scorecards.disclosure import Disclosure
from cpi.scorecards.headline import Headline, headline
from cpi.scorecards.operations import (
    AccountInfo,
    ScoringData,
    history_quarters,
    load_scoring_data,
    resolve_scope,
    score,
)
from cpi.scorecards.pieces import AccountsOnly, Pieces
from cpi.scorecards.slices import TREND_QUARTERS, PeriodSlices
from cpi.scoring import KpiRow, Period, Scope, Scorecard
from cpi.surveys.models import Response
from cpi.surveys.sums_models import AnswerSums

# Comments are capped (count and length): a page or PDF never grows without bound.
PAGE_COMMENTS = 50
PDF_COMMENTS = 6
COMMENT_CHARS = 2000
PDF_COMMENT_CHARS = 600


@dataclass(frozen=True)
class Comment:
    text: str
    author: str | None  # only when the respondent agreed to be named
    period: str
    truncated: bool


@dataclass(frozen=True)
class Benchmark:
    """A wider scope's scorecard shown beside a report (a segment, the company).

    ``withheld``: indicators whose figure is not shown because the answers of the
    scope's other accounts (those the viewer may not see) are too few: with the
    viewer's own figure beside it, the difference would reveal them.
    """

    label: str
    card: Scorecard
    withheld: frozenset[str]

    def value(self, code: str) -> str:
        if code in self.withheld:
            return "withheld"
        return display.value(self.card.indicator(code))


@dataclass(frozen=True)
class Report:
    scope_type: str
    scope_id: str | None
    title: str
    subtitle: str
    period: str
    card: Scorecard
    previous_hidden: frozenset[str]  # codes whose previous figure rests on too few answers
    charts: tuple[Chart, ...]
    headline: Headline
    comments: tuple[Comment, ...]
    comments_total: int
    min_n: int
    # comments left out because their account has fewer than min_n answers (privacy)
    comments_withheld: int = 0
    # the figures of wider scopes (segment, company) beside this one's; pages only
    benchmarks: tuple[Benchmark, ...] = ()
    # custom survey questions answered in the scope (cpi/questions); page and PDF
    custom_questions: tuple[QuestionFigures, ...] = ()

    @property
    def empty(self) -> bool:
        return self.card.responses == 0

    @property
    def off_target(self) -> str:
        """ "2 of 5" over the indicators with a status against a target (uncertain
        ones counted); "no data" when none has enough answers, "no targets" when
        the figures have no target to be measured against."""
        return display.off_target(self.card)

    def delta(self, code: str) -> str:
        result = self.card.indicator(code)
        return "–" if code in self.previous_hidden else display.delta(result)

    def pdf_comments(self) -> tuple[Comment, ...]:
        return tuple(_shorten(c, PDF_COMMENT_CHARS) for c in self.comments[:PDF_COMMENTS])


def _shorten(comment: Comment, limit: int) -> Comment:
    if len(comment.text) <= limit:
        return comment
    return replace(comment, text=comment.text[:limit].rstrip() + "…", truncated=True)


def score_at(
    data: ScoringData,
    scope: Scope,
    period: Period,
    *,
    min_n: int,
    by_account: Mapping[str | None, list[KpiRow]],
    generated_at: datetime | None = None,
    disclosure: Disclosure | None = None,
) -> Scorecard:
    """The scope's scorecard for another period covered by ``data`` (a trend quarter)."""
    card = score(
        replace(data, period=period),
        scope,
        min_n=min_n,
        by_account=dict(by_account),
        generated_at=generated_at,
    )
    return disclosure.card(card) if disclosure is not None else card


def scope_title(scope: Scope, owner_names: Mapping[str, str]) -> tuple[str, str]:
    if scope.type == "account":
        return scope.name or scope.id or "", f"Account {scope.id} · {scope.segment}"
    if scope.type == "segment":
        return f"{scope.name}", "Segment"
    if scope.type == "owner":
        return owner_names.get(scope.id or "", scope.id or ""), "Account manager's portfolio"
    return "Company", "All accounts"


def trim_leading_empty(history: list[Scorecard]) -> list[Scorecard]:
    """The trend from its first quarter with answers or a KPI (the last quarter at least),
    so that a young data set does not leave most of a chart empty."""
    for start, card in enumerate(history):
        if card.responses or any(r.kpi is not None for r in card.indicators):
            return history[start:]
    return history[-1:]


def report_from_data(
    data: ScoringData,
    scope: Scope,
    *,
    min_n: int,
    comments: tuple[Comment, ...] = (),
    comments_total: int = 0,
    comments_withheld: int = 0,
    owner_names: Mapping[str, str] | None = None,
    by_account: Mapping[str | None, list[KpiRow]] | None = None,
    generated_at: datetime | None = None,
    disclosure: Disclosure | None = None,
    slices: PeriodSlices | None = None,
) -> Report:
    """``disclosure``: the figures one viewer may see (None: every figure, as computed).
    ``slices``: ``PeriodSlices(data)``, when the caller scores many periods of ``data``."""
    by_account = by_account if by_account is not None else data.kpis_by_account()

    def at(period: Period, moment: datetime | None = None) -> Scorecard:
        if slices is not None:
            sliced, sliced_by_account = slices(period)
            return score_at(sliced, scope, period, min_n=min_n, by_account=sliced_by_account,
                            generated_at=moment, disclosure=disclosure)  # fmt: skip
        return score_at(data, scope, period, min_n=min_n, by_account=by_account,
                        generated_at=moment, disclosure=disclosure)  # fmt: skip

    return report_from_cards(
        data.period, scope, at, data.accounts, min_n=min_n, comments=comments,
        comments_total=comments_total, comments_withheld=comments_withheld,
        owner_names=owner_names, generated_at=generated_at,
    )  # fmt: skip


def report_from_cards(
    period: Period,
    scope: Scope,
    at: Callable[[Period, datetime | None], Scorecard],
    accounts: Mapping[str, AccountInfo],
    *,
    min_n: int,
    comments: tuple[Comment, ...] = (),
    comments_total: int = 0,
    comments_withheld: int = 0,
    owner_names: Mapping[str, str] | None = None,
    generated_at: datetime | None = None,
) -> Report:
    """The report of ``scope`` from its scorecards: ``at(period, generated_at)`` gives the
    scope's scorecard of a period as the viewer may see it."""
    card = at(period, generated_at)
    before = at(period.previous(), None)
    quarters = history_quarters(period, TREND_QUARTERS)
    trend = trim_leading_empty([at(quarter, None) for quarter in quarters])
    previous_hidden = frozenset(r.code for r in before.indicators if display.hidden(r))
    title, subtitle = scope_title(scope, owner_names or {})
    if scope.type == "account" and owner_names is not None:
        owner = accounts[scope.id or ""].owner_email
        if owner:
            subtitle += f" · {owner_names.get(owner, owner)}"
    return Report(
        scope_type=scope.type,
        scope_id=scope.id,
        title=title,
        subtitle=subtitle,
        period=str(period),
        card=card,
        previous_hidden=previous_hidden,
        charts=trend_charts(trend),
        headline=headline(card, previous_hidden),
        comments=comments,
        comments_total=comments_total,
        comments_withheld=comments_withheld,
        min_n=min_n,
    )


def owner_names(session: Session) -> dict[str, str]:
    return {email: name for email, name in session.execute(select(User.email, User.name)) if name}


@dataclass(frozen=True)
class Comments:
    shown: tuple[Comment, ...]
    total: int  # comments that may be shown (``shown`` holds the newest of them)
    withheld: int  # comments of accounts with too few answers, left out


def load_comments(
    session: Session,
    account_ids: Collection[str] | None,
    period: Period | str,
    *,
    limit: int = PAGE_COMMENTS,
    min_n: int | None = None,
    hidden: Collection[int] = (),
) -> tuple[tuple[Comment, ...], int]:
    """The period's newest comments in scope (at most ``limit``) and how many there are.

    With ``min_n``, comments of accounts with fewer than ``min_n`` answers in the
    period are withheld (SECURITY.md, "Differencing"); ``hidden`` (response ids: the
    comments hidden on the QBR page) never print."""
    found = scope_comments(
        session, account_ids, period, limit=limit, min_answers=min_n or 0, hidden=hidden
    )
    return found.shown, found.total


def scope_comments(
    session: Session,
    account_ids: Collection[str] | None,
    period: Period | str,
    *,
    limit: int = PAGE_COMMENTS,
    min_answers: int = 0,
    hidden: Collection[int] = (),
) -> Comments:
    """The period's newest comments in scope (at most ``limit``) and how many there are.

    ``min_answers``: leave out the comments of accounts with fewer answers than this
    in the period (the privacy rule for everyone but administrators).
    """
    period = Period.parse(period)
    quarters = [str(q) for q in period.quarters()]
    where = [
        Response.period.in_(quarters),
        Response.comment.is_not(None),
        Response.comment != "",
    ]
    if hidden:
        where.append(Response.id.not_in(list(hidden)))
    # Comments per account (pk) of the period: one pass over the period's answers, each
    # quarter's kept while its answers are unchanged (none of it when some are hidden).
    per_account: dict[int, int] = defaultdict(int)
    for quarter in quarters:
        for pk, n in _comment_counts(session, quarter, where if hidden else None).items():
            per_account[pk] += n
    if account_ids is not None:
        in_scope = set(
            session.scalars(select(Account.id).where(Account.account_id.in_(list(account_ids))))
        )
        per_account = defaultdict(int, {pk: n for pk, n in per_account.items() if pk in in_scope})
    everything = sum(per_account.values())
    shown_accounts = [pk for pk, n in per_account.items() if n]
    if min_answers > 0 and everything:
        # Answers per account in the period, from the answer sums (kept equal to them).
        s = AnswerSums
        enough = set(
            session.scalars(
                select(s.account_id)
                .where(s.period.in_(quarters), s.account_id.in_(shown_accounts))
                .group_by(s.account_id)
                .having(func.sum(s.responses) >= min_answers)
            )
        )
        shown_accounts = [pk for pk in shown_accounts if pk in enough]
    total = sum(per_account[pk] for pk in shown_accounts)
    where.append(Response.account_id.in_(sorted(shown_accounts)))
    rows = session.execute(
        select(Response.comment, Response.period, Response.name_consent, Contact.name,
               Contact.erased_at)
        .outerjoin(Contact, Contact.id == Response.contact_id)
        .where(*where)
        .order_by(Response.submitted_at.desc(), Response.id.desc())
        .limit(limit)
    ) if total else ()  # fmt: skip
    comments = tuple(
        _shorten(
            Comment(
                text=text,
                author=name if consent and name and erased is None else None,
                period=quarter,
                truncated=False,
            ),
            COMMENT_CHARS,
        )
        for text, quarter, consent, name, erased in rows
    )
    return Comments(comments, total, everything - total)


def _comment_counts(session: Session, quarter: str, where: list[Any] | None) -> dict[int, int]:
    """Comments per account (pk) in a quarter (``where``: the hidden ones left out, then
    not cached). After a write to the quarter, only the accounts it wrote are counted
    again when the cache's change log covers every write since the last count."""

    def count(accounts: Collection[int] | None = None) -> dict[int, int]:
        conditions = where or [
            Response.period == quarter,
            Response.comment.is_not(None),
            Response.comment != "",
        ]
        if accounts is not None:
            conditions = [*conditions, Response.account_id.in_(sorted(accounts))]
        statement = (
            select(Response.account_id, func.count())
            .where(*conditions, Response.period == quarter)
            .group_by(Response.account_id)
        )
        return {int(pk): int(n) for pk, n in session.execute(statement)}

    if where is not None:
        return count()
    url = str(session.get_bind().url)
    base, value = quarter_state(session, quarter)
    key = ("comments", url, quarter, base, value)
    found, counts = peek(key, small=True)
    if found:
        return counts  # type: ignore[no-any-return]
    latest_key = ("comments-latest", url, quarter)
    found, latest = peek(latest_key, small=True)
    counts = None
    if found and latest[0] == base:
        changed = changes_since(session, quarter, latest[1], value)
        if changed is not None:
            counts = {pk: n for pk, n in latest[2].items() if pk not in changed}
            if changed:
                counts.update(count(changed))
    if counts is None:
        counts = count()
    store(key, counts, small=True)
    store(latest_key, (base, value, counts), small=True)
    return counts


def benchmark_scopes(data: ScoringData, scope: Scope) -> list[tuple[str, Scope]]:
    """The wider scopes shown beside a scope: its segments, then the company."""
    if scope.type == "company":
        return []
    wider: list[tuple[str, Scope]] = []
    if scope.type in ("account", "owner"):
        segments = sorted({data.accounts[a].segment for a in scope.account_ids})
        wider += [
            (f"Segment {name}", resolve_scope(data, "segment", name)) for name in segments[:3]
        ]
    wider.append(("Company", resolve_scope(data, "company", None)))
    return wider


def benchmarks(
    pieces: Pieces, scope: Scope, period: Period, disclosure: Disclosure | None
) -> tuple[Benchmark, ...]:
    """Segment and company figures beside a scope's own, for ``period``, as the viewer may
    see them (``disclosure``; SECURITY.md, "Differencing"): a figure that with the
    viewer's own would reveal other accounts' few answers is withheld. From the pieces
    (cpi.scorecards.pieces): after answers, only what they changed is scored again."""
    holder = cast(ScoringData, AccountsOnly(pieces.accounts()))
    return tuple(
        benchmark_as_seen(label, pieces.card(wider, period), disclosure)
        for label, wider in benchmark_scopes(holder, scope)
    )


def benchmark_as_seen(label: str, card: Scorecard, disclosure: Disclosure | None) -> Benchmark:
    """A wider scope's card as the viewer may see it, naming the figures withheld."""
    seen = disclosure.card(card) if disclosure is not None else card
    withheld = frozenset(
        r.code
        for r, computed in zip(seen.indicators, card.indicators, strict=True)
        if r.status == "insufficient" and computed.status != "insufficient"
    )
    return Benchmark(label, seen, withheld)


def build_report(
    session: Session,
    scope_type: str,
    scope_id: str | None,
    period: Period | str,
    *,
    min_n: int,
    comment_limit: int = PAGE_COMMENTS,
    viewer: Universe | None = None,
    comment_min_answers: int = 0,
    with_benchmarks: bool = False,
) -> Report:
    """Load and build one scope's report; ScopeNotFound when the scope does not exist.

    ``viewer``: whose view (SECURITY.md, "Differencing"); None gives every figure as
    computed (an administrator). ``comment_min_answers``: comments of accounts with
    fewer answers are left out (``min_n`` for everyone but administrators).
    ``with_benchmarks``: add the segment and company figures beside the scope's own.
    """
    when = Period.parse(period)
    only = [scope_id or ""] if scope_type == "account" else None
    data = load_scoring_data(session, when, history=TREND_QUARTERS - 1, account_ids=only)
    scope = resolve_scope(data, scope_type, scope_id)
    in_scope = None if scope.type == "company" else scope.account_ids
    comments = scope_comments(
        session, in_scope, when, limit=comment_limit, min_answers=comment_min_answers
    )
    # What every viewer's page shares (each quarter's scorecard, the audit's answer
    # counts, the segment and company figures) is kept in the cache under the generations
    # of the quarters it reads, as the dashboards keep it: after answers, only the
    # quarters written are scored again.
    pieces = Pieces(session, when, min_n=min_n)
    disclosure = Disclosure(session, viewer, min_n, counts=pieces.year_counts)
    by_account = data.kpis_by_account()

    def at(quarter: Period, moment: datetime | None) -> Scorecard:
        card = pieces.card(
            scope,
            quarter,
            lambda: score_at(data, scope, quarter, min_n=min_n, by_account=by_account),
        )
        return disclosure.card(card if moment is None else replace(card, generated_at=moment))

    report = report_from_cards(
        when, scope, at, data.accounts, min_n=min_n, comments=comments.shown,
        comments_total=comments.total, comments_withheld=comments.withheld,
        owner_names=owner_names(session), generated_at=datetime.now(UTC),
    )  # fmt: skip
    custom = custom_figures(session, scope_type, scope_id, when, min_n=min_n)
    report = replace(report, custom_questions=tuple(custom))
    if not with_benchmarks:
        return report
    wider = benchmarks(pieces, pieces.scope(scope_type, scope_id), when, disclosure)
    return replace(report, benchmarks=wider)


def account_exists(session: Session, account_id: str) -> Account | None:
    return session.scalar(select(Account).where(Account.account_id == account_id))
