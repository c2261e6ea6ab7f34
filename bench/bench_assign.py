"""Bulk assignment of N demo buildings to grids, database in → database out, against two peers.

- geogrid: ``geogrid.assign.assign_buildings`` (COPY out, Shapely STRtree, COPY into a narrow table);
- peer ``sjoin``: ``geopandas.read_postgis`` + ``geopandas.sjoin`` in memory + ``to_sql`` of (id, grid_id);
- peer ``postgis``: a plain ``UPDATE buildings SET grid_id = g.id FROM grids g WHERE ST_Contains(...)``
  on a copy of the buildings table with the same indexes.

Each contender's best of three runs counts (one run at 1M), after a warm-up. Each size is loaded once
with ``geogrid.demo.load_demo`` into a separate benchmark cluster
(``.geogrid-bench``), and every contender runs on the same data in the same run.
"""

from __future__ import annotations

from bench.common import load_city, timed

SIZES = (10_000, 100_000, 1_000_000)
QUICK_SIZES = (10_000,)


def run_geogrid() -> float:
    from geogrid import db
    from geogrid.assign import assign_buildings

    def go():
        with db.ready().begin() as conn:
            return assign_buildings(conn)

    seconds, _ = timed(go)
    return seconds


def run_sjoin() -> float:
    import geopandas as gpd

    from geogrid import db

    engine = db.ready()

    def go():
        with engine.connect() as conn:
            buildings = gpd.read_postgis("SELECT id, geom FROM buildings", conn, geom_col="geom")
            grids = gpd.read_postgis("SELECT id AS grid_id, geom FROM grids WHERE valid_to IS NULL", conn,
                                     geom_col="geom")
        joined = gpd.sjoin(buildings, grids, how="left", predicate="within")
        joined = joined[~joined.index.duplicated()]
        with engine.begin() as conn:
            joined[["id", "grid_id"]].to_sql("peer_sjoin_result", conn, if_exists="replace", index=False,
                                            chunksize=10_000, method="multi")

    seconds, _ = timed(go)
    return seconds


def run_postgis_update() -> float:
    from sqlalchemy import text

    from geogrid import db

    engine = db.ready()
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE IF EXISTS peer_buildings"))
        conn.execute(text("CREATE TABLE peer_buildings (LIKE buildings INCLUDING ALL)"))
        conn.execute(text("INSERT INTO peer_buildings SELECT * FROM buildings"))
        conn.execute(text("ALTER TABLE peer_buildings ADD COLUMN grid_id integer"))
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE peer_buildings"))

    def go():
        with engine.begin() as conn:
            conn.execute(text(
                "UPDATE peer_buildings b SET grid_id = g.id FROM grids g "
                "WHERE g.valid_to IS NULL AND ST_Contains(g.geom, b.geom)"
            ))

    seconds, _ = timed(go)
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE IF EXISTS peer_buildings"))
    return seconds


def run(quick: bool = False) -> dict:
    from rich.console import Console
    from rich.table import Table

    rows = []
    for n in QUICK_SIZES if quick else SIZES:
        load_s, grids = timed(lambda n=n: load_city(n))
        repeats = 3 if n <= 100_000 else 1
        run_geogrid()  # warm-up: imports, connection pool, first-call caches
        ours = min(run_geogrid() for _ in range(repeats))
        sjoin = min(run_sjoin() for _ in range(repeats))
        update = min(run_postgis_update() for _ in range(repeats))
        rows.append({
            "buildings": n, "grids": grids, "load_s": round(load_s, 2),
            "geogrid_s": round(ours, 3), "sjoin_s": round(sjoin, 3), "postgis_update_s": round(update, 3),
            "speedup_vs_sjoin": round(sjoin / ours, 2), "speedup_vs_postgis_update": round(update / ours, 2),
        })
    table = Table("buildings", "grids", "geogrid s", "sjoin s", "UPDATE s", "× sjoin", "× UPDATE",
                  title="bulk assignment, database in → database out")
    for r in rows:
        table.add_row(f"{r['buildings']:,}", f"{r['grids']:,}", str(r["geogrid_s"]), str(r["sjoin_s"]),
                      str(r["postgis_update_s"]), str(r["speedup_vs_sjoin"]), str(r["speedup_vs_postgis_update"]))
    Console().print(table)
    return {"benchmark": "assign", "target": "≥5× the plain PostGIS UPDATE join at 1M buildings", "rows": rows}
