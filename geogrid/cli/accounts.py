"""``geogrid users add|disable|enable|reset|grant|list``, ``geogrid keys add|revoke`` and ``geogrid audit``.

Whoever can run these commands can reach the database directly; every change is still audited, with the
operating-system user as the actor.
"""

from __future__ import annotations

import json
from datetime import date

import typer
from rich.table import Table

from geogrid import db
from geogrid.cli.common import app, console
from geogrid.errors import InputError
from geogrid.i18n import heading, t
from geogrid.roles import ROLES

users_app = typer.Typer(help=t("Accounts: add, disable, reset passwords, grant areas."), no_args_is_help=True)
keys_app = typer.Typer(help=t("API keys for systems: add (shown once) and revoke."), no_args_is_help=True)
app.add_typer(users_app, name="users")
app.add_typer(keys_app, name="keys")

AREAS = typer.Option(
    [], "--area", "-a", help=t("A street, community or grid code the account may act in (repeatable).")
)


def _password(given: str | None) -> str:
    password = given if given is not None else typer.prompt(t("password"), hide_input=True, confirmation_prompt=True)
    if len(password) < 8:
        raise InputError(t("a password has at least 8 characters"), field="password")
    return password


def _record(conn, action: str, name: str, **details) -> None:
    from geogrid.accounts import audit

    audit.record(conn, audit.cli_principal(), action, target=name, details=details or None)


@users_app.command("add", help=t("Create an account (role: {roles}).", roles=", ".join(ROLES)))
def add(
    name: str = typer.Argument(..., help=t("Account name.")),
    role: str = typer.Option(..., "--role", "-r", help=", ".join(ROLES)),
    area: list[str] = AREAS,
    password: str = typer.Option(None, "--password", help=t("Password (asked when absent).")),
    no_password: bool = typer.Option(False, "--no-password", help=t("A system account that signs in by key.")),
) -> None:
    from geogrid.accounts import store

    secret = None if no_password else _password(password)
    with db.ready().begin() as conn:
        store.add_user(conn, name, role, secret, area)
        _record(conn, "user_add", name, role=role, areas=area)
    console.print(t("account {name} ({role}) created", name=name, role=role))


@users_app.command("disable", help=t("Disable an account: its sessions end and its keys stop working."))
def disable(name: str = typer.Argument(..., help=t("Account name."))) -> None:
    from geogrid.accounts import store

    with db.ready().begin() as conn:
        store.set_disabled(conn, name, True)
        _record(conn, "user_disable", name)
    console.print(t("account {name} disabled", name=name))


@users_app.command("enable", help=t("Enable a disabled account."))
def enable(name: str = typer.Argument(..., help=t("Account name."))) -> None:
    from geogrid.accounts import store

    with db.ready().begin() as conn:
        store.set_disabled(conn, name, False)
        _record(conn, "user_enable", name)
    console.print(t("account {name} enabled", name=name))


@users_app.command("reset", help=t("Set a new password (the account's sessions end)."))
def reset(
    name: str = typer.Argument(..., help=t("Account name.")),
    password: str = typer.Option(None, "--password", help=t("Password (asked when absent).")),
) -> None:
    from geogrid.accounts import store

    secret = _password(password)
    with db.ready().begin() as conn:
        store.reset_password(conn, name, secret)
        _record(conn, "user_reset", name)
    console.print(t("password of {name} reset", name=name))


@users_app.command("grant", help=t("Let an account act in more streets or communities."))
def grant(name: str = typer.Argument(..., help=t("Account name.")), area: list[str] = AREAS) -> None:
    from geogrid.accounts import store

    with db.ready().begin() as conn:
        store.grant(conn, name, area)
        _record(conn, "user_grant", name, areas=area)
    console.print(t("account {name} may act in {areas}", name=name, areas=", ".join(area) or "-"))


@users_app.command("list", help=t("Every account with its role and areas."))
def list_command() -> None:
    from geogrid.accounts import store

    with db.ready().connect() as conn:
        rows = store.list_users(conn)
    table = Table(heading("name"), heading("role"), heading("areas"), heading("disabled"))
    for r in rows:
        table.add_row(r["name"], r["role"], " ".join(r["areas"]), "✗" if r["disabled"] else "")
    console.print(table)


@keys_app.command("add", help=t("A new API key for an account, printed once on stdout."))
def key_add(
    name: str = typer.Argument(..., help=t("Account name.")),
    rate: int = typer.Option(
        None, "--rate", help=t("Requests per minute for this key (default: the GEOGRID_RATE_LIMIT setting).")
    ),
) -> None:
    from geogrid.accounts import store

    with db.ready().begin() as conn:
        key = store.add_key(conn, name, rate)
        _record(conn, "key_add", name, prefix=store.key_prefix(key))
    console.print(t("keep this key now: it is not stored and cannot be shown again"))
    typer.echo(key)


@keys_app.command("revoke", help=t("Revoke a key by its prefix (the 8 characters after gg_)."))
def key_revoke(prefix: str = typer.Argument(..., help=t("Key prefix."))) -> None:
    from geogrid.accounts import store

    with db.ready().begin() as conn:
        owner = store.revoke_key(conn, prefix)
        _record(conn, "key_revoke", owner, prefix=prefix)
    console.print(t("key {prefix} of {name} revoked", prefix=prefix, name=owner))


@app.command("audit", help=t("The audit log of writes, newest first, filtered by area, user and date."))
def audit_command(
    area: str = typer.Option(None, "--area", help=t("Street or community code (a prefix).")),
    user: str = typer.Option(None, "--user", help=t("Account name (cli:USER for commands).")),
    action: str = typer.Option(None, "--action", help=t("e.g. plan_apply, import, user_add.")),
    since: str = typer.Option(None, "--since", help=t("First day, YYYY-MM-DD.")),
    until: str = typer.Option(None, "--until", help=t("Last day, YYYY-MM-DD.")),
    limit: int = typer.Option(100, "--limit"),
    as_json: bool = typer.Option(False, "--json", help=t("Print the entries as JSON on stdout.")),
) -> None:
    from geogrid.accounts import audit

    days = {}
    for field, value in (("since", since), ("until", until)):
        try:
            days[field] = date.fromisoformat(value) if value else None
        except ValueError:
            raise InputError(t("expected a date YYYY-MM-DD, not '{value}'", value=value), field=field) from None
    with db.ready().connect() as conn:
        rows = audit.entries(conn, area=area, actor=user, action=action, limit=limit, **days)
    if as_json:
        typer.echo(json.dumps([r.model_dump(mode="json") for r in rows], ensure_ascii=False, indent=2))
        return
    table = Table(
        heading("when"),
        heading("who"),
        heading("client address"),
        heading("action"),
        heading("area"),
        heading("target"),
        title=t("{n} audit entries", n=len(rows)),
    )
    for r in rows:
        table.add_row(
            f"{r.at:%Y-%m-%d %H:%M:%S}",
            f"{r.actor} ({r.role})",
            r.address or r.via,
            r.action,
            r.area or "",
            r.target or "",
        )
    console.print(table)
