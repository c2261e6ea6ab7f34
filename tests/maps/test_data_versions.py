"""The data version maps and tiles are cached under (``geogrid.db.versions``): changed by a write in its own
transaction, the same for the same data, different for different data, unchanged by pruning, a rollback or a
restart, and cheap enough to read on every request."""

from __future__ import annotations

import os
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import Connection, text

from geogrid.db import cluster
from geogrid.db.versions import DataVersion, data_version, prune
from geogrid.settings import Settings
from maps import cache

ROOT = Path(__file__).resolve().parents[2]
TOUCH = "DELETE FROM {table} WHERE false"  # no row changes, but the statement trigger fires


def _version(engine) -> DataVersion:
    with engine.connect() as conn:
        version = data_version(conn)
    assert version is not None
    return version


def _touch(conn: Connection, table: str = "grids") -> None:
    conn.execute(text(TOUCH.format(table=table)))


def test_every_mapped_table_has_the_triggers(database):
    with database.connect() as conn:
        triggered = set(
            conn.scalars(
                text(
                    "SELECT c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
                    "WHERE t.tgname = c.relname || '_data_changed_truncate'"
                )
            )
        )
        declared = set(conn.scalars(text("SELECT tgname FROM pg_trigger WHERE tgname LIKE '%\\_data\\_changed'")))
    assert set(cache.TABLES) <= triggered
    assert {f"{t}_data_changed" for t in cache.TABLES} <= declared


def test_a_commit_changes_the_version_and_a_rollback_does_not(database):
    before = _version(database)
    with database.connect() as conn:
        _touch(conn, "buildings")
        conn.rollback()
    assert _version(database) == before
    with database.begin() as conn:
        _touch(conn, "buildings")
        _touch(conn, "residents")
    after = _version(database)
    assert after.changes == before.changes + 2 and after.epoch == before.epoch


def test_truncate_counts(empty_db):
    before = _version(empty_db)
    with empty_db.begin() as conn:
        conn.execute(text("TRUNCATE base_features"))
    assert _version(empty_db).changes == before.changes + 1


def test_a_transaction_with_its_own_writes_gets_no_version_and_caches_nothing(database):
    calls = []
    with database.connect() as conn:
        _touch(conn)
        assert data_version(conn) is None
        for _ in range(2):
            assert cache.cached(conn, ("own-writes-test",), lambda: calls.append(1) or len(calls)) == len(calls)
        conn.rollback()
    assert len(calls) == 2  # computed each time: its snapshot sees data nobody else does


def test_ids_committing_out_of_order_still_change_the_version(database):
    """The pitfall of ``max(id)``: an older id becomes visible after a newer one."""
    with database.connect() as early, database.connect() as late:
        _touch(early, "grids")  # takes the lower id, commits last
        _touch(late, "buildings")
        late.commit()
        seen_first = _version(database)
        top_first = _max_id(database)
        early.commit()
    seen_then = _version(database)
    assert _max_id(database) == top_first  # max(id) alone would call these two states equal
    assert seen_then.changes == seen_first.changes + 1


def _max_id(engine) -> int:
    with engine.connect() as conn:
        return conn.scalar(text("SELECT max(id) FROM data_changes"))


def test_writers_in_opposite_table_order_never_wait(database):
    """Writers only append: two transactions touching two tables in opposite order neither block nor deadlock."""
    with database.connect() as a, database.connect() as b:
        for conn in (a, b):
            conn.execute(text("SET lock_timeout = '2s'"))
        _touch(a, "grids")
        _touch(b, "buildings")
        _touch(a, "buildings")
        _touch(b, "grids")
        a.commit()
        b.commit()


def test_pruning_keeps_the_version_and_bounds_the_log(database):
    """300 writes (each its own transaction) prune as they go; an open snapshot keeps its version meanwhile,
    an explicit prune changes nothing either, and every write still counts."""
    start = _version(database)
    with database.connect() as old:
        old.execute(text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ"))
        assert data_version(old) == start
        for _ in range(300):
            with database.begin() as conn:
                _touch(conn, "facilities")
        assert data_version(old) == start  # rows it saw were folded meanwhile: same count and sum for it
    now = _version(database)
    assert now.changes == start.changes + 300
    with database.connect() as conn:
        rows = conn.scalar(text("SELECT count(*) FROM data_changes"))
    assert rows <= 64 + 1  # PRUNE_EVERY, plus the rows since the last prune
    with database.begin() as conn:
        prune(conn)
    assert _version(database) == now
    with database.connect() as conn:
        assert conn.scalar(text("SELECT count(*) FROM data_changes")) == 0


def test_the_version_read_is_cheap(database):
    """Read on every map and tile request: time it against the old write-counter query, interleaved."""
    old_sql = text(
        "SELECT relname, n_tup_ins, n_tup_upd, n_tup_del, pg_relation_filenode(relid) "
        "FROM pg_stat_user_tables WHERE relname = ANY(:t) ORDER BY relname"
    )
    new, old = [], []
    with database.connect() as conn:
        for _ in range(300):
            t0 = time.perf_counter()
            data_version(conn)
            t1 = time.perf_counter()
            conn.execute(old_sql, {"t": list(cache.TABLES)}).all()
            t2 = time.perf_counter()
            new.append(t1 - t0)
            old.append(t2 - t1)
            conn.rollback()
    print(f"version read median {statistics.median(new) * 1e3:.3f} ms, old {statistics.median(old) * 1e3:.3f} ms")
    assert statistics.median(new) < 0.005


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


READ = """
from sqlalchemy import text
from geogrid import db
from geogrid.db.versions import data_version
with db.ready().begin() as c:
    if {write}:
        c.execute(text("DELETE FROM grids WHERE false"))
with db.ready().connect() as c:
    print(data_version(c).key())
"""


def test_the_version_survives_a_restart():
    """Stored map layers are keyed by it: after a restart the same data has the same version (its own cluster:
    restarting the shared one would disturb other test workers)."""
    home = Path(f"/tmp/geogrid-versions-{os.getpid()}")
    settings = Settings(home=home, db_port=_free_port(), db_name="geogrid")
    env = {
        **os.environ,
        "GEOGRID_HOME": str(home),
        "GEOGRID_DB_PORT": str(settings.db_port),
        "GEOGRID_DB_NAME": "geogrid",
    }
    env.pop("GEOGRID_DATABASE_URL", None)

    def run(write: bool) -> str:
        code = READ.format(write=write)
        done = subprocess.run(
            [sys.executable, "-c", code], env=env, cwd=ROOT, check=True, capture_output=True, text=True
        )
        return done.stdout.strip().splitlines()[-1]

    try:
        written = run(True)
        cluster.stop(settings)
        assert run(False) == written
        cluster.stop(settings, mode="immediate")  # a crash too: the version is WAL-logged data
        assert run(False) == written
        assert run(True) != written
    finally:
        cluster.stop(settings, mode="immediate")
        subprocess.run(["rm", "-rf", str(home)], check=False)


def test_tile_requests_share_version_reads_but_never_one_begun_before_they_arrived():
    """The event loop's version reads (``api.routers.tiles.VersionReads``): requests that arrive together share
    one read; a request arriving while a read runs waits for the next one (that read's snapshot may predate a
    write acknowledged before the request was sent)."""
    import asyncio

    from api.routers.tiles import VersionReads

    class Counted(VersionReads):
        def __init__(self) -> None:
            super().__init__()
            self.gate = asyncio.Event()
            self.begun = 0

        async def _read(self) -> DataVersion | None:
            self.begun += 1
            mine = self.begun
            await self.gate.wait()
            return DataVersion(epoch="e", changes=mine, id_sum="0", started="s")

    async def scenario() -> None:
        reads = Counted()
        together = [asyncio.ensure_future(reads.current()) for _ in range(10)]
        await asyncio.sleep(0)
        await asyncio.sleep(0)  # the first read has begun and waits at the gate
        late = asyncio.ensure_future(reads.current())
        later = asyncio.ensure_future(reads.current())
        await asyncio.sleep(0)
        reads.gate.set()
        first = await asyncio.gather(*together)
        assert {v.changes for v in first if v is not None} == {1}
        assert (await late).changes == (await later).changes == 2  # the next read, shared by both
        assert reads.reads == 2

    asyncio.run(scenario())
