"""``geogrid partition``: propose grids for a street office or a community, or rebalance its grids, as a plan."""

from __future__ import annotations

import json

import typer
from rich.table import Table

from geogrid import db
from geogrid.cli.common import app, console
from geogrid.errors import InputError
from geogrid.i18n import heading, t


@app.command(
    "partition",
    help=t(
        "Propose grids for a street office or community (or rebalance its grids) as a "
        "draft plan: preview it, then apply it with geogrid plan apply."
    ),
)
def partition_command(
    street: str = typer.Option(None, "--street", "-s", help=t("Street office code or name.")),
    community: str = typer.Option(None, "--community", "-c", help=t("Community code or name.")),
    rebalance: bool = typer.Option(
        False,
        "--rebalance",
        help=t("Fix the existing grids outside the household band with the fewest buildings moved."),
    ),
    keep_in_band: bool = typer.Option(
        True, "--keep-in-band/--touch-in-band", help=t("Rebalance: leave grids within the band untouched (default).")
    ),
    seed: int = typer.Option(0, help=t("Seed: the same seed gives the same grids.")),
    author: str = typer.Option(None, help=t("Who proposes the change.")),
    as_json: bool = typer.Option(False, "--json", help=t("Print the whole plan as JSON on stdout.")),
) -> None:
    from geogrid.partition.propose import propose
    from geogrid.partition.rebalance import rebalance as rebalance_grids

    with db.ready().begin() as conn, console.status(t("proposing grids")):
        if rebalance:
            if community is None:
                raise InputError(t("rebalance works on one community: give --community"), field="community")
            plan = rebalance_grids(conn, community, keep_in_band=keep_in_band, author=author)
        else:
            plan = propose(conn, community=community, street=street, seed=seed, author=author)
        from geogrid.cli.planning import audit_write

        audit_write(conn, "plan_create", f"plan {plan['plan']}", {"plan": plan["plan"]}, plan["preview"])
    if as_json:
        typer.echo(json.dumps(plan, ensure_ascii=False, indent=2, default=str))
        return
    _print(plan)


def _print(plan: dict) -> None:
    report = plan["preview"].get("partition", {})
    table = Table(
        heading("grid"),
        heading("kind"),
        heading("households"),
        heading("buildings"),
        heading("Polsby–Popper"),
        heading("on roads"),
        heading("note"),
        title=t("plan {plan}: proposed grids", plan=plan["plan"]),
    )
    for g in report.get("grids", []):
        hh = f"{g['households']:,}" + (
            " " + t("(estimated {n})", n=g["estimated_households"]) if g["estimated_households"] else ""
        )
        table.add_row(
            g["name"],
            g["kind"],
            hh if g["in_band"] else f"[yellow]{hh}[/]",
            str(g["buildings"]),
            f"{g['polsby_popper']:.2f}",
            "" if g["road_share"] is None else f"{g['road_share']:.0%}",
            g["reason"] or "",
        )
    if report.get("grids"):
        console.print(table)
    console.print(t("summary: {summary}", summary=json.dumps(report.get("summary", {}), ensure_ascii=False)))
    console.print(
        t(
            "validation after: {counts}; apply with: geogrid plan apply {plan}",
            counts=json.dumps(plan["preview"]["validation"]["after"], ensure_ascii=False),
            plan=plan["plan"],
        )
    )
