"""``geogrid demo``: replace all data with the demo street office, compute, write maps, serve.

``geogrid demo-boundaries FILE`` writes the demo's street, communities and grids as GeoJSON (the sample
boundaries shipped in ``data/boundaries/``) without touching the database.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from geogrid import db
from geogrid.cli.common import app, console, progress
from geogrid.errors import GeogridError
from geogrid.i18n import t

MAX_BUILDINGS = 1_000_000

if TYPE_CHECKING:
    from geogrid.settings import Settings


@app.command(
    help=t("Replace ALL data with the demo street office (长湖街道, 海淀区), compute everything, write maps, serve.")
)
def demo(
    buildings: int = typer.Option(
        None,
        "--buildings",
        "-n",
        help=t(
            "Scale the city to about N buildings (up to {max:,}); default: the hand-sized demo street office.",
            max=MAX_BUILDINGS,
        ),
    ),
    seed: int = typer.Option(7, help=t("Random seed: the same seed always gives the same city.")),
    serve: bool = typer.Option(True, "--serve/--no-serve", help=t("Serve the API and maps afterwards.")),
    out: Path = typer.Option(Path("out"), "--out", help=t("Directory the maps are written to.")),
    host: str = typer.Option(None, help=t("Address to serve on (default GEOGRID_API_HOST).")),
    port: int = typer.Option(None, help=t("Port to serve on (default GEOGRID_API_PORT).")),
) -> None:
    from geogrid.demo import PEOPLE_MAX_BUILDINGS, load_demo
    from geogrid.pipeline import compute_all, label
    from geogrid.plugins import DemoContext, run_demo_hooks

    if buildings is not None and not 200 <= buildings <= MAX_BUILDINGS:
        raise GeogridError(
            t("--buildings must be between 200 and {max:,} (got {buildings:,})", max=MAX_BUILDINGS, buildings=buildings)
        )
    engine = db.ready()
    with progress() as bar:
        task = bar.add_task(t("loading the demo city"), total=6)

        def on_step(name: str, done: int, total: int) -> None:
            bar.update(task, description=name, completed=done, total=total)

        with engine.begin() as conn:
            tables = db.truncate_all(conn)
            console.print(t("replaced all data: emptied {n} tables", n=len(tables)))
            summary = load_demo(conn, buildings=buildings, seed=seed, on_progress=on_step)
        compute = bar.add_task(t("computing"), total=None)
        compute_all(
            on_step=lambda name, done, total: bar.update(
                compute, description=t("computed {step}", step=label(name)), completed=done, total=total
            )
        )
    console.print(
        t(
            "{street} demo city (seed {seed}): {communities} communities, {grids:,} grids ({dedicated} dedicated), "
            "{compounds:,} compounds, {buildings:,} buildings, {households:,} households, {residents:,} residents, "
            "{staff:,} staff, {party_orgs:,} party organisations, {facilities} facilities, {walk_edges:,} walkable "
            "segments",
            street=f"[bold]{summary.street_code}[/]",
            seed=seed,
            communities=summary.communities,
            grids=summary.grids,
            dedicated=summary.dedicated_grids,
            compounds=summary.compounds,
            buildings=summary.buildings,
            households=summary.households,
            residents=summary.residents,
            staff=summary.staff,
            party_orgs=summary.party_orgs,
            facilities=summary.facilities,
            walk_edges=summary.walk_edges,
        )
    )
    if summary.buildings > PEOPLE_MAX_BUILDINGS:
        console.print(
            t(
                "above {n:,} buildings only household counts are generated (no household, resident or personal rows)",
                n=PEOPLE_MAX_BUILDINGS,
            )
        )
    settings = _settings()
    run_demo_hooks(
        DemoContext(out_dir=out, serve=serve, host=host or settings.api_host, port=port or settings.api_port)
    )


@app.command(
    "demo-boundaries",
    help=t("Write the demo street, its communities and grids as GeoJSON (lon/lat), without the database."),
)
def demo_boundaries(
    path: Path = typer.Argument(Path("data/boundaries/demo-street.geojson"), help=t("GeoJSON file to write.")),
    seed: int = typer.Option(7, help=t("Random seed of the demo city.")),
) -> None:
    from geogrid.demo.export import boundaries_frame

    frame = boundaries_frame(seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)
    frame.to_file(path, driver="GeoJSON", engine="pyogrio", layer_options={"COORDINATE_PRECISION": 7})
    console.print(t("wrote {n} features to {path}", n=len(frame), path=path))


def _settings() -> Settings:
    """The settings, imported on use: ``geogrid --help`` does not load pydantic-settings."""
    from geogrid.settings import get_settings

    return get_settings()
