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
) -> None:
    """Write the PDF scorecard of a scope, or of every account (--all-accounts)."""
    from cpi.scorecards.disclosure import Universe
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
    require_schema()
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
