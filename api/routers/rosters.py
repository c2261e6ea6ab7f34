"""Rosters over HTTP: staff and their dated grid assignments, party organisations, who was responsible when.

Public answers carry names and roles only (posted publicly in practice); phones and residents' names never
leave through the API. Ledgers with personal data are CLI-only (``geogrid export ledger``) until sign-in exists.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Path, Query
from fastapi.responses import HTMLResponse

from api.security import CurrentUser
from geogrid import db
from geogrid.accounts.scope import check_grids
from geogrid.rosters import (
    Assignment,
    EndAssignment,
    MovePartyOrg,
    NewAssignment,
    NewPartyOrg,
    NewStaff,
    PartyOrgOut,
    Responsible,
    StaffPublic,
    assign,
    create_party_org,
    create_staff,
    end_assignment,
    get_party_org,
    get_staff,
    list_party_orgs,
    list_staff,
    move_party_org,
    responsible_on,
)

router = APIRouter(tags=["rosters"])
Code = Annotated[str | None, Query(max_length=32, description="A grid or community code.")]
Id = Annotated[int, Path(ge=1, le=2**31 - 1)]


@router.get("/staff", response_model=list[StaffPublic])
def staff_list(grid: Code = None, community: Code = None) -> list[StaffPublic]:
    """Staff with their current grid roles (names and roles only), of one grid or community when given."""
    with db.ready().connect() as conn:
        return list_staff(conn, grid, community)


@router.post("/staff", response_model=StaffPublic, status_code=201)
def staff_create(body: NewStaff, who: CurrentUser) -> StaffPublic:
    with db.ready().begin() as conn:
        return create_staff(conn, body.model_copy(update={"author": body.author or who.name}))


@router.get("/staff/{staff_id}", response_model=StaffPublic)
def staff_read(staff_id: Id) -> StaffPublic:
    """A staff member with every assignment, current and ended (the history)."""
    with db.ready().connect() as conn:
        return get_staff(conn, staff_id)


@router.post("/staff/{staff_id}/assignments", response_model=Assignment, status_code=201)
def assignment_create(staff_id: Id, body: NewAssignment, who: CurrentUser) -> Assignment:
    """Assign a worker to a grid from a date (today by default, never in the future); 403 outside the caller's
    streets or communities."""
    with db.ready().begin() as conn:
        done = assign(conn, staff_id, body.model_copy(update={"author": body.author or who.name}))
        check_grids(conn, who, [body.grid_code])
        return done


@router.post("/assignments/{assignment_id}/end", response_model=Assignment)
def assignment_end(assignment_id: Id, body: EndAssignment, who: CurrentUser) -> Assignment:
    """End an assignment on a date; it stays in the history."""
    with db.ready().begin() as conn:
        done = end_assignment(conn, assignment_id, body.model_copy(update={"author": body.author or who.name}))
        if done.grid_code:
            check_grids(conn, who, [done.grid_code])
        return done


@router.get("/grids/{code}/responsible", response_model=Responsible)
def grid_responsible(
    code: str, on: date | None = Query(None, description="The date (today by default).")
) -> Responsible:
    """Who was responsible for the grid on a date, from the dated assignments (retired grids too)."""
    with db.ready().connect() as conn:
        return responsible_on(conn, code, on or date.today())


@router.get("/party-orgs", response_model=list[PartyOrgOut])
def party_org_list(community: Code = None) -> list[PartyOrgOut]:
    with db.ready().connect() as conn:
        return list_party_orgs(conn, community)


@router.post("/party-orgs", response_model=PartyOrgOut, status_code=201)
def party_org_create(body: NewPartyOrg, who: CurrentUser) -> PartyOrgOut:
    with db.ready().begin() as conn:
        done = create_party_org(conn, body.model_copy(update={"author": body.author or who.name}))
        if done.grid_code:
            check_grids(conn, who, [done.grid_code])
        return done


@router.get("/party-orgs/{org_id}", response_model=PartyOrgOut)
def party_org_read(org_id: Id) -> PartyOrgOut:
    with db.ready().connect() as conn:
        return get_party_org(conn, org_id)


@router.patch("/party-orgs/{org_id}", response_model=PartyOrgOut)
def party_org_move(org_id: Id, body: MovePartyOrg, who: CurrentUser) -> PartyOrgOut:
    """Move a branch to another grid and/or parent (the move is logged with its author)."""
    with db.ready().begin() as conn:
        before = get_party_org(conn, org_id)
        done = move_party_org(conn, org_id, body.model_copy(update={"author": body.author or who.name}))
        check_grids(conn, who, [c for c in (before.grid_code, done.grid_code) if c])
        return done


@router.get("/rosters/{community}", response_class=HTMLResponse)
def roster_page(community: Annotated[str, Path(max_length=200)]) -> HTMLResponse:
    """The roster page of a community: grids with workers and branches, roster problems, edit forms."""
    from maps.roster_page import roster_page as page

    with db.ready().connect() as conn:
        return HTMLResponse(page(conn, community))
