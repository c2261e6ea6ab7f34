"""The roster page of a community: each grid with its workers and party organisation, its roster problems,
and forms that assign a worker, end an assignment or move a branch through the roster API.

Only names and roles are shown (posted publicly in practice); phones and ledgers stay out of the page.
"""

from __future__ import annotations

from html import escape
from urllib.parse import quote

from sqlalchemy import Connection, text

from geogrid.errors import NotFound
from geogrid.i18n import t
from geogrid.planning.validate import community_ids, validate
from geogrid.rosters import list_party_orgs, list_staff

ROSTER_RULES = ("no_full_time_worker", "no_party_org", "worker_too_many_grids")
ROSTER_URL = "/rosters/{community}"  # the page api/routers/rosters.py serves (the core writes no URLs)


def roster_links(problems: list[dict]) -> list[dict]:
    """Give each roster problem (一人一格, 支部建在网格上, a worker on too many grids) a ``roster_url``: the
    roster page of its community, where it is fixed. Other problems are left as they are."""
    for p in problems:
        if p.get("rule") in ROSTER_RULES and p.get("community"):
            p["roster_url"] = ROSTER_URL.format(community=quote(p["community"], safe=""))
    return problems


ROLE_NAMES = {
    "grid_leader": "网格长",
    "full_time_worker": "专职网格员",
    "part_time_worker": "兼职网格员",
    "specialist": "专业网格员",
    "party_instructor": "网格党建指导员",
    "employed_party_member": "在职党员",
}

SCRIPT = """
async function send(method, url, body) {
  const r = await fetch(url, {method, headers: {'Content-Type': 'application/json'}, body: JSON.stringify(body)});
  const answer = await r.json();
  document.getElementById('result').textContent = r.ok ? 'OK' : (answer.error || JSON.stringify(answer));
  if (r.ok) location.reload();
}
function form(id) { return Object.fromEntries(new FormData(document.getElementById(id))); }
function clean(o) { for (const k in o) if (o[k] === '') delete o[k]; return o; }
async function assignWorker(e) {
  e.preventDefault(); const f = clean(form('assign'));
  let id = f.staff_id;
  if (!id) {
    const r = await fetch('/staff', {method: 'POST', headers: {'Content-Type': 'application/json'},
                                     body: JSON.stringify({name: f.name, author: f.author})});
    id = (await r.json()).id;
  }
  await send('POST', `/staff/${id}/assignments`, clean({grid_code: f.grid_code, role: f.role,
                                                       start_date: f.start_date, author: f.author}));
}
async function endAssignment(id) {
  await send('POST', `/assignments/${id}/end`, clean({end_date: document.getElementById('end_date').value,
                                                     author: document.getElementById('author').value}));
}
async function moveBranch(e) {
  e.preventDefault(); const f = clean(form('move'));
  await send('PATCH', `/party-orgs/${f.org_id}`, {grid_code: f.grid_code, author: f.author});
}
"""


def roster_page(conn: Connection, community: str) -> str:
    """The HTML page of one community (code or name)."""
    ids = community_ids(conn, community) or []  # NotFound for an unknown place
    if not ids:
        raise NotFound(t("no community with code or name '{community}'", community=community))
    area = conn.execute(text("SELECT code, name FROM admin_areas WHERE id = :i"), {"i": ids[0]}).one()
    grids = conn.execute(
        text("SELECT code, name FROM grids WHERE valid_to IS NULL AND community_id = :i ORDER BY code"), {"i": ids[0]}
    ).all()
    if not grids:
        raise NotFound(t("no community with code or name '{community}' has grids in force", community=community))
    staff = list_staff(conn, community=area.code)
    orgs = [o for o in list_party_orgs(conn, area.code) if o.grid_code]
    problems = validate(conn, cids=ids, rules=list(ROSTER_RULES))
    rows = "".join(_grid_row(code, name, staff, orgs) for code, name in grids)
    listed = "".join(f"<li id='problem-{escape(p['rule'])}'>{escape(p['message'])}</li>" for p in problems)
    options = "".join(f"<option value='{k}'>{v}</option>" for k, v in ROLE_NAMES.items())
    branches = "".join(f"<option value='{o.id}'>{escape(o.name)}</option>" for o in orgs)
    title = escape(f"{area.name} {t('staff')}")
    return f"""<!doctype html><html lang="zh"><head><meta charset="utf-8"><title>{title}</title>
<style>body{{font-family:sans-serif;margin:1.5em}}table{{border-collapse:collapse}}td,th{{border:1px solid #bbb;
padding:.3em .6em;vertical-align:top}}.missing{{color:#b00}}form{{margin:.6em 0}}</style></head><body>
<h1>{title} <small>{escape(area.code)}</small></h1>
<h2>问题 ({len(problems)})</h2><ul id="problems">{listed}</ul>
<table id="roster"><tr><th>网格</th><th>人员</th><th>党组织</th></tr>{rows}</table>
<p>结束日期 <input id="end_date" type="date"> 变更人 <input id="author"></p>
<form id="assign" onsubmit="assignWorker(event)"><b>指派网格员</b>
 网格 <input name="grid_code" required> 人员编号 <input name="staff_id" size="5"> 或新姓名 <input name="name">
 <select name="role">{options}</select> 起始 <input name="start_date" type="date"> 变更人 <input name="author">
 <button>指派</button></form>
<form id="move" onsubmit="moveBranch(event)"><b>调整党支部</b> <select name="org_id">{branches}</select>
 到网格 <input name="grid_code" required> 变更人 <input name="author"> <button>调整</button></form>
<p id="result"></p><script>{SCRIPT}</script></body></html>"""


def _grid_row(code: str, name: str, staff, orgs) -> str:
    people = [(p, a) for p in staff for a in p.assignments if a.grid_code == code]
    listed = "".join(
        f"<li>{escape(ROLE_NAMES.get(a.role, a.role))} {escape(p.name)} "
        f"<button onclick='endAssignment({a.id})'>结束</button></li>"
        for p, a in people
    )
    if not any(a.role == "full_time_worker" for _, a in people):
        listed += "<li class='missing'>无专职网格员</li>"
    branch = ", ".join(escape(o.name) for o in orgs if o.grid_code == code) or "<span class='missing'>无党组织</span>"
    return (
        f"<tr id='grid-{escape(code)}'><td>{escape(code)}<br>{escape(name)}</td><td><ul>{listed}</ul></td>"
        f"<td>{branch}</td></tr>"
    )
