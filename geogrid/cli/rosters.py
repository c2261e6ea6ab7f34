"""``geogrid import staff|party-orgs|building-leaders FILE`` (.xlsx or CSV) and ``geogrid roster`` look-ups.

Chinese headers and role names are recognised without options; the field options name other columns.
``geogrid export roster|ledger -o FILE.xlsx`` lives with the other exports (:mod:`geogrid.cli.data`).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import typer

from geogrid import db
from geogrid.cli.common import app, console
from geogrid.cli.data import ID, LAYER, NAME, _run, import_app
from geogrid.i18n import t

TABLE = typer.Argument(..., help=t("An Excel workbook (.xlsx) or a CSV file."), show_default=False)
AUTHOR = typer.Option(None, "--author", help=t("Who made the change (kept in the roster history)."))
ROLE = typer.Option(None, "--role-field", help=t("Role column (default 角色/岗位/职务)."))
GRID = typer.Option(None, "--grid-field", help=t("Grid code column (default 网格编码; several codes split by 、)."))
PHONE = typer.Option(None, "--phone-field", help=t("Phone column (default 联系电话/电话)."))
START = typer.Option(None, "--start-field", help=t("Start date column (default 任职日期/上岗日期)."))


@import_app.command("staff", help=t("Grid staff with role, grid codes and phone (网格长, 专职网格员, ...)."))
def import_staff(
    path: Path = TABLE,
    id_field: str = ID,
    name_field: str = NAME,
    role_field: str = ROLE,
    grid_field: str = GRID,
    phone_field: str = PHONE,
    start_field: str = START,
    layer: str = LAYER,
    author: str = AUTHOR,
) -> None:
    from geogrid.importers.rosters import import_staff as run

    _run(
        path,
        t("staff"),
        {"layer": layer},
        run,
        geometry=False,
        id_field=id_field,
        name_field=name_field,
        role_field=role_field,
        grid_field=grid_field,
        phone_field=phone_field,
        start_field=start_field,
        author=author,
    )


@import_app.command("building-leaders", help=t("Building leaders and 党员中心户 with their building and households."))
def import_building_leaders(
    path: Path = TABLE,
    id_field: str = ID,
    name_field: str = NAME,
    role_field: str = ROLE,
    building_field: str = typer.Option(None, help=t("Building source id column (default building_id).")),
    address_field: str = typer.Option(
        None, help=t("Building address column, used when there is no building id column.")
    ),
    households_field: str = typer.Option(None, help=t("Households looked after (default 联系户数).")),
    phone_field: str = PHONE,
    start_field: str = START,
    layer: str = LAYER,
    author: str = AUTHOR,
) -> None:
    from geogrid.importers.rosters import import_building_leaders as run

    _run(
        path,
        t("building leaders"),
        {"layer": layer},
        run,
        geometry=False,
        id_field=id_field,
        name_field=name_field,
        role_field=role_field,
        building_field=building_field,
        address_field=address_field,
        households_field=households_field,
        phone_field=phone_field,
        start_field=start_field,
        author=author,
    )


@import_app.command("party-orgs", help=t("Party organisations with level, parent, grid, secretary and members."))
def import_party_orgs(
    path: Path = TABLE,
    id_field: str = ID,
    name_field: str = NAME,
    level_field: str = typer.Option(None, help=t("Level column (default 级别: 社区党委, 网格党支部, 楼栋党小组).")),
    parent_field: str = typer.Option(None, help=t("Parent organisation column (default 上级党组织).")),
    grid_field: str = GRID,
    community_field: str = typer.Option(None, help=t("Community column (default 社区).")),
    building_field: str = typer.Option(None, help=t("Building source id column (default building_id).")),
    secretary_field: str = typer.Option(None, help=t("Secretary column (default 书记).")),
    members_field: str = typer.Option(None, help=t("Member count column (default 党员人数).")),
    layer: str = LAYER,
    author: str = AUTHOR,
) -> None:
    from geogrid.importers.rosters import import_party_orgs as run

    _run(
        path,
        t("party organisations"),
        {"layer": layer},
        run,
        geometry=False,
        id_field=id_field,
        name_field=name_field,
        level_field=level_field,
        parent_field=parent_field,
        grid_field=grid_field,
        community_field=community_field,
        building_field=building_field,
        secretary_field=secretary_field,
        members_field=members_field,
        author=author,
    )


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
