"""What every ``geogrid import ...`` command shares: its options, declared once, and the read → import (one
transaction) → audit → report body. Topic modules (:mod:`geogrid.cli.data`, :mod:`geogrid.cli.rosters`)
declare only what is their own.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from geogrid import db
from geogrid.cli.common import app, console, progress
from geogrid.i18n import t

if TYPE_CHECKING:  # SQLAlchemy is imported by commands that run, not by ``geogrid --help``
    from sqlalchemy import Connection

import_app = typer.Typer(
    name="import", help=t("Import boundaries, buildings, residents, facilities or OSM."), no_args_is_help=True
)
app.add_typer(import_app, name="import")

FILE = typer.Argument(..., help=t("GeoJSON, GeoPackage, Shapefile or CSV."), show_default=False)
TABLE = typer.Argument(..., help=t("An Excel workbook (.xlsx) or a CSV file."), show_default=False)
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
# Rows that name a building: by its source id, else by its address.
BUILDING = typer.Option(None, "--building-field", help=t("Building source id column (default building_id)."))
BUILDING_ADDRESS = typer.Option(
    None, "--address-field", help=t("Building address column, used when there is no building id column.")
)
# Rosters (staff, building leaders, party organisations).
AUTHOR = typer.Option(None, "--author", help=t("Who made the change (kept in the roster history)."))
ROLE = typer.Option(None, "--role-field", help=t("Role column (default 角色/岗位/职务)."))
GRID = typer.Option(None, "--grid-field", help=t("Grid code column (default 网格编码; several codes split by 、)."))
PHONE = typer.Option(None, "--phone-field", help=t("Phone column (default 联系电话/电话)."))
START = typer.Option(None, "--start-field", help=t("Start date column (default 任职日期/上岗日期)."))


# How to read a file with geometry (read_source's options): its CRS, GeoPackage layer, CSV coordinates or WKT.
_GEO = {"crs": CRS, "layer": LAYER, "lon_field": LON, "lat_field": LAT, "wkt_field": WKT}
_LAST = ("replace", "author")  # options shown after the shared ones


def _param(name: str, default: Any, annotation: Any) -> inspect.Parameter:
    return inspect.Parameter(name, inspect.Parameter.POSITIONAL_OR_KEYWORD, default=default, annotation=annotation)


def _command(columns: Callable, path: Any, shared: dict[str, Any], run: Callable[[Path, dict, dict], None]) -> Callable:
    """A command with ``columns``' own options and the ``shared`` ones, in the order help shows them: the file,
    the columns, the shared reading options, then ``--replace``/``--author``. ``run(path, shared, own)``."""
    own = list(inspect.signature(columns, eval_str=True).parameters.values())
    params = [
        _param("path", path, Path),
        *[p for p in own if p.name not in _LAST],
        *[_param(name, option, str) for name, option in shared.items()],
        *[p for p in own if p.name in _LAST],
    ]

    @functools.wraps(columns)
    def command(**values: Any) -> None:
        file = values.pop("path")
        run(file, {name: values.pop(name) for name in shared}, values)

    command.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]  # what Typer reads
    command.__annotations__ = {p.name: p.annotation for p in params}
    return command


def importer(module: str, name: str) -> Callable[[], Callable]:
    """``module.name`` (an importer), imported when the command runs: ``geogrid --help`` stays light."""

    def load() -> Callable:
        import importlib

        return getattr(importlib.import_module(module), name)

    return load


def geo_import(what: str, importer: Callable[[], Callable]) -> Callable[[Callable], Callable]:
    """Make an import of a file with geometry from a function that declares only its own column options.

    ``what`` names the rows (a ``t()`` text); ``importer()`` returns the importer, imported only when the
    command runs (start-up stays light)."""

    def make(columns: Callable) -> Callable:
        def run(path: Path, shared: dict, own: dict) -> None:
            run_import(path, what, shared, importer(), **own)  # the shared options are read_source's own

        return _command(columns, FILE, _GEO, run)

    return make


def table_import(what: str, importer: Callable[[], Callable], path: Any = TABLE) -> Callable[[Callable], Callable]:
    """Make an import of a table (.xlsx sheet or CSV, no geometry) from a function declaring its own columns."""

    def make(columns: Callable) -> Callable:
        def run(file: Path, shared: dict, own: dict) -> None:
            run_table_import(file, what, importer(), shared["layer"], **own)

        return _command(columns, path, {"layer": LAYER}, run)

    return make


def run_import(
    path: Path, what: str, read: dict[str, Any], importer: Callable, geometry: bool = True, **fields
) -> None:
    """Read, import in one transaction with a progress bar, and print what was done (``what``: a ``t()`` name)."""
    from geogrid.importers.read import read_source

    with progress() as bar:
        task = bar.add_task(t("reading {file}", file=path.name), total=None)
        source = read_source(path, geometry=geometry, **read)
        bar.update(task, total=len(source), completed=0, description=t("importing {what}", what=what))
        source.tick = lambda n: bar.advance(task, n)
        with db.ready().begin() as conn:
            report = importer(conn, source, **fields)
            audit_import(conn, path, layer=str(what), rows=len(source))
        bar.update(task, completed=len(source))
    imported(report)


def run_table_import(path: Path, what: str, importer: Callable, layer: str | None, **fields) -> None:
    """:func:`run_import` for a table without geometry (a sheet of an .xlsx, a CSV)."""
    run_import(path, what, {"layer": layer}, importer, geometry=False, **fields)


def audit_import(conn: Connection, path: Path, **details) -> None:
    """Record the import in the audit log, in the import's transaction (who: the system user running the command)."""
    from geogrid.accounts.audit import cli_principal, record

    record(conn, cli_principal(), "import", target=path.name, details=details)


def imported(*reports: object, then_compute: bool = True) -> None:
    """What an import did, and (``then_compute``) that derived results wait for ``geogrid compute``."""
    for report in reports:
        console.print(f"[green]✓[/] {report}")
    if then_compute:
        console.print(t("next: `geogrid compute` brings assignment, coverage and lookups up to date with it"))
