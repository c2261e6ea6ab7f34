"""The roster page of a community: grids with workers and branches, roster problems, no phones; staff only."""

from __future__ import annotations

from sqlalchemy import text


def test_roster_page_shows_workers_branches_and_problems_without_phones(street, client_as):
    admin = client_as("community_staff", "110108014001", raise_server_exceptions=False)
    sid = admin.post("/staff", json={"name": "张三"}).json()["id"]
    admin.post(f"/staff/{sid}/assignments", json={"grid_code": "G1", "role": "full_time_worker"})
    admin.post("/party-orgs", json={"name": "一支部", "level": "grid_branch", "grid_code": "G1"})
    with street.begin() as conn:
        conn.execute(text("INSERT INTO staff_contacts (staff_id, phone) VALUES (:s, '13800000001')"), {"s": sid})
    page = admin.get("/rosters/110108014001")
    assert page.status_code == 200, page.text
    row = page.text.split("id='grid-G1'")[1].split("</tr>")[0]
    assert "张三" in row and "一支部" in row and "无专职网格员" not in row
    assert "无专职网格员" in page.text.split("id='grid-G2'")[1].split("</tr>")[0]
    assert "problem-no_full_time_worker" in page.text and "problem-no_party_org" in page.text
    assert "13800000001" not in page.text
    assert client_as("viewer", raise_server_exceptions=False).get("/rosters/110108014001").status_code == 403
    assert admin.get("/rosters/999999999999").status_code == 404
