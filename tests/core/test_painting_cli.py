"""geogrid plan units / plan paint on the painting city."""

from __future__ import annotations

from typer.testing import CliRunner

from geogrid.cli import _load_topics, application
from geogrid.planning.painting import community_units
from tests.fixtures.paint_city import C1, A, B

app = application()
runner = CliRunner()
_load_topics()


def test_units_and_paint_from_the_shell(paint_city):
    listed = runner.invoke(app, ["plan", "units", C1])
    assert listed.exit_code == 0, listed.output
    assert "棋盘街11号楼" in listed.output and A in listed.output
    with paint_city.connect() as conn:
        units = community_units(conn, C1)
    corner = [str(i) for i, label in zip(units.ids, units.labels, strict=True) if "棋盘街00号楼" in label]
    refused = runner.invoke(app, ["plan", "paint", B, *corner])
    assert refused.exit_code != 0 and "confirm_split" in str(refused.exception)  # main() prints it as one line
    column1 = [str(i) for i, label in zip(units.ids, units.labels, strict=True) if "棋盘街1" in label]
    painted = runner.invoke(app, ["plan", "paint", B, *column1])
    assert painted.exit_code == 0, painted.output
    assert "600 → 300" in painted.output and "300 → 600" in painted.output
