"""``geogrid assign``, ``geogrid compute`` and ``geogrid stats``."""

from __future__ import annotations

import json

import typer
from rich.table import Table

from geogrid import db
from geogrid.cli.common import app, console, progress
from geogrid.i18n import heading, t


@app.command(help=t("Assign every building (and so its residents) and every facility to the grid that contains it."))
def assign(show: int = typer.Option(20, help=t("How many buildings outside every grid to list."))) -> None:
    from geogrid.assign import assign_all

    with console.status(t("assigning buildings and facilities to grids")), db.ready().begin() as conn:
        report = assign_all(conn)
    console.print(
        t(
            "buildings: {assigned:,} of {buildings:,} assigned; facilities: {facilities_assigned:,} of {facilities:,}",
            assigned=report.assigned,
            buildings=report.buildings,
            facilities_assigned=report.facilities_assigned,
            facilities=report.facilities,
        )
    )
    if not report.outside.empty:
        table = Table(
            heading("building"),
            heading("source id"),
            heading("address"),
            heading("nearest grid"),
            heading("distance (m)"),
            title=t("{n:,} buildings outside every grid", n=len(report.outside)),
        )
        for row in report.outside.head(show).itertuples():
            table.add_row(
                str(row.building_id),
                str(row.source_id or ""),
                str(row.address or ""),
                str(row.nearest_grid_code or ""),
                f"{row.distance_m:,.0f}",
            )
        console.print(table)


@app.command(
    help=t(
        "Recompute everything derived from the stored data: assignment, gazetteer, service areas, walks "
        "to the nearest service station, per-building coverage."
    )
)
def compute() -> None:
    from geogrid.pipeline import compute_all, label

    with progress() as bar:
        task = bar.add_task(t("computing"), total=None)
        compute_all(
            on_step=lambda name, done, total: bar.update(
                task, completed=done, total=total, description=t("{step} done", step=label(name))
            )
        )


@app.command(help=t("Per-grid households, residents, party members, special groups, staff and party organisation."))
def stats(
    community: str = typer.Option(None, help=t("Only this community (code or name).")),
    as_json: bool = typer.Option(False, "--json", help=t("Print JSON instead of a table.")),
) -> None:
    from geogrid.model import SPECIAL_GROUPS
    from geogrid.stats import grid_stats

    with db.ready().connect() as conn:
        frame = grid_stats(conn, community)
    if as_json:
        typer.echo(json.dumps(frame.to_dict(orient="records"), ensure_ascii=False, default=str, indent=1))
        return
    table = Table(
        heading("grid"),
        heading("name"),
        heading("kind"),
        heading("buildings"),
        heading("households"),
        heading("residents"),
        heading("party members"),
        heading("special groups"),
        heading("staff"),
        heading("full-time worker"),
        heading("party org"),
        title=t("{n} grids", n=len(frame)),
    )
    for row in frame.itertuples():
        special = sum(getattr(row, g) for g in SPECIAL_GROUPS)
        table.add_row(
            row.code,
            row.name,
            row.kind,
            f"{row.buildings:,}",
            f"{row.households:,}"
            + (" " + t("(estimated {n})", n=f"{row.estimated_households:,}") if row.households_estimated else ""),
            *(f"{v:,}" for v in (row.residents, row.party_members, special, row.staff)),
            "yes" if row.full_time_workers else "[red]none[/]",
            "yes" if row.party_org else "[red]none[/]",
        )
    console.print(table)
    if len(frame):  # the figures street offices report on their rosters (geogrid/rosters.py)
        console.print(
            t(
                "party organisation rate (组建率) {rate:.1%}; {n} grid(s) without a full-time worker",
                rate=float(frame["party_org"].mean()),
                n=int((frame["full_time_workers"] == 0).sum()),
            )
        )
