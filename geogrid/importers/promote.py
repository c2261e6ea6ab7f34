"""Promote facility candidates (OpenStreetMap POIs come in as candidates) to real facilities.

Coverage counts only real facilities, so an OSM import alone reads 0% until its POIs are promoted: by kind, by
source id, or all, with an optional new kind for those promoted.
"""

from __future__ import annotations

from sqlalchemy import Connection, text

from geogrid.errors import InputError
from geogrid.i18n import t
from geogrid.model import FACILITY_KINDS


def parse_tag_kinds(specs: list[str]) -> dict[str, dict[str, str]]:
    """``["amenity=community_centre:service_station", ...]`` → ``{"amenity": {"community_centre": ...}}``."""
    out: dict[str, dict[str, str]] = {}
    for spec in specs:
        tag, _, kind = spec.rpartition(":")
        key, _, value = tag.partition("=")
        if not key or not value or kind not in FACILITY_KINDS:
            raise InputError(
                t("expected KEY=VALUE:KIND with a kind among {kinds}, got '{spec}'", kinds=FACILITY_KINDS, spec=spec),
                field="--tag-kind",
            )
        out.setdefault(key.strip(), {})[value.strip()] = kind
    return out


def promote(
    conn: Connection, *, kinds: list[str] | None = None, source_ids: list[str] | None = None, as_kind: str | None = None
) -> int:
    """Make the matching candidates real facilities (caller's transaction); returns how many were promoted.

    With neither ``kinds`` nor ``source_ids`` every candidate is promoted.
    """
    for kind in [*(kinds or []), *([as_kind] if as_kind else [])]:
        if kind not in FACILITY_KINDS:
            raise InputError(
                t("unknown facility kind '{kind}': use one of {kinds}", kind=kind, kinds=FACILITY_KINDS), field="--kind"
            )
    return conn.execute(
        text(
            "UPDATE facilities SET candidate = false, kind = coalesce(CAST(:as_kind AS text), kind) "
            "WHERE candidate AND (CAST(:kinds AS text[]) IS NULL OR kind = ANY(CAST(:kinds AS text[]))) "
            "AND (CAST(:ids AS text[]) IS NULL OR source_id = ANY(CAST(:ids AS text[])))"
        ),
        {"kinds": kinds or None, "ids": source_ids or None, "as_kind": as_kind},
    ).rowcount
