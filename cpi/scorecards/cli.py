from __future__ import annotations

import json
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from cpi.core_cli import require_schema
from cpi.db import get_session
from cpi.jobs.dispatch import dispatch
from cpi.scorecards import display
from cpi.scorecards.operations import (
    ScopeNotFound,
    has_data,
    load_scoring_data,
    resolve_scope,
    score,
)
from cpi.scoring import Period, Scorecard


def parse_period(value: str) -> Period:
    try:
        return Period.parse(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a period like 2026-Q3 or 2026") from None


def _scope_from_flags(
    account: str | None, segment: str | None, owner: str | None
) -> tuple[str, str | None]:
    given = [
        (kind, value)
        for kind, value in (("account", account), ("segment", segment), ("owner", owner))
        if value
    ]
    if len(given) > 1:
        raise click.UsageError("give at most one of --account, --segment, --owner")
    return given[0] if given else ("company", None)


@click.command("score")
@click.option("--period", "period_text", required=True, help="2026-Q3 or 2026")
@click.option("--account", default=None, help="account_id")
@click.option("--segment", default=None)
@click.option("--owner", default=None, help="account manager's email")
@click.option(
    "--format", "output", type=click.Choice(["json", "table"]), default="table", show_default=True
)
@with_appcontext
def score_command(
    period_text: str, account: str | None, segment: str | None, owner: str | None, output: str
) -> None:
    """Compute the scorecard for a scope and period (company-wide without a scope flag)."""
    period = parse_period(period_text)
    scope_type, scope_id = _scope_from_flags(account, segment, owner)
    require_schema()
    session = get_session()
    if not has_data(session, period):
        raise click.ClickException(f"no data for period {period}")
    data = load_scoring_data(session, period)
    try:
        scope = resolve_scope(data, scope_type, scope_id)
    except ScopeNotFound as error:
        raise click.ClickException(str(error)) from None
    card = score(data, scope, min_n=current_app.config["MIN_N"])
    if output == "json":
        click.echo(json.dumps(card.to_dict(), indent=2, ensure_ascii=False))
    else:
        click.echo(render_table(card))


def render_table(card: Scorecard) -> str:
    name = card.scope_name or "Company"
    rate = f", response rate {card.response_rate:.1f}%" if card.response_rate is not None else ""
    lines = [f"{name} ({card.scope_type}) · {card.period} · {card.responses} responses{rate}", ""]
    header = ("indicator", "n", "value", "95% CI", "KPI", "gap", "target", "status", "delta")
    rows = [header]
    for result in card.indicators:
        rows.append((
            result.name, str(result.n), display.value(result), display.interval(result),
            display.number(result.code, result.kpi), display.gap(result),
            display.number(result.code, result.target),
            (result.status or "–") + (" (uncertain)" if display.status_uncertain(result) else ""),
            display.delta(result),
        ))  # fmt: skip
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    for row in rows:
        lines.append("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)))
    lines.append("")
    lines.append(
        "* significant: for a gap, the KPI lies outside the 95% interval of the customers'"
        " answers; for a change, its 95% interval excludes 0"
    )
    lines.append("(uncertain): the 95% interval crosses a boundary of the status band")
    return "\n".join(lines)


@click.command("scorecard")
@click.option("--period", "period_text", required=True, help="2026-Q3 or 2026")
@click.option("--account", default=None, help="account_id")
@click.option("--segment", default=None)
@click.option("--owner", default=None, help="account manager's email")
@click.option("--company", is_flag=True, help="the whole company")
@click.option("--all-accounts", is_flag=True, help="one PDF per account (PATH: folder or .zip)")
@click.option("-o", "--output", "output", required=True, type=click.Path(path_type=Path))
@click.option("--processes", type=click.IntRange(1, 256), default=None, help="default: all cores")
@click.option(
    "--edition",
    type=click.Choice(["customer", "internal"]),
    default="internal",
    show_default=True,
    help="customer: the QBR edition of one account (summary, trends, chosen comments, actions)",
)
@click.option(
    "--lang",
    type=click.Choice(["en", "fr", "de", "hu", "ru"]),
    default=None,
    help="the customer edition's language (default: the account's)",
)
@with_appcontext
def scorecard_command(
    period_text: str,
    account: str | None,
    segment: str | None,
    owner: str | None,
    company: bool,
    all_accounts: bool,
    output: Path,
    processes: int | None,
    edition: str,
    lang: str | None,
) -> None:
    """Write the PDF scorecard of a scope, or of every account (--all-accounts).

    ``--edition customer`` writes an account's QBR edition, in ``--lang`` (default: the
    account's language); a ``.pptx`` PATH writes the account's slide deck."""
    from cpi.scorecards.differencing import Universe
    from cpi.scorecards.pdf import PdfError
    from cpi.scorecards.rendering import pdf_filename, report_pdf
    from cpi.scorecards.reports import account_exists, build_report

    period = parse_period(period_text)
    flags = (account, segment, owner, company, all_accounts)
    chosen = [flag for flag in flags if flag]
    if len(chosen) != 1:
        raise click.UsageError(
            "give exactly one of --account, --segment, --owner, --company, --all-accounts"
        )
    deck = output.suffix.lower() == ".pptx"
    if (edition == "customer" or deck) and not account:
        raise click.UsageError("the customer edition and the slide deck are for one --account")
    if lang and edition == "internal" and not deck:
        raise click.UsageError("--lang is for the customer edition and the slide deck")
    require_schema()
    if account and (edition == "customer" or deck):
        _write_qbr(account, period, output, edition=edition, lang=lang, deck=deck)
        return
    if all_accounts:
        # On a worker when there is a queue (it must see PATH: the same machine or a
        # shared volume), else here.
        click.echo(
            dispatch(
                "render_scorecards",
                period=str(period),
                output=str(output.resolve()),
                processes=processes,
            )
        )
        return
    session = get_session()
    scope_type, scope_id = _scope_from_flags(account, segment, owner)
    # What the account's (or portfolio's) manager sees on the web; else company-wide staff.
    found = account_exists(session, account) if account else None
    manager = found.owner_email if found else (owner or "").strip().lower() or None
    try:
        if found is not None:  # without the comments the account manager hid
            from cpi.scorecards.qbr.documents import account_report
            from cpi.scorecards.qbr.operations import choices

            report = account_report(
                session, found, period, viewer=Universe(manager),
                hidden=choices(session, found, period).hidden, comment_min_answers=0,
            )  # fmt: skip
        else:
            report = build_report(
                session, scope_type, scope_id, period, min_n=current_app.config["MIN_N"],
                comment_limit=6, viewer=Universe(manager),
            )  # fmt: skip
        pdf = report_pdf(report)
    except ScopeNotFound as error:
        raise click.ClickException(str(error)) from None
    except PdfError as error:
        raise click.ClickException(f"the PDF could not be produced: {error}") from None
    target = output / pdf_filename(scope_id, str(period)) if output.is_dir() else output
    partial = target.with_name(target.name + ".part")
    partial.write_bytes(pdf)
    partial.replace(target)
    click.echo(f"Wrote {target} ({len(pdf) / 1024:.0f} kB)")


def _write_qbr(
    account_id: str, period: Period, output: Path, *, edition: str, lang: str | None, deck: bool
) -> None:
    """The account's customer edition (PDF or deck), or its internal figures as a deck,
    with the choices saved for the account and period (comments, actions)."""
    from cpi.scorecards.differencing import Universe
    from cpi.scorecards.pdf import PdfError
    from cpi.scorecards.qbr import documents, operations, slides
    from cpi.scorecards.reports import account_exists

    session = get_session()
    found = account_exists(session, account_id)
    if found is None:
        raise click.ClickException(f"no account {account_id!r}")
    chosen = operations.choices(session, found, period)
    try:
        qbr = documents.customer_edition(
            session, found, period, choices=chosen, viewer=Universe(found.owner_email),
            comment_min_answers=0, language=lang,
            internal=True if edition == "internal" else None,
        )  # fmt: skip
        logo = operations.account_logo(session, found)
        data = slides.deck(qbr, logo) if deck else documents.customer_pdf(qbr, logo)
    except ScopeNotFound as error:
        raise click.ClickException(str(error)) from None
    except PdfError as error:
        raise click.ClickException(f"the PDF could not be produced: {error}") from None
    suffix = "pptx" if deck else "pdf"
    target = output
    if output.is_dir():
        target = output / documents.filename(account_id, str(period), suffix, edition)
    partial = target.with_name(target.name + ".part")
    partial.write_bytes(data)
    partial.replace(target)
    click.echo(f"Wrote {target} ({len(data) / 1024:.0f} kB, {qbr.locale})")
