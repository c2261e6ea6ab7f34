"""Staff follow the grid: a plan's preview lists the people of the affected grids and states the rule; a merge
hands them to the new grid, a split leaves the new grids without a worker until assigned."""

from __future__ import annotations

from sqlalchemy import text

from geogrid.planning.apply import apply_plan
from geogrid.planning.preview import create_plan
from geogrid.planning.validate import validate
from geogrid.rosters import NewAssignment, NewStaff, assign, create_staff, list_staff


def _staff(conn, name: str, code: str, role: str = "full_time_worker") -> None:
    assign(conn, create_staff(conn, NewStaff(name=name)).id, NewAssignment(grid_code=code, role=role))


def test_merge_carries_staff_and_split_leaves_new_grids_without_worker(street):
    with street.begin() as conn:
        _staff(conn, "张三", "G1")
        _staff(conn, "李四", "G2")
        _staff(conn, "王五", "G3")
        conn.execute(
            text(
                "INSERT INTO party_orgs (name, level, grid_id) SELECT '三支部', 'grid_branch', id "
                "FROM grids WHERE code = 'G3'"
            )
        )
        plan = create_plan(conn, [{"op": "merge", "grids": ["G1", "G2"], "name": "合并网格"}])
        preview = plan["preview"]
        assert "merged grid takes" in preview["staff_rule"]
        before = {g["code"]: [s["name"] for s in g["before"]["staff_list"]] for g in preview["grids"] if g["before"]}
        assert before == {"G1": ["张三"], "G2": ["李四"]}
        new = [g for g in preview["grids"] if g["status"] == "new"][0]
        assert sorted(s["name"] for s in new["after"]["staff_list"]) == ["张三", "李四"]
        merged = apply_plan(conn, plan["plan"])
        code = conn.scalar(
            text(
                "SELECT code FROM grids WHERE valid_to IS NULL AND id <> ALL(SELECT id FROM grids "
                "WHERE code IN ('G1', 'G2', 'G3'))"
            )
        )
        assert merged and sorted(s.name for s in list_staff(conn, grid=code)) == ["张三", "李四"]

        split = create_plan(
            conn,
            [
                {
                    "op": "split",
                    "grid": "G3",
                    "line": {"type": "LineString", "coordinates": [[116.325, 39.89], [116.325, 39.92]]},
                }
            ],
        )
        kids = [g for g in split["preview"]["grids"] if g["status"] == "new"]
        assert len(kids) == 2 and all(k["after"]["staff_list"] == [] and not k["after"]["party_org"] for k in kids)
        apply_plan(conn, split["plan"])
        in_force = set(conn.scalars(text("SELECT code FROM grids WHERE valid_to IS NULL")))
        flagged = {p["grids"][0] for p in validate(conn) if p["rule"] == "no_full_time_worker"}
        assert flagged == in_force - {code}
        # The retired grid keeps its people on record: history answers for it, and undo can give them back.
        assert [s.name for s in list_staff(conn, grid="G3")] == ["王五"]


def test_a_worker_on_too_many_grids_is_flagged(street, settings_env):
    settings_env("GEOGRID_LANG", "en")
    with street.begin() as conn:
        sid = create_staff(conn, NewStaff(name="张三")).id
        for code in ("G1", "G2"):
            assign(conn, sid, NewAssignment(grid_code=code, role="full_time_worker"))
        _staff(conn, "李四", "G1", "specialist")
        assign(
            conn,
            conn.scalar(text("SELECT id FROM staff WHERE name = '李四'")),
            NewAssignment(grid_code="G2", role="specialist"),
        )  # 一人多格 is a specialist's normal
        problems = [p for p in validate(conn) if p["rule"] == "worker_too_many_grids"]
    assert [(p["grids"], "张三" in p["message"]) for p in problems] == [(["G1", "G2"], True)]


def test_who_was_responsible_for_a_grid_later_merged_answers_from_its_history(street):
    """A merge retires G1 and G2: asked about a day before, they still name their own workers, and the merged
    grid (which did not exist then) names nobody; from the merge on, the merged grid has both."""
    from datetime import date, timedelta

    from geogrid.rosters import responsible_on

    before = date.today() - timedelta(days=400)
    with street.begin() as conn:
        for name, code in (("张三", "G1"), ("李四", "G2")):
            sid = create_staff(conn, NewStaff(name=name)).id
            assign(conn, sid, NewAssignment(grid_code=code, role="full_time_worker", start_date=before))
        gone = create_staff(conn, NewStaff(name="赵六")).id
        old = assign(conn, gone, NewAssignment(grid_code="G1", role="part_time_worker", start_date=before))
        from geogrid.rosters import EndAssignment, end_assignment

        end_assignment(conn, old.id, EndAssignment(end_date=before + timedelta(days=30)))
        plan = create_plan(conn, [{"op": "merge", "grids": ["G1", "G2"], "name": "合并网格"}])
        apply_plan(conn, plan["plan"])
        merged = conn.scalar(text("SELECT code FROM grids WHERE valid_to IS NULL AND code NOT LIKE 'G_'"))
        day = before + timedelta(days=10)
        assert [s.name for s in responsible_on(conn, "G1", day).staff] == ["张三", "赵六"]
        assert [s.name for s in responsible_on(conn, "G2", day).staff] == ["李四"]
        assert responsible_on(conn, merged, day).staff == []
        today = responsible_on(conn, merged, date.today()).staff
        assert sorted(s.name for s in today) == ["张三", "李四"]
        assert all(s.start_date == date.today() for s in today)
        # the ended assignment stays where it was served
        sql = "SELECT g.code FROM staff_assignments a JOIN grids g ON g.id = a.grid_id WHERE a.id = :i"
        assert conn.scalar(text(sql), {"i": old.id}) == "G1"
        # undoing the merge gives each back to their own grid, again as dated rows
        from geogrid.planning.undo import undo_plan

        undo_plan(conn, plan["plan"])
        assert [s.name for s in list_staff(conn, grid="G1")] == ["张三"]
        assert [s.name for s in list_staff(conn, grid="G2")] == ["李四"]
        assert list_staff(conn, grid=merged) == []
        assert [s.name for s in responsible_on(conn, "G1", day).staff] == ["张三", "赵六"]
    # the same answers through `geogrid responsible` (the README's command)
    from typer.testing import CliRunner

    from geogrid.cli import application

    def cli(code: str, on: date) -> str:
        result = CliRunner().invoke(
            application(), ["responsible", code, "--on", on.isoformat()], env={"GEOGRID_LANG": "en"}
        )
        assert result.exit_code == 0, result.output
        return result.output

    lines = cli("G1", day).splitlines()
    assert lines == [
        f"专职网格员\t张三\t{before}–{date.today()}",
        f"兼职网格员\t赵六\t{before}–{before + timedelta(days=30)}",
    ]
    assert f"nobody was responsible for grid {merged} on {day}" in cli(merged, day)
