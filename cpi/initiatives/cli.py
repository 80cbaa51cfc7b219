"""``cpi initiative create|list|show|report`` and the CSV imports of participants and costs.

The command line reads and writes as an administrator (every initiative, every figure;
``min_n`` still withholds thin figures)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click
from flask import current_app
from flask.cli import with_appcontext

from cpi.core_cli import require_schema
from cpi.db import database
from cpi.imports.csvfile import ImportFailed
from cpi.initiatives.models import KINDS
from cpi.initiatives.operations import (
    InitiativeError,
    InitiativeNotFound,
    Viewer,
    cli_cost_lines,
    cost_summary,
    create_initiative,
    get_initiative,
    import_costs,
    import_participants,
    list_initiatives,
)


@click.group("initiative")
def initiative_group() -> None:
    """Enablement initiatives: create, list, show, report."""


@initiative_group.command("create")
@click.option("--name", required=True)
@click.option("--kind", required=True, help=" | ".join(KINDS))
@click.option("--start", required=True, help="first day, YYYY-MM-DD")
@click.option("--end", required=True, help="last day, YYYY-MM-DD")
@click.option("--indicators", required=True, help="target indicator codes, comma-separated")
@click.option("--participants", required=True, help="account managers' emails, comma-separated")
@click.option("--description", default=None)
@click.option("--fees", default=None, help="fees and materials, in money")
@click.option("--hours", default=None, help="participants' hours, in total")
@click.option("--hourly-cost", "hourly_cost", default=None, help="cost of one hour of their time")
@click.option("--benefit-outcome", default=None, help="count this outcome's measured change")
@click.option("--benefit-value", default=None, help="money per unit of that outcome")
@with_appcontext
def create_command(
    name: str,
    kind: str,
    start: str,
    end: str,
    indicators: str,
    participants: str,
    description: str | None,
    fees: str | None,
    hours: str | None,
    hourly_cost: str | None,
    benefit_outcome: str | None,
    benefit_value: str | None,
) -> None:
    """Create an initiative (participants' accounts are treated from the start); prints its id."""
    require_schema()
    try:
        costs = cli_cost_lines(fees, hours, hourly_cost)
        with database().transaction() as session:
            initiative = create_initiative(
                session, actor="cli", name=name, kind=kind, start=start, end=end,
                indicators=indicators, participants=participants, description=description,
                costs=costs, benefit_outcome=benefit_outcome, benefit_value=benefit_value,
            )  # fmt: skip
            initiative_id = initiative.id
    except InitiativeError as error:
        raise click.ClickException(str(error)) from None
    click.echo(initiative_id)


def _money(value: float | None) -> str:
    return "-" if value is None else f"{value:,.2f}"


@initiative_group.command("list")
@with_appcontext
def list_command() -> None:
    """Initiatives with dates, participants and costs."""
    require_schema()
    with database().transaction() as session:
        rows = [
            (i.id, i.kind, i.start_date, i.end_date, len(i.participants),
             cost_summary(i)["total"], i.name)
            for i in list_initiatives(session, Viewer.cli())
        ]  # fmt: skip
    if not rows:
        click.echo("no initiatives")
        return
    click.echo(
        f"{'id':>4}  {'kind':<9} {'start':<10} {'end':<10} {'people':>6} {'costs':>14}  name"
    )
    for key, kind, start, end, people, total, name in rows:
        click.echo(f"{key:>4}  {kind:<9} {start} {end} {people:>6} {_money(total):>14}  {name}")


@initiative_group.command("show")
@click.argument("initiative_id", type=int)
@with_appcontext
def show_command(initiative_id: int) -> None:
    """One initiative: dates, indicators, participants, every cost line, case studies."""
    require_schema()
    try:
        with database().transaction() as session:
            initiative = get_initiative(session, initiative_id, Viewer.cli())
            costs = cost_summary(initiative)
            lines = [
                ("initiative", f"{initiative.id} {initiative.name}"),
                ("kind", initiative.kind),
                ("dates", f"{initiative.start_date} to {initiative.end_date}"),
                ("indicators", ", ".join(initiative.indicator_codes)),
                ("participants", ", ".join(initiative.participant_emails)),
            ]
            for item in costs["items"]:
                detail = (
                    f"{item['hours']:g} h x {_money(item['hourly_cost'])} = {_money(item['total'])}"
                    if item["kind"] == "hours"
                    else _money(item["total"])
                )
                lines.append((f"cost {item['kind']}", f"{detail}  {item['description'] or ''}"))
            lines.append(("costs total", _money(costs["total"])))
            for study in initiative.case_studies:
                lines.append(
                    (f"case study {study.id}",
                     f"{study.status}: {_money(study.amount)} {study.kind} ({study.title})")
                )  # fmt: skip
    except InitiativeNotFound as error:
        raise click.ClickException(str(error)) from None
    width = max(len(label) for label, _ in lines)
    for label, value in lines:
        click.echo(f"{label:<{width}}  {value}".rstrip())


@initiative_group.command("report")
@click.argument("initiative_id", type=int)
@click.option("--before", default=2, show_default=True, type=int, help="quarters before the start")
@click.option("--after", default=2, show_default=True, type=int, help="quarters after the end")
@click.option("--format", "output", type=click.Choice(["table", "json"]), default="table")
@with_appcontext
def report_command(initiative_id: int, before: int, after: int, output: str) -> None:
    """The effect report: N quarters before the start and N after the end (default 2 and 2)."""
    from cpi.initiatives.report import build_report

    require_schema()
    try:
        with database().transaction() as session:
            initiative = get_initiative(session, initiative_id, Viewer.cli())
            report = build_report(
                session, initiative, viewer=Viewer.cli(), min_n=current_app.config["MIN_N"],
                before=before, after=after,
            )  # fmt: skip
    except (InitiativeError, InitiativeNotFound) as error:
        raise click.ClickException(str(error)) from None
    if output == "json":
        click.echo(json.dumps(report, indent=2))
        return
    click.echo(format_table(report))


def _figure(value: float | None, digits: int = 1) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def format_table(report: dict[str, Any]) -> str:
    """The report for people: one line per effect, then costs, benefits and ROI."""
    info = report["initiative"]
    lines = [
        f"initiative {info['id']} {info['name']} ({info['start']} to {info['end']})",
        f"before: {', '.join(report['before'])}   after: {', '.join(report['after'])}"
        + ("" if report["complete"] else "   (the after window has not ended)"),
        f"treated accounts: {report['treated_accounts']}   "
        f"untreated accounts: {report['untreated_accounts']}",
        "",
        f"{'figure':<18} {'treated':>15} {'untreated':>15} {'DiD':>7} {'95% interval':>17}  note",
    ]
    for row in report["effects"] + report["outcome_effects"]:
        name = row.get("indicator") or row.get("outcome")
        treated = f"{_figure(row['treated_before'])}>{_figure(row['treated_after'])}"
        untreated = f"{_figure(row['untreated_before'])}>{_figure(row['untreated_after'])}"
        interval = (
            f"[{_figure(row['did_low'])}, {_figure(row['did_high'])}]"
            if row["did_low"] is not None
            else "-"
        )
        notes = []
        if row["reason"]:
            notes.append(row["reason"])
        elif row["significant"]:
            notes.append("significant")
        else:
            notes.append("not significant")
        if row["pretrend_warning"]:
            notes.append("pre-trends differ")
        lines.append(
            f"{name:<18} {treated:>15} {untreated:>15} {_figure(row['did']):>7} {interval:>17}  "
            + "; ".join(notes)
        )
    costs, benefits = report["costs"], report["benefits"]
    lines += [
        "",
        f"costs: {_money(costs['total'])} (fees and materials {_money(costs['fees'])}, "
        f"{costs['hours']:g} hours x {_money(costs['hourly_cost'])})",
        f"benefits: {_money(benefits['total'])} (approved case studies "
        f"{_money(benefits['case_studies'])}, measured {_money(benefits['measured'])})",
        f"ROI: {_figure(report['roi_percent'])}%   return multiple: "
        f"{_figure(report['return_multiple'], 2)}",
    ]
    if report["roi_low"] is not None:
        lines.append(
            f"with the measured benefit's 95% interval: ROI {_figure(report['roi_low'])}% to "
            f"{_figure(report['roi_high'])}%, multiple {_figure(report['multiple_low'], 2)} to "
            f"{_figure(report['multiple_high'], 2)}"
        )
    return "\n".join(lines)


@initiative_group.command("import-participants")
@click.argument("initiative_id", type=int)
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@with_appcontext
def import_participants_command(initiative_id: int, file: Path) -> None:
    """Add the account managers of a CSV (column email) to an initiative: all rows or none."""
    require_schema()
    try:
        with database().transaction() as session, open(file, "rb") as raw:
            initiative = get_initiative(session, initiative_id, Viewer.cli())
            added = import_participants(session, initiative, raw, actor="cli")
    except ImportFailed as failure:
        raise click.ClickException(f"{failure.report()}\n{file}: nothing imported") from None
    except InitiativeNotFound as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"{added} participants added")


@initiative_group.command("import-costs")
@click.argument("initiative_id", type=int)
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@with_appcontext
def import_costs_command(initiative_id: int, file: Path) -> None:
    """Add cost lines from a CSV (kind, description, amount, hours, hourly_cost): all or none."""
    require_schema()
    try:
        with database().transaction() as session, open(file, "rb") as raw:
            initiative = get_initiative(session, initiative_id, Viewer.cli())
            added = import_costs(session, initiative, raw, actor="cli")
    except ImportFailed as failure:
        raise click.ClickException(f"{failure.report()}\n{file}: nothing imported") from None
    except InitiativeNotFound as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"{added} cost lines added")
