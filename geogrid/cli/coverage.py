"""``geogrid coverage``: service-circle coverage per grid, its gaps, siting suggestions, and recomputing areas."""

from __future__ import annotations

import json

import typer
from rich.table import Table

from geogrid import db
from geogrid.cli.common import app, console, progress
from geogrid.i18n import heading, join, t

coverage_app = typer.Typer(help=t("Service-circle coverage (5/10/15-minute walk) per grid, gaps and new sites."))
app.add_typer(coverage_app, name="coverage")

MINUTES = typer.Option(5, "--minutes", "-m", help=t("Circle level: 5, 10 or 15 minutes."))
MODE = typer.Option("network", help=t("circle (straight line) or network (along the walking network)."))
COMMUNITY = typer.Option(None, help=t("Only this community (code or name)."))
JSON = typer.Option(False, "--json", help=t("Print JSON instead of a table."))
KIND = typer.Option("service_station", help=t("Facility kind."))


def _query(minutes: int, mode: str, kind: str | None, community: str | None):
    from geogrid.coverage.stats import Query

    return Query(minutes=minutes, mode=mode, kind=kind, community=community)


def _pct(share: float | None) -> str:
    return "–" if share is None else f"{share:.1%}"


def _echo_json(data: dict) -> None:
    typer.echo(json.dumps(data, ensure_ascii=False, indent=1, default=str))


@coverage_app.callback(invoke_without_command=True)
def show(
    ctx: typer.Context,
    minutes: int = MINUTES,
    mode: str = MODE,
    kind: str = typer.Option(None, help=t("Facility kind, e.g. service_station (all kinds when absent).")),
    community: str = COMMUNITY,
    as_json: bool = JSON,
) -> None:
    """Without a subcommand: households, residents and special groups within reach, per grid (as GET /coverage)."""
    if ctx.invoked_subcommand:
        return
    from geogrid.coverage.stats import coverage

    with db.ready().connect() as conn:
        result = coverage(conn, _query(minutes, mode, kind, community))
    if as_json:
        return _echo_json(result)
    s = result["summary"]
    table = Table(
        heading("grid"),
        heading("name"),
        heading("households"),
        heading("households covered"),
        heading("share"),
        heading("residents"),
        heading("residents covered"),
        heading("elderly alone"),
        title=_coverage_title(minutes, mode, kind, s),
    )
    for g in result["grids"]:
        table.add_row(
            g["code"],
            g["name"] or "",
            f"{g['households']:,}",
            f"{g['households_covered']:,}",
            _pct(g["share"]),
            f"{g['residents']:,}",
            f"{g['residents_covered']:,}",
            f"{g['elderly_alone_covered']:,}/{g['elderly_alone']:,}",
        )
    console.print(table)


def _coverage_title(minutes: int, mode: str, kind: str | None, s: dict) -> str:
    values = {
        "minutes": minutes,
        "mode": mode,
        "kind": kind,
        "covered": s["households_covered"],
        "households": s["households"],
        "share": _pct(s["share"]),
    }
    if kind:
        return t(
            "{minutes}-minute {mode} coverage of {kind}: {covered:,} of {households:,} households ({share})", **values
        )
    return t("{minutes}-minute {mode} coverage: {covered:,} of {households:,} households ({share})", **values)


@coverage_app.command(
    help=t("Uncovered buildings grouped into clusters; grids with no station inside or within reach.")
)
def gaps(
    minutes: int = MINUTES,
    mode: str = MODE,
    kind: str = KIND,
    community: str = COMMUNITY,
    link_m: float = typer.Option(100.0, help=t("Cluster link distance (m).")),
    show_clusters: int = typer.Option(20, "--show", help=t("Clusters listed.")),
    as_json: bool = JSON,
) -> None:
    from geogrid.coverage.gaps import gaps as find_gaps

    with db.ready().connect() as conn:
        result = find_gaps(conn, _query(minutes, mode, kind, community), link_m=link_m)
    if as_json:
        return _echo_json(result)
    s = result["summary"]
    table = Table(
        heading("cluster"),
        heading("buildings"),
        heading("households"),
        heading("lon"),
        heading("lat"),
        heading("radius (m)"),
        heading("grids"),
        title=t(
            "{households:,} uncovered households in {clusters:,} clusters",
            households=s["households"],
            clusters=s["clusters"],
        ),
    )
    for c in result["clusters"][:show_clusters]:
        table.add_row(
            str(c["cluster"]),
            f"{c['buildings']:,}",
            f"{c['households']:,}",
            f"{c['lon']:.6f}",
            f"{c['lat']:.6f}",
            f"{c['radius_m']:,.0f}",
            ", ".join(c["grids"]),
        )
    console.print(table)
    flags = Table(
        heading("grid"),
        heading("name"),
        heading("stations inside"),
        heading("reached"),
        title=t("{n} grids flagged", n=len(result["grids"])),
    )
    for g in result["grids"]:
        flags.add_row(g["code"], g["name"] or "", str(g["stations_inside"]), t("yes") if g["reached"] else t("no"))
    console.print(flags)


@coverage_app.command(help=t("Propose k sites covering the most uncovered households (exact MCLP, checked by greedy)."))
def suggest(
    k: int = typer.Option(3, "-k", help=t("Number of new sites.")),
    minutes: int = MINUTES,
    mode: str = MODE,
    kind: str = KIND,
    community: str = COMMUNITY,
    max_buildings: int = typer.Option(300, help=t("Uncovered buildings tried as sites.")),
    as_json: bool = JSON,
) -> None:
    from geogrid.coverage.suggest import suggest as propose

    with console.status(t("solving the maximal covering problem")), db.ready().connect() as conn:
        result = propose(conn, _query(minutes, mode, kind, community), k=k, max_buildings=max_buildings)
    if as_json:
        return _echo_json(result)
    table = Table(
        "#",
        heading("site"),
        heading("lon"),
        heading("lat"),
        heading("gain (households)"),
        heading("covered after"),
        heading("share after"),
        title=t("{method} — {n} candidates", method=result["method"], n=result["candidates"]),
    )
    for i, site in enumerate(result["sites"], start=1):
        table.add_row(
            str(i),
            f"{site['source']} {site['ref_id']}",
            f"{site['lon']:.6f}",
            f"{site['lat']:.6f}",
            f"{site['gain_households']:,}",
            f"{site['households_covered_after']:,}",
            _pct(site["share_after"]),
        )
    console.print(table)


@coverage_app.command(
    "compute",
    help=t(
        "Recompute the service areas of every facility (circle and network) and the walks to the nearest service station "
        "that lookups report: what changes when facilities do (`geogrid compute` does all)."
    ),
)
def compute_areas() -> None:
    from geogrid.coverage.compute import MODES, compute_service_areas
    from geogrid.stations import store_station_walks

    written: dict[str, int] = {}
    with progress() as bar, db.ready().begin() as conn:
        task = bar.add_task(t("service areas"), total=len(MODES) + 1)
        for mode in MODES:
            bar.update(task, description=t("{mode} service areas", mode=mode))
            written.update(compute_service_areas(conn, modes=(mode,)))
            bar.advance(task)
        bar.update(task, description=t("walks to the nearest service station"))
        walks = store_station_walks(conn)
        bar.advance(task)
    console.print(
        join(
            [t("{mode}: {n:,} areas", mode=mode, n=n) for mode, n in written.items()]
            + [t("{n:,} network nodes with a walk to a station", n=walks)],
            zh="，",
        )
    )
