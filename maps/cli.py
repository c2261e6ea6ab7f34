"""``geogrid map ...``: the coverage and grid maps written to files, and the demo's map step.

A map written to a file embeds its layers and sits next to a ``geogrid-static/`` copy of Leaflet and the
map script, so the folder opens offline from disk or any plain web server.
"""

from __future__ import annotations

from pathlib import Path

import typer

from geogrid.i18n import t
from geogrid.plugins import DemoContext

STATIC_DIR = "geogrid-static"


def _file_options(out: Path, measure: str):
    from maps.assets import copy_static
    from maps.pages import PageOptions

    copy_static(out.parent / STATIC_DIR)
    return PageOptions(static_url=STATIC_DIR, layer_url=None, lookup_url=None, measure=measure, tiles_url=None)


def write_coverage(
    out: Path,
    community: str | None,
    mode: str = "auto",
    minutes: int = 5,
    measure: str = "coverage",
    kind: str | None = None,
) -> int:
    """Write the coverage map of an area (or the city) to ``out``; returns its size in bytes."""
    from geogrid import db
    from maps import data, pages

    out.parent.mkdir(parents=True, exist_ok=True)
    with db.ready().connect() as conn:
        html = pages.coverage_page(conn, data.Scope(community, mode, minutes, kind), _file_options(out, measure))
    out.write_text(html, encoding="utf-8")
    return len(html.encode())


def write_grid(out: Path, code: str, mode: str = "auto", minutes: int = 5, measure: str = "households") -> int:
    """Write one grid's map to ``out``; returns its size in bytes."""
    from geogrid import db
    from maps import pages

    out.parent.mkdir(parents=True, exist_ok=True)
    with db.ready().connect() as conn:
        html = pages.grid_page(conn, code, _file_options(out, measure), mode=mode, minutes=minutes)
    out.write_text(html, encoding="utf-8")
    return len(html.encode())


def register(app: typer.Typer) -> None:
    """Add the ``geogrid map`` commands."""
    maps_app = typer.Typer(
        help=t("Coverage and grid maps as HTML files (Leaflet served locally, no CDN)."), no_args_is_help=True
    )
    app.add_typer(maps_app, name="map")

    @maps_app.command(
        "coverage", help=t("Write the coverage map of an area: grids, service areas, facilities, uncovered buildings.")
    )
    def coverage_command(
        out: Path = typer.Option(..., "-o", "--out", help=t("HTML file to write.")),
        community: str = typer.Option(None, help=t("District, street or community (code or name); default city.")),
        mode: str = typer.Option("auto", help=t("circle, network or auto (network when computed).")),
        minutes: int = typer.Option(5, help=t("Service circle in minutes (5, 10 or 15).")),
        measure: str = typer.Option("coverage", help=t("Grid colour: households, coverage or party_members.")),
        kind: str = typer.Option(None, help=t("Only facilities of this kind.")),
    ) -> None:
        size = write_coverage(out, community, mode, minutes, measure, kind)
        typer.echo(t("wrote {path} ({kib:.0f} KiB)", path=out, kib=size / 1024))

    @maps_app.command("grid", help=t("Write one grid's map with all its buildings."))
    def grid_command(
        code: str = typer.Argument(..., help=t("Grid code.")),
        out: Path = typer.Option(..., "-o", "--out", help=t("HTML file to write.")),
        mode: str = typer.Option("auto", help=t("circle, network or auto.")),
        minutes: int = typer.Option(5, help=t("Service circle in minutes.")),
        measure: str = typer.Option("households", help=t("Grid colour: households, coverage or party_members.")),
    ) -> None:
        size = write_grid(out, code, mode, minutes, measure)
        typer.echo(t("wrote {path} ({kib:.0f} KiB)", path=out, kib=size / 1024))


def demo_hook(ctx: DemoContext) -> None:
    """Write a coverage map per street (and the city when small enough) plus an index into ``ctx.out_dir``."""
    from html import escape

    from geogrid import db
    from geogrid.cli.common import progress
    from maps import data, pages

    out_dir = Path(ctx.out_dir) / "maps"
    with db.ready().connect() as conn:
        areas = data.areas(conn)
        city = data.grid_count(conn, data.Scope()) <= pages.EMBED_MAX_GRIDS
    streets = areas[areas["level"] == "street"]
    targets = [(None, "全市 city", "coverage.html")] if city else []
    targets += [(r.code, r.name, f"coverage-{r.code}.html") for r in streets.itertuples()]
    links = []
    with progress() as bar:
        task = bar.add_task("maps", total=len(targets))
        for code, name, filename in targets:
            write_coverage(out_dir / filename, code)
            links.append(f"<li><a href='{filename}'>{escape(name)}</a> {code or ''}</li>")
            bar.advance(task)
    (out_dir / "index.html").write_text(
        "<!DOCTYPE html><meta charset='utf-8'><title>geogrid maps</title><h1>网格覆盖图 coverage maps</h1>"
        f"<ul>{''.join(links)}</ul><p>Served maps (every community and grid): /maps</p>",
        encoding="utf-8",
    )
    typer.echo(t("maps: {n} written to {path}", n=len(targets), path=out_dir))
