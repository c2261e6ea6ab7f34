"""``geogrid import areas|grids|buildings|residents|facilities|osm FILE`` and ``geogrid export LAYER -o FILE``.

Each import runs in one transaction: the first bad row prints the file, row and field and changes nothing.
"""

from __future__ import annotations

from pathlib import Path

import typer

from geogrid import db
from geogrid.cli.common import app, console, progress
from geogrid.cli.imports import (
    ADDRESS,
    BUILDING,
    BUILDING_ADDRESS,
    CODE,
    CRS,
    FILE,
    ID,
    KIND,
    NAME,
    REPLACE,
    audit_import,
    geo_import,
    import_app,
    imported,
    importer,
    table_import,
)
from geogrid.i18n import t


@import_app.command("areas", help=t("Districts, street offices and communities (polygons with statistical codes)."))
@geo_import(t("areas"), importer("geogrid.importers", "import_areas"))
def import_areas(
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
) -> None:
    """The file, its CRS and how to read it are added by :func:`geo_import`."""


@import_app.command("grids", help=t("Grid polygons; missing codes are generated per community in reading order."))
@geo_import(t("grids"), importer("geogrid.importers", "import_grids"))
def import_grids(
    code_field: str = CODE,
    name_field: str = NAME,
    kind_field: str = KIND,
    kind: str = typer.Option("basic", help=t("Kind where the file has none: basic or dedicated.")),
    community_field: str = typer.Option(
        None, help=t("Community code or name column (default: the community holding most of the grid).")
    ),
    id_field: str = ID,
) -> None:
    """The file, its CRS and how to read it are added by :func:`geo_import`."""


@import_app.command(
    "buildings",
    help=t("Building points or footprints (a footprint's representative point becomes the building point)."),
)
@geo_import(t("buildings"), importer("geogrid.importers", "import_buildings"))
def import_buildings(
    id_field: str = ID,
    name_field: str = NAME,
    address_field: str = ADDRESS,
    households_field: str = typer.Option(None, help=t("Households column (default households/户数).")),
    floors_field: str = typer.Option(None, help=t("Floors column (default floors/层数).")),
    replace: bool = REPLACE,
) -> None:
    """The file, its CRS and how to read it are added by :func:`geo_import`."""


@import_app.command(
    "residents", help=t("Residents (a table): households by key, personal fields kept apart in resident_personal.")
)
@table_import(t("residents"), importer("geogrid.importers", "import_residents"), path=FILE)
def import_residents(
    id_field: str = ID,
    building_field: str = BUILDING,
    address_field: str = BUILDING_ADDRESS,
    household_field: str = typer.Option(None, help=t("Household key column (default household/户号).")),
    party_field: str = typer.Option(None, help=t("Party member column (是/否, yes/no, 1/0).")),
    special_field: str = typer.Option(None, help=t("Special groups column (独居老人、残疾人, ...).")),
    registration_field: str = typer.Option(None, help=t("Registration column (户籍/流动/境外).")),
    person_field: str = typer.Option(None, help=t("Personal name column (default name/姓名).")),
    id_number_field: str = typer.Option(None, help=t("ID number column (default 身份证号).")),
    phone_field: str = typer.Option(None, help=t("Phone column (default phone/电话).")),
) -> None:
    """The file and its sheet are added by :func:`table_import`."""


@import_app.command(
    "facilities", help=t("Service stations, centres, elderly-care posts, ... with their service circle.")
)
@geo_import(t("facilities"), importer("geogrid.importers", "import_facilities"))
def import_facilities(
    id_field: str = ID,
    name_field: str = NAME,
    kind_field: str = KIND,
    kind: str = typer.Option(None, help=t("Kind for every row (when the file has no kind column).")),
    address_field: str = ADDRESS,
    minutes_field: str = typer.Option(None, help=t("Service circle column: 5, 10 or 15 minutes (default by kind).")),
    candidate: bool = typer.Option(False, help=t("Import as planning candidates.")),
    replace: bool = REPLACE,
) -> None:
    """The file, its CRS and how to read it are added by :func:`geo_import`."""


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
            audit_import(conn, path, layer="osm", network=network)
        bar.update(task, completed=bar.tasks[0].total, description=t("done"))
    imported(*reports, then_compute=False)


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
    imported(report)


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
    imported(t("{n:,} candidate(s) promoted to facilities", n=n))


@app.command("export", help=t("Write current grids, buildings (with grid_code) or areas for QGIS."))
def export(
    layer: str = typer.Argument(..., help=t("grids, buildings or areas.")),
    output: Path = typer.Option(..., "-o", "--output", help=t("A .geojson or .gpkg file.")),
    community: str = typer.Option(None, help=t("Only this community (code or name): roster and ledger.")),
) -> None:
    from geogrid.export import export_layer

    if layer in ("roster", "ledger"):  # personal data (geogrid/ledger.py): who wrote which file is audited
        from geogrid.accounts import audit
        from geogrid.ledger import write_workbook

        with db.ready().begin() as conn:
            count = write_workbook(conn, layer, output, community)
            audit.record(
                conn,
                audit.cli_principal(),
                f"{layer}_export",
                area=community,
                target=output.name,
                details={"rows": count, "path": str(output.resolve())},
            )
        console.print(
            "[green]✓[/] " + t("{count:,} {layer} written to {output}", count=count, layer=layer, output=output)
        )
        return
    with db.ready().connect() as conn:
        count = export_layer(conn, layer, output)
    console.print("[green]✓[/] " + t("{count:,} {layer} written to {output}", count=count, layer=layer, output=output))
