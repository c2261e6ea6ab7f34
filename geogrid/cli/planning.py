"""``geogrid validate`` and ``geogrid plan create|apply|history|revert``: boundary planning from the shell."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.table import Table

from geogrid import db
from geogrid.cli.common import app, console, progress
from geogrid.errors import InputError
from geogrid.i18n import heading, join, t

plan_app = typer.Typer(help=t("Propose, preview, apply and undo grid boundary changes."), no_args_is_help=True)
app.add_typer(plan_app, name="plan")

SEVERITY_STYLE = {"error": "bold red", "warning": "yellow"}


@app.command(
    "validate",
    help=t("Check the grids: geometry, containment, overlaps, gaps, unassigned buildings, size, staff, shape."),
)
def validate_command(
    community: str = typer.Option(None, "--community", "-c", help=t("Community code or name (default: all).")),
    as_json: bool = typer.Option(False, "--json", help=t("Print the problems as JSON on stdout.")),
    strict: bool = typer.Option(False, "--strict", help=t("Exit 1 when there are warnings only (errors exit 2).")),
) -> None:
    from geogrid.planning.validate import validate

    with db.ready().connect() as conn, progress() as bar:
        task = bar.add_task(t("validating grids"), total=None)

        def step(rule: str, done: int, total: int) -> None:
            bar.update(task, completed=done, total=total, description=t("validated {rule}", rule=rule))

        problems = validate(conn, community, on_rule=step)
    if as_json:
        typer.echo(json.dumps(problems, ensure_ascii=False, indent=2))
    else:
        table = Table(
            heading("severity"),
            heading("rule"),
            heading("grids"),
            heading("message"),
            title=t("{n} problem(s)", n=len(problems)),
        )
        for p in problems:
            table.add_row(
                f"[{SEVERITY_STYLE[p['severity']]}]{p['severity']}[/]",
                p["rule"],
                " ".join(p["grids"][:4]) + (" …" if len(p["grids"]) > 4 else ""),
                p["message"],
            )
        console.print(table)
    if any(p["severity"] == "error" for p in problems):
        raise typer.Exit(2)
    if strict and problems:
        raise typer.Exit(1)


def audit_write(conn, action: str, target: str, details: dict, preview: dict | None = None) -> None:
    """Record a plan write in the audit log, in its own transaction (who: the system user running it), with the
    community of the grids it touches (from a draft's ``preview``, else the grids written), as the API does."""
    from geogrid.accounts.audit import cli_principal, record
    from geogrid.accounts.scope import check_grids, check_plan

    who = cli_principal()
    if preview is not None:
        area = check_plan(conn, who, preview)  # an admin: names the area, never refuses
    else:
        codes = [details["code"]] if "code" in details else []
        area = check_grids(
            conn, who, [*codes, *(c for k in ("changed", "retired", "created") for c in details.get(k, []))]
        )
    record(conn, who, action, area=area, target=target, details=details)


def _read_plan_file(path: Path) -> dict:
    try:
        body = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise InputError(t("cannot read a plan ({error})", error=exc), file=str(path)) from None
    if isinstance(body, list):
        body = {"edits": body}
    if not isinstance(body, dict) or "edits" not in body:
        raise InputError(t('expected {{"edits": [...], "base_versions": {{...}}}}'), file=str(path), field="edits")
    return body


@plan_app.command("create", help=t("Store a draft plan and print its preview (JSON on stdout)."))
def create(
    path: Path = typer.Argument(
        ..., help=t("JSON file: {{edits: [...], base_versions: {{code: version}}}} or a list.")
    ),
    author: str = typer.Option(None, help=t("Who proposes the change.")),
) -> None:
    from geogrid.planning.preview import create_plan

    body = _read_plan_file(path)
    with db.ready().begin() as conn, console.status(t("previewing plan")):
        plan = create_plan(conn, body["edits"], body.get("base_versions"), author or body.get("author"))
        audit_write(conn, "plan_create", f"plan {plan['plan']}", {"plan": plan["plan"]}, plan["preview"])
    moved = plan["preview"]["moved"]["totals"]
    console.print(
        t(
            "plan {plan}: {buildings} building(s), {households} household(s), {residents} resident(s), "
            "{facilities} facilit(ies) change grid",
            plan=plan["plan"],
            **moved,
        )
    )
    typer.echo(json.dumps(plan, ensure_ascii=False, indent=2, default=str))


@plan_app.command("apply", help=t("Apply a draft plan in one transaction (refused if its grids changed since)."))
def apply(
    plan_id: int = typer.Argument(..., help=t("Plan number.")),
    author: str = typer.Option(None, help=t("Who applies the change.")),
    force: bool = typer.Option(False, "--force", help=t("Apply although the change adds validation errors.")),
    reason: str = typer.Option(None, "--reason", help=t("Why (required with --force; recorded).")),
) -> None:
    from geogrid.planning.apply import apply_plan

    with db.ready().begin() as conn:
        result = apply_plan(conn, plan_id, author, force, reason)
        audit_write(conn, "plan_apply", f"plan {plan_id}", result)
    console.print(
        t(
            "plan {plan} applied: changed {changed}; retired {retired}; created {created}; "
            "{buildings_moved} building(s) moved",
            plan=plan_id,
            **{k: join(result[k]) if result[k] else "-" for k in ("changed", "retired", "created")},
            buildings_moved=result["buildings_moved"],
        )
    )


@plan_app.command(
    "undo",
    help=t(
        "Undo an applied plan: every grid it touched returns to its version before it "
        "(refused when a later plan changed them)."
    ),
)
def undo_command(
    plan_id: int = typer.Argument(..., help=t("Plan number.")),
    author: str = typer.Option(None, help=t("Who undoes the plan.")),
) -> None:
    from geogrid.planning.undo import undo_plan

    with db.ready().begin() as conn:
        result = undo_plan(conn, plan_id, author)
        audit_write(conn, "plan_undo", f"plan {plan_id}", result)
    console.print(
        t(
            "plan {plan} undone by plan {undo}: changed {changed}; retired {retired}; {n} building(s) moved",
            plan=plan_id,
            undo=result["plan"],
            changed=join(result["changed"]) if result["changed"] else "-",
            retired=join(result["retired"]) if result["retired"] else "-",
            n=result["buildings_moved"],
        )
    )


@plan_app.command("history", help=t("Every version of a grid, with author, dates and lineage."))
def history_command(code: str = typer.Argument(..., help=t("Grid code."))) -> None:
    from geogrid.planning.history import history

    with db.ready().connect() as conn:
        h = history(conn, code)
    table = Table(
        heading("version"),
        heading("valid from"),
        heading("valid to"),
        heading("author"),
        heading("area m²"),
        heading("plan"),
        title=t(
            "grid {code} ({status}); parents {parents}; children {children}",
            code=code,
            status=h["status"],
            parents=h["parents"] or "-",
            children=h["children"] or "-",
        ),
    )
    for v in h["versions"]:
        table.add_row(
            str(v["version"]),
            f"{v['valid_from']:%Y-%m-%d %H:%M}",
            f"{v['valid_to']:%Y-%m-%d %H:%M}" if v["valid_to"] else "in force",
            v["author"] or "",
            f"{v['area_m2']:,.0f}" if v["area_m2"] is not None else "",
            str(v["change_id"] or ""),
        )
    console.print(table)


@plan_app.command(
    "revert",
    help=t("Give a grid the boundary of an earlier version (a new version; neighbours give back what it takes)."),
)
def revert_command(
    code: str = typer.Argument(..., help=t("Grid code.")),
    to_version: int = typer.Option(..., "--to-version", help=t("Version to restore.")),
    author: str = typer.Option(None, help=t("Who reverts the grid.")),
) -> None:
    from geogrid.planning.history import revert

    with db.ready().begin() as conn:
        result = revert(conn, code, to_version, author)
        audit_write(conn, "grid_revert", code, {**result, "code": code, "to_version": to_version})
    console.print(
        t(
            "grid {code} reverted to version {version}: {n} building(s) moved",
            code=code,
            version=to_version,
            n=result["buildings_moved"],
        )
    )


@plan_app.command("units", help=t("The units (blocks, compounds, buildings) of a community and the grid each is in."))
def units_command(
    community: str = typer.Argument(..., help=t("Community code or name.")),
    build: bool = typer.Option(False, "--build", help=t("Compute and store the units when there are none yet.")),
) -> None:
    from geogrid.planning.painting import community_units, ensure_units

    with db.ready().begin() as conn:
        if build:
            ensure_units(conn, community)
        units = community_units(conn, community)
    table = Table(
        heading("unit"),
        heading("kind"),
        heading("name"),
        heading("grid"),
        heading("households"),
        title=t("{n} unit(s) of community {community}", n=len(units.ids), community=community),
    )
    for k, uid in enumerate(units.ids):
        table.add_row(str(uid), units.kinds[k], units.labels[k], units.grids[k] or "-", str(units.households[k]))
    console.print(table)
    if not units.ids:
        console.print(t("no units stored: run with --build, or geogrid partition --community {c}", c=community))


@plan_app.command("paint", help=t("Store a draft plan moving units into a grid (move_units) and print its preview."))
def paint_command(
    grid: str = typer.Argument(..., help=t("The grid that takes the units.")),
    units: list[int] = typer.Argument(..., help=t("Unit ids (geogrid plan units COMMUNITY).")),
    lock: list[str] = typer.Option([], "--lock", help=t("A grid that must not change (repeatable).")),
    confirm_split: bool = typer.Option(
        False, "--confirm-split", help=t("Accept a grid falling into more pieces than it had.")
    ),
    author: str = typer.Option(None, help=t("Who proposes the change.")),
) -> None:
    from geogrid.planning.preview import create_plan

    edit = {"op": "move_units", "grid": grid, "units": units, "locked": lock, "confirm_split": confirm_split}
    with db.ready().begin() as conn, console.status(t("previewing plan")):
        plan = create_plan(conn, [edit], author=author)
        audit_write(conn, "plan_create", f"plan {plan['plan']}", {"plan": plan["plan"]}, plan["preview"])
    preview = plan["preview"]
    table = Table(heading("grid"), heading("households"), heading("pieces"), title=t("plan {plan}", plan=plan["plan"]))
    for g in preview["grids"]:
        before, after = g["before"] or {}, g["after"] or {}
        table.add_row(
            g["code"],
            f"{before.get('households', '-')} → {after.get('households', '-')}",
            f"{before.get('parts', '-')} → {after.get('parts', '-')}",
        )
    console.print(table)
    for u in preview["units"]:
        console.print(t("{label}: {src} → {dst}", label=u["label"], src=u["from"] or "-", dst=u["to"]))
    console.print(t("apply with: geogrid plan apply {plan}", plan=plan["plan"]))
