"""``GET /maps``: one plain page linking the city map and every street, community and grid map."""

from __future__ import annotations

from html import escape
from urllib.parse import quote

from sqlalchemy import Connection

from maps import data


def index_page(conn: Connection, base: str = "/maps") -> str:
    """Streets with their communities, each community with its grids (folded, so 20k grids stay readable)."""
    areas = data.areas(conn)
    grids = data.grid_list(conn)
    by_community = {code: frame for code, frame in grids.groupby("community_code")}
    children: dict[str | None, list] = {}
    areas["parent_code"] = areas["parent_code"].astype(object).where(areas["parent_code"].notna(), None)
    known = set(areas["code"])
    for row in areas.itertuples():
        children.setdefault(row.parent_code if row.parent_code in known else None, []).append(row)

    def link(area) -> str:
        href = f"{base}/coverage?community={quote(area.code)}"
        return f'<a href="{href}">{escape(area.name)}</a> <small>{area.code}</small>'

    def community(area) -> str:
        frame = by_community.get(area.code)
        items = (
            ""
            if frame is None
            else "".join(
                f'<li><a href="{base}/grids/{quote(g.code)}">{escape(g.code)}</a> {escape(g.name)}</li>'
                for g in frame.itertuples()
            )
        )
        count = 0 if frame is None else len(frame)
        return f"<li>{link(area)} <details><summary>{count} 网格 grids</summary><ul>{items}</ul></details></li>"

    def area_list(parent) -> str:
        out = []
        for area in children.get(parent, []):
            if area.level == "community":
                out.append(community(area))
            else:
                out.append(f"<li>{link(area)}<ul>{area_list(area.code)}</ul></li>")
        return "".join(out)

    roots = children.get(None, [])
    body = "".join(
        f"<li>{link(a)}<ul>{area_list(a.code)}</ul></li>" if a.level != "community" else community(a) for a in roots
    )
    return (
        "<!DOCTYPE html><html lang='zh'><head><meta charset='utf-8'><title>geogrid maps</title>"
        "<link rel='icon' href='data:,'>"
        "<style>body{font:14px sans-serif;margin:2em;max-width:60em}li{margin:.2em 0}small{color:#777}</style>"
        f"</head><body><h1>网格地图 grid maps</h1>"
        f"<p><a href='{base}/coverage'>全市覆盖图 whole-city coverage map</a> · "
        f"{len(grids)} grids</p><ul>{body}</ul></body></html>"
    )
