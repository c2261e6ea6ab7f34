"""``geogrid import staff|party-orgs|building-leaders FILE`` (.xlsx or CSV) and ``geogrid roster`` look-ups.

Chinese headers and role names are recognised without options; the field options name other columns.
``geogrid export roster|ledger -o FILE.xlsx`` lives with the other exports (:mod:`geogrid.cli.data`).
"""

from __future__ import annotations

from datetime import date

import typer

from geogrid import db
from geogrid.cli.common import app, console
from geogrid.cli.imports import (
    AUTHOR,
    BUILDING,
    BUILDING_ADDRESS,
    GRID,
    ID,
    NAME,
    PHONE,
    ROLE,
    START,
    import_app,
    importer,
    table_import,
)
from geogrid.i18n import t


@import_app.command("staff", help=t("Grid staff with role, grid codes and phone (网格长, 专职网格员, ...)."))
@table_import(t("staff"), importer("geogrid.importers.rosters", "import_staff"))
def import_staff(
    id_field: str = ID,
    name_field: str = NAME,
    role_field: str = ROLE,
    grid_field: str = GRID,
    phone_field: str = PHONE,
    start_field: str = START,
    author: str = AUTHOR,
) -> None:
    """The file and its sheet are added by :func:`table_import`."""


@import_app.command("building-leaders", help=t("Building leaders and 党员中心户 with their building and households."))
@table_import(t("building leaders"), importer("geogrid.importers.rosters", "import_building_leaders"))
def import_building_leaders(
    id_field: str = ID,
    name_field: str = NAME,
    role_field: str = ROLE,
    building_field: str = BUILDING,
    address_field: str = BUILDING_ADDRESS,
    households_field: str = typer.Option(None, help=t("Households looked after (default 联系户数).")),
    phone_field: str = PHONE,
    start_field: str = START,
    author: str = AUTHOR,
) -> None:
    """The file and its sheet are added by :func:`table_import`."""


@import_app.command("party-orgs", help=t("Party organisations with level, parent, grid, secretary and members."))
@table_import(t("party organisations"), importer("geogrid.importers.rosters", "import_party_orgs"))
def import_party_orgs(
    id_field: str = ID,
    name_field: str = NAME,
    level_field: str = typer.Option(None, help=t("Level column (default 级别: 社区党委, 网格党支部, 楼栋党小组).")),
    parent_field: str = typer.Option(None, help=t("Parent organisation column (default 上级党组织).")),
    grid_field: str = GRID,
    community_field: str = typer.Option(None, help=t("Community column (default 社区).")),
    building_field: str = BUILDING,
    secretary_field: str = typer.Option(None, help=t("Secretary column (default 书记).")),
    members_field: str = typer.Option(None, help=t("Member count column (default 党员人数).")),
    author: str = AUTHOR,
) -> None:
    """The file and its sheet are added by :func:`table_import`."""


@app.command("responsible", help=t("Who was responsible for a grid on a date (today by default)."))
def responsible(
    code: str = typer.Argument(..., help=t("Grid code.")),
    on: str = typer.Option(None, "--on", help=t("Date, e.g. 2025-06-30.")),
) -> None:
    from geogrid.errors import GeogridError
    from geogrid.ledger import ROLE_NAMES
    from geogrid.rosters import responsible_on

    try:
        day = date.fromisoformat(on) if on else date.today()
    except ValueError:
        raise GeogridError(t("'{value}' is not a date (write 2024-03-01)", value=on)) from None
    with db.ready().connect() as conn:
        answer = responsible_on(conn, code, day)
    if not answer.staff:
        console.print(t("nobody was responsible for grid {code} on {day}", code=code, day=day.isoformat()))
    for a in answer.staff:
        until = a.end_date.isoformat() if a.end_date else "…"
        print(f"{ROLE_NAMES.get(a.role, a.role)}\t{a.name}\t{a.start_date or ''}–{until}")
