"""The planner page's words in the user's language (``GEOGRID_LANG``), for its panel and script.

Each entry is a message with ``{names}`` the page script fills in (``say(key, values)`` in planner.js), so
the catalogue of :mod:`geogrid.i18n` stays the one place every message is translated.
"""

from __future__ import annotations

from geogrid.i18n import t


def _keep(*names: str) -> dict[str, str]:
    """Placeholders passed through as themselves, for the script to fill."""
    return {name: "{" + name + "}" for name in names}


def planner_text() -> dict[str, str]:
    """Panel labels, status lines and result headings of the planner page."""
    return {
        "title": t("Grid planner"),
        "grid": t("Grid"),
        "pick_option": t("— pick a grid —"),
        "merge_with": t("Merge with"),
        "none_option": t("— none —"),
        "author": t("Author"),
        "hint": t(
            "Pick a grid (or click it), then edit its vertices, draw a new polygon or rectangle, draw a line "
            "across it to split it, pick a grid to merge it with, or click buildings of other grids to move "
            "them into it."
        ),
        "too_many": t("Buildings are shown for one community at a time: open the planner with ?community=."),
        "preview": t("Preview"),
        "apply": t("Apply"),
        "picked": t(
            "grid {code} (version {version}): edit its vertices or draw a new boundary", **_keep("code", "version")
        ),
        "move_first": t("pick the grid the building should move into first"),
        "already": t("{label} is in {code} already", **_keep("label", "code")),
        "moving": t("{n} building(s) to move into {code}: preview it", **_keep("n", "code")),
        "merging": t("merge {a} and {b} into one new grid: preview it", **_keep("a", "b")),
        "line_drawn": t("split line drawn for {code}: preview it", **_keep("code")),
        "shape_drawn": t("new boundary drawn for {code}: preview it", **_keep("code")),
        "line_orphan": t("pick the grid this split line is for"),
        "shape_orphan": t("pick the grid this new boundary is for"),
        "new_grid": t("new grid drawn in community {community}: preview it", **_keep("community")),
        "propose": t("Propose grids for this community"),
        "proposing": t("proposing grids for the whole community…"),
        "edited": t("boundary edited: preview it"),
        "pick_first": t("pick a grid first"),
        "previewing": t("previewing…"),
        "previewed": t("plan {plan} previewed: apply it or keep editing", **_keep("plan")),
        "applied": t("plan {plan} applied: changed {changed}; {n} building(s) moved", **_keep("plan", "changed", "n")),
        "created": t("created {created}", **_keep("created")),
        "force_reason": t("To apply it anyway, give the reason (it is recorded with the plan):"),
        "moved": t(
            "{buildings} buildings, {households} households, {residents} residents, {facilities} facilities "
            "change grid.",
            **_keep("buildings", "households", "residents", "facilities"),
        ),
        "th_grid": t("grid"),
        "th_status": t("status"),
        "th_households": t("households"),
        "th_buildings": t("buildings"),
        "th_coverage": t("5-minute coverage"),
        "th_building": t("building"),
        "th_from": t("from"),
        "th_to": t("to"),
        "retired": t("retired"),
        "changed": t("changed"),
        "new": t("new"),
        "restored": t("restored"),
        "checked": t(
            "Validation after the change: {errors} error(s), {warnings} warning(s)", **_keep("errors", "warnings")
        ),
        "map_link": t("before/after map"),
        "tooltip": t("{label} · {households} households · grid {grid}", **_keep("label", "households", "grid")),
        "th_unit": t("unit"),
        "paint_mode": t("Paint blocks and compounds into the picked grid"),
        "paint_hint": t(
            "Pick a grid, then click or drag over blocks to paint them into it (a wider brush takes every unit with "
            "buildings it touches; a dashed unit without buildings, such as a strip of road, only where the pointer "
            "crosses it). Locked grids never change. Preview checks the figures on the server before apply."
        ),
        "paint_brush": t("Brush"),
        "paint_lock": t("Locked grids"),
        "paint_undo": t("Undo"),
        "paint_redo": t("Redo"),
        "paint_build": t("Compute this community's units"),
        "paint_building": t("computing the units of this community…"),
        "paint_pick_first": t("pick the grid to paint into first"),
        "paint_locked": t("grid {code} is locked", **_keep("code")),
        "paint_painted": t("{n} unit(s) painted into {code}: preview it", **_keep("n", "code")),
        "paint_nothing": t("nothing painted yet"),
        "paint_households": t("{households} households (band {lo}–{hi})", **_keep("households", "lo", "hi")),
        "paint_pieces": t("{n} piece(s)", **_keep("n")),
        "paint_coverage": t("5-minute coverage {share}", **_keep("share")),
        "paint_confirm_split": t("This leaves {grids} in several pieces. Preview it anyway?", **_keep("grids")),
        "paint_not_sent": t("not previewed: paint so that every grid stays in one piece"),
        "paint_empty": t("{grids} would keep nothing: merge it instead of painting all of it away", **_keep("grids")),
        "paint_tooltip": t("{label} · {households} households · grid {grid}", **_keep("label", "households", "grid")),
    }
