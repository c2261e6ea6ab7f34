"""Explicit wiring: one migration head, every router and CLI topic present, the core free of the web."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

from alembic.script import ScriptDirectory

from geogrid.db.migrate import config

ROOT = Path(__file__).resolve().parents[2]


def test_the_migration_chain_has_one_head():
    script = ScriptDirectory.from_config(config())
    heads = script.get_heads()
    assert len(heads) == 1, f"alembic heads: {heads} (re-chain the newest revision onto the previous head)"
    chain = list(script.walk_revisions())
    assert chain[-1].down_revision is None and len(chain) == len(
        list(script.revision_map.iterate_revisions(heads[0], "base"))
    )


def test_every_router_is_included():
    from api.app import create_app

    paths = set(create_app().openapi()["paths"])
    for path in ("/health", "/lookup", "/grids", "/coverage", "/maps/coverage", "/validation", "/plans", "/areas"):
        assert any(p == path or p.startswith(path + "/") for p in paths), path


def test_the_core_imports_neither_api_nor_maps_nor_makes_api_urls():
    for path in (ROOT / "geogrid").rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module:
                assert node.module.split(".")[0] not in ("api", "maps", "fastapi"), (path, node.module)
            if isinstance(node, ast.Import):
                assert all(a.name.split(".")[0] not in ("api", "maps", "fastapi") for a in node.names), path
    assert "/plans/" not in (ROOT / "geogrid/planning/preview.py").read_text(encoding="utf-8")


def test_cli_help_imports_no_web_or_map_library():
    """Plugins register their commands without importing FastAPI or folium (start-up stays fast)."""
    code = (
        "import sys; from geogrid.cli import application; application(); "
        "heavy = ('fastapi', 'folium', 'geopandas', 'scipy', 'numba', 'numpy', 'sqlalchemy', 'pydantic_settings'); "
        "print(' '.join(m for m in heavy if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert out.stdout.strip() == ""


HEAVY = ("fastapi", "folium", "numpy", "pandas", "shapely", "geopandas", "scipy", "sqlalchemy", "geoalchemy2")


def _imported_by(*args: str) -> tuple[str, set[str]]:
    """Run ``geogrid ARGS`` as the console script does, in a fresh process: its output, and which heavy
    libraries were in ``sys.modules`` when it exited."""
    code = (
        "import atexit, sys\n"
        f"heavy = {HEAVY + ('pydantic_settings',)!r}\n"
        "atexit.register(lambda: print('IMPORTED:' + ' '.join(m for m in heavy if m in sys.modules), file=sys.stderr))\n"
        f"sys.argv = ['geogrid', *{list(args)!r}]\n"
        "from geogrid.cli import main\n"
        "main()\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120)
    line = next(x for x in out.stderr.splitlines() if x.startswith("IMPORTED:"))
    return out.stdout, set(line.removeprefix("IMPORTED:").split())


def test_geogrid_help_imports_no_heavy_library():
    """``geogrid --help`` lists every command (plugins included) without FastAPI, folium, NumPy or SQLAlchemy."""
    stdout, imported = _imported_by("--help")
    assert {"serve", "map"} <= set(re.findall(r"│ ([a-z-]+) ", stdout))  # the api and maps plugins registered
    assert imported == set()


def test_geogrid_db_status_imports_no_heavy_library():
    """``geogrid db status`` reads the settings (pydantic-settings) and asks pg_ctl: nothing heavier."""
    _, imported = _imported_by("db", "status")
    assert imported <= {"pydantic_settings"}


def test_python_m_geogrid_is_the_cli():
    """``python -m geogrid`` runs the same CLI (a checkout used without installing its console script)."""
    out = subprocess.run(
        [sys.executable, "-m", "geogrid", "--help"], capture_output=True, text=True, cwd=ROOT, timeout=120
    )
    assert out.returncode == 0 and {"serve", "import", "plan"} <= set(re.findall(r"│ ([a-z-]+) ", out.stdout))
