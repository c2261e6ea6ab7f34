"""``geogrid import areas|grids|buildings|residents|facilities|osm FILE`` and ``geogrid export LAYER -o FILE``.

Each import runs in one transaction: the first bad row prints the file, row and field and changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import typer

from geogrid import db
from geogrid.cli.common import app, console, progress
from geogrid.i18n import t

import_app = typer.Typer(
    name="import", help=t("Import boundaries, buildings, residents, facilities or OSM."), no_args_is_help=True
)
app.add_typer(import_app, name="import")

FILE = typer.Argument(..., help=t("GeoJSON, GeoPackage, Shapefile or CSV."), show_default=False)
CRS = typer.Option(
    None, "--crs", help=t("Source CRS: wgs84, cgcs2000, gcj02, bd09 or EPSG:xxxx (default: the file's).")
)
LAYER = typer.Option(None, "--layer", help=t("Layer of a GeoPackage."))
LON = typer.Option(None, "--lon-field", help=t("CSV longitude column (default lon/lng/longitude/x/经度)."))
LAT = typer.Option(None, "--lat-field", help=t("CSV latitude column (default lat/latitude/y/纬度)."))
WKT = typer.Option(None, "--wkt-field", help=t("CSV column holding WKT geometries (default wkt/geometry)."))
ID = typer.Option(None, "--id-field", help=t("Source id column (default id/source_id/编号; else file#row)."))
NAME = typer.Option(None, "--name-field", help=t("Name column (default name/名称)."))
CODE = typer.Option(None, "--code-field", help=t("Code column (default code/编码/区划代码)."))
ADDRESS = typer.Option(None, "--address-field", help=t("Address column (default address/地址)."))
REPLACE = typer.Option(
    False,
    "--replace",
    help=t("Replace every column of the rows the file mentions (default: only the columns the file carries)."),
)
KIND = typer.Option(None, "--kind-field", help=t("Kind column (default kind/type/类型)."))


def _run(path: Path, what: str, read_kwargs: dict, importer: Callable, geometry: bool = True, **kwargs) -> None:
    """Read, import in one transaction with a progress bar, and print what was done (``what``: a ``t()`` name)."""
    from geogrid.importers.read import read_source

    with progress() as bar:
        task = bar.add_task(t("reading {file}", file=path.name), total=None)
        source = read_source(path, geometry=geometry, **read_kwargs)
        bar.update(task, total=len(source), completed=0, description=t("importing {what}", what=what))
        source.tick = lambda n: bar.advance(task, n)
        with db.ready().begin() as conn:
            report = importer(conn, source, **kwargs)
            _audit(conn, "import", path, layer=str(what), rows=len(source))
        bar.update(task, completed=len(source))
    console.print(f"[green]✓[/] {report}")
    console.print(t("next: `geogrid compute` brings assignment, coverage and lookups up to date with it"))


def _audit(conn, action: str, path: Path, **details) -> None:
    """Record the import in the audit log, in its own transaction (who: the system user running the command)."""
    from geogrid.accounts.audit import cli_principal, record

    record(conn, cli_principal(), action, target=path.name, details=details)


def _geo(crs, layer, lon, lat, wkt) -> dict:
    return {"crs": crs, "layer": layer, "lon_field": lon, "lat_field": lat, "wkt_field": wkt}


@import_app.command("areas", help=t("Districts, street offices and communities (polygons with statistical codes)."))
def import_areas(
    path: Path = FILE,
    level: str = typer.Option(
        None,
        help=t(
            "district, street or community (default: from the code: 6, 9 or 12 digits, 12-digit codes "
            "ending in 000 are streets)."
        ),
    ),
    code_field: str = CODE,
    name_field: str = NAME,
    id_field: str = ID,
    crs: str = CRS,
    layer: str = LAYER,
    lon_field: str = LON,
    lat_field: str = LAT,
    wkt_field: str = WKT,
) -> None:
    from geogrid.importers import import_areas as run

    _run(
        path,
        t("areas"),
        _geo(crs, layer, lon_field, lat_field, wkt_field),
        run,
        level=level,
        code_field=code_field,
        name_field=name_field,
        id_field=id_field,
    )


@import_app.command("grids", help=t("Grid polygons; missing codes are generated per community in reading order."))
def import_grids(
    path: Path = FILE,
    code_field: str = CODE,
    name_field: str = NAME,
    kind_field: str = KIND,
    kind: str = typer.Option("basic", help=t("Kind where the file has none: basic or dedicated.")),
    community_field: str = typer.Option(
        None, help=t("Community code or name column (default: the community holding most of the grid).")
    ),
    id_field: str = ID,
    crs: str = CRS,
    layer: str = LAYER,
    lon_field: str = LON,
    lat_field: str = LAT,
    wkt_field: str = WKT,
) -> None:
    from geogrid.importers import import_grids as run

    _run(
        path,
        t("grids"),
        _geo(crs, layer, lon_field, lat_field, wkt_field),
        run,
        code_field=code_field,
        name_field=name_field,
        kind_field=kind_field,
        community_field=community_field,
        id_field=id_field,
        kind=kind,
    )


@import_app.command(
    "buildings",
    help=t("Building points or footprints (a footprint's representative point becomes the building point)."),
)
def import_buildings(
    path: Path = FILE,
    id_field: str = ID,
    name_field: str = NAME,
    address_field: str = ADDRESS,
    households_field: str = typer.Option(None, help=t("Households column (default households/户数).")),
    floors_field: str = typer.Option(None, help=t("Floors column (default floors/层数).")),
    crs: str = CRS,
    layer: str = LAYER,
    lon_field: str = LON,
    lat_field: str = LAT,
    wkt_field: str = WKT,
    replace: bool = REPLACE,
) -> None:
    from geogrid.importers import import_buildings as run

    _run(
        path,
        t("buildings"),
        _geo(crs, layer, lon_field, lat_field, wkt_field),
        run,
        id_field=id_field,
        name_field=name_field,
        address_field=address_field,
        households_field=households_field,
        floors_field=floors_field,
        replace=replace,
    )


@import_app.command(
    "residents", help=t("Residents (a table): households by key, personal fields kept apart in resident_personal.")
)
def import_residents(
    path: Path = FILE,
    id_field: str = ID,
    building_field: str = typer.Option(None, help=t("Building source id column (default building_id).")),
    address_field: str = typer.Option(
        None, help=t("Building address column, used when there is no building id column.")
    ),
    household_field: str = typer.Option(None, help=t("Household key column (default household/户号).")),
    party_field: str = typer.Option(None, help=t("Party member column (是/否, yes/no, 1/0).")),
    special_field: str = typer.Option(None, help=t("Special groups column (独居老人、残疾人, ...).")),
    registration_field: str = typer.Option(None, help=t("Registration column (户籍/流动/境外).")),
    person_field: str = typer.Option(None, help=t("Personal name column (default name/姓名).")),
    id_number_field: str = typer.Option(None, help=t("ID number column (default 身份证号).")),
    phone_field: str = typer.Option(None, help=t("Phone column (default phone/电话).")),
    layer: str = LAYER,
) -> None:
    from geogrid.importers import import_residents as run

    _run(
        path,
        t("residents"),
        {"layer": layer},
        run,
        geometry=False,
        id_field=id_field,
        building_field=building_field,
        address_field=address_field,
        household_field=household_field,
        party_field=party_field,
        special_field=special_field,
        registration_field=registration_field,
        person_field=person_field,
        id_number_field=id_number_field,
        phone_field=phone_field,
    )


@import_app.command(
    "facilities", help=t("Service stations, centres, elderly-care posts, ... with their service circle.")
)
def import_facilities(
    path: Path = FILE,
    id_field: str = ID,
    name_field: str = NAME,
    kind_field: str = KIND,
    kind: str = typer.Option(None, help=t("Kind for every row (when the file has no kind column).")),
    address_field: str = ADDRESS,
    minutes_field: str = typer.Option(None, help=t("Service circle column: 5, 10 or 15 minutes (default by kind).")),
    candidate: bool = typer.Option(False, help=t("Import as planning candidates.")),
    crs: str = CRS,
    layer: str = LAYER,
    lon_field: str = LON,
    lat_field: str = LAT,
    wkt_field: str = WKT,
    replace: bool = REPLACE,
) -> None:
    from geogrid.importers import import_facilities as run

    _run(
        path,
        t("facilities"),
        _geo(crs, layer, lon_field, lat_field, wkt_field),
        run,
        id_field=id_field,
        name_field=name_field,
        kind_field=kind_field,
        kind=kind,
        address_field=address_field,
        minutes_field=minutes_field,
        candidate=candidate,
        replace=replace,
    )


@import_app.command(
    "osm", help=t("Buildings, POIs as facility candidates and the walking network from an OpenStreetMap extract.")
)
def import_osm(
    path: Path = typer.Argument(..., help=t("An .osm.pbf extract.")),
    network: bool = typer.Option(True, help=t("Also import the walking network.")),
    replace_network: bool = typer.Option(
        False,
        "--replace-network",
        help=t("Replace the stored walking network instead of merging this extract's into it."),
    ),
    tag_kind: list[str] = typer.Option(
        None,
        "--tag-kind",
        help=t("Also map an OSM tag to a facility kind, e.g. amenity=community_centre:service_station (repeatable)."),
    ),
) -> None:
    from geogrid.importers import import_osm as run

    with progress() as bar:
        task = bar.add_task(t("reading {file}", file=path.name), total=5 if network else 4)
        with db.ready().begin() as conn:
            from geogrid.importers.promote import parse_tag_kinds

            reports = run(
                conn,
                path,
                network=network,
                replace_network=replace_network,
                tag_kind=parse_tag_kinds(tag_kind or []),
                tick=lambda step: bar.update(task, advance=1, description=t("importing {what}", what=step)),
            )
            _audit(conn, "import", path, layer="osm", network=network)
        bar.update(task, completed=bar.tasks[0].total, description=t("done"))
    for report in reports:
        console.print(f"[green]✓[/] {report}")


@import_app.command(
    "addresses",
    help=t(
        "A standard address book (标准地址库): xlsx, CSV or GeoJSON rows with "
        "district, street, community, road, door, compound, building, unit, room "
        "and a point (lon/lat) or a building source id."
    ),
)
def import_addresses(
    path: Path = typer.Argument(..., help=t("An .xlsx, .csv or .geojson address book.")), crs: str = CRS
) -> None:
    from geogrid.importers.addresses import import_addresses as run

    with progress() as bar:
        task = bar.add_task(t("reading {file}", file=path.name), total=None)
        with db.ready().begin() as conn:
            report = run(path, conn, crs=crs)
        bar.update(task, total=1, completed=1, description=t("done"))
    console.print(f"[green]✓[/] {report}")
    console.print(t("next: `geogrid compute` brings assignment, coverage and lookups up to date with it"))


facilities_app = typer.Typer(
    name="facilities", help=t("Manage facilities: promote planning candidates."), no_args_is_help=True
)
app.add_typer(facilities_app, name="facilities")


@facilities_app.command(
    "promote",
    help=t(
        "Turn candidates (OpenStreetMap POIs come in as candidates) into real "
        "facilities that coverage counts: by kind, by source id, or all."
    ),
)
def promote_command(
    kind: list[str] = typer.Option(None, "--kind", help=t("Only candidates of this kind (repeatable).")),
    source_id: list[str] = typer.Option(None, "--id", help=t("Only this source id (repeatable).")),
    as_kind: str = typer.Option(None, "--as", help=t("Give the promoted facilities this kind.")),
) -> None:
    from geogrid.importers.promote import promote

    with db.ready().begin() as conn:
        n = promote(conn, kinds=kind, source_ids=source_id, as_kind=as_kind)
    console.print("[green]✓[/] " + t("{n:,} candidate(s) promoted to facilities", n=n))
    console.print(t("next: `geogrid compute` brings assignment, coverage and lookups up to date with it"))


@app.command("export", help=t("Write current grids, buildings (with grid_code) or areas for QGIS."))
def export(
    layer: str = typer.Argument(..., help=t("grids, buildings or areas.")),
    output: Path = typer.Option(..., "-o", "--output", help=t("A .geojson or .gpkg file.")),
    community: str = typer.Option(None, help=t("Only this community (code or name): roster and ledger.")),
) -> None:
    from geogrid.export import export_layer

    if layer in ("roster", "ledger"):  # personal data: the CLI only (geogrid/ledger.py)
        from geogrid.ledger import write_workbook

        with db.ready().connect() as conn:
            count = write_workbook(conn, layer, output, community)
        console.print(
            "[green]✓[/] " + t("{count:,} {layer} written to {output}", count=count, layer=layer, output=output)
        )
        return
    with db.ready().connect() as conn:
        count = export_layer(conn, layer, output)
    console.print("[green]✓[/] " + t("{count:,} {layer} written to {output}", count=count, layer=layer, output=output))
