"""``GET /lookup`` (point or address → grid and who is responsible) and ``POST /lookup/batch`` (JSON or CSV)."""

from __future__ import annotations

import csv
import gc
import io
import logging
import math
import threading
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Annotated, Any

import anyio
import orjson
from fastapi import APIRouter, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.exceptions import HTTPException

from api.schemas import BATCH_RESPONSES, LOOKUP_RESPONSES
from geogrid import db, point_index
from geogrid.csvsafe import SafeWriter, escape_cell
from geogrid.errors import GeogridError
from geogrid.i18n import t
from geogrid.lookup import (
    CSV_COLUMNS,
    csv_row,
    items_from_columns,
    lookup_address,
    lookup_batch,
    lookup_columns,
    lookup_point,
    lookup_point_async,
)

POOL_SIZE = 8  # connections per worker process for point lookups
RECONNECT_WINDOW_S = 2.0  # a failed pool slot retries this long, then the next request starts a fresh attempt


class Unavailable(GeogridError):
    status_code = 503


@asynccontextmanager
async def lookup_pool(app) -> AsyncIterator[None]:
    """Open the async connection pool for point lookups, and load jionlp's dictionaries (about 2 s) in the
    background so the first address lookup does not pay for them."""
    from psycopg.rows import namedtuple_row
    from psycopg_pool import AsyncConnectionPool

    from geogrid.address import normalise
    from geogrid.settings import get_settings

    threading.Thread(target=normalise, args=("北京市海淀区",), daemon=True).start()
    pool = None
    try:
        await anyio.to_thread.run_sync(db.ready)
        settings = get_settings()
        # Bounded waits (503 within seconds while the database is down) and a short reconnect window: the
        # default backoff doubles up to 5 minutes, so recovery after a 90 s outage used to take 35 s.
        pool = AsyncConnectionPool(
            settings.url.replace("+psycopg", "", 1),
            min_size=2,
            max_size=POOL_SIZE,
            open=False,
            timeout=settings.db_pool_timeout_s,
            reconnect_timeout=RECONNECT_WINDOW_S,
            kwargs={
                "autocommit": True,
                "row_factory": namedtuple_row,
                "connect_timeout": max(2, settings.db_connect_timeout_s),
            },
        )
        await pool.open()
    except Exception as exc:  # the sync path answers (and reports the database) instead
        logging.getLogger(__name__).warning("%s", t("point lookups without the async pool: {error}", error=exc))
        pool = None
    app.state.lookup_pool = pool
    point_index.enable()  # point answers from memory, checked against the database on every request
    if pool is not None:
        point_index.start(db.ready())
    try:
        yield
    finally:
        point_index.disable()
        if pool is not None:
            await pool.close()


router = APIRouter(tags=["lookup"])  # its pool is opened by the app's lifespan (api.app)

CRS_HELP = "wgs84 (default), cgcs2000, gcj02 (Amap/Tencent), bd09 (Baidu) or an EPSG code"


# Sync lookups (addresses, or no pool) hold a pooled SQLAlchemy connection for their whole run: more threads
# than the pool keeps open would open and close overflow connections per request.
_DB_SLOTS = anyio.CapacityLimiter(8)


class LookupQuery(BaseModel):
    """The query of ``GET /lookup``, validated by pydantic directly: FastAPI's per-request parameter solving
    inspects each parameter's annotation on every request and cost as much as the database query."""

    lon: float | None = Field(None, description="Longitude (or x in a projected crs)")
    lat: float | None = Field(None, description="Latitude (or y in a projected crs)")
    crs: str = Field("wgs84", max_length=40, description=CRS_HELP)
    address: str | None = Field(None, max_length=300, description="Free-text Chinese address")
    explain: bool = Field(False, description="Add why an address answer was chosen (explain)")

    @classmethod
    def parse(cls, request: Request) -> LookupQuery:
        try:
            return cls.model_validate(dict(request.query_params))
        except ValidationError as exc:
            errors = exc.errors(include_url=False, include_context=False)
            raise RequestValidationError([dict(e, loc=("query", *e["loc"])) for e in errors]) from None


_QUERY_DOC: dict[str, Any] = {
    "parameters": [
        {"name": name, "in": "query", "required": False, "description": spec.pop("description", ""), "schema": spec}
        for name, spec in LookupQuery.model_json_schema()["properties"].items()
    ]
}


@router.get("/lookup", openapi_extra=_QUERY_DOC, responses=LOOKUP_RESPONSES)
async def lookup(request: Request) -> Response:
    """The grid at a point or an address, its community/street/district, staff (role and name), party
    organisation, nearest service station (党群服务站) with walking minutes, and 5-minute coverage.
    The station is the nearest along the walking network (``walk_basis: network``, ``walk_m``) once
    ``geogrid compute`` has measured it, else the nearest by straight line (``walk_basis: straight_line``).

    404 outside every grid (with the nearest grid and its distance) or when no address matches.
    """
    q = LookupQuery.parse(request)
    lon, lat, crs, address, explain = q.lon, q.lat, q.crs, q.address, q.explain
    point = lon is not None and lat is not None  # coordinates win over an address, as in the batch
    if not point and address is None:
        raise GeogridError(t("give lon and lat, or address"))
    pool = getattr(request.app.state, "lookup_pool", None)
    if lon is not None and lat is not None and pool is not None:
        import psycopg
        from psycopg_pool import PoolTimeout

        try:
            async with pool.connection() as aconn:
                return _json(await lookup_point_async(aconn, lon, lat, crs))
        except PoolTimeout as exc:
            raise Unavailable(t("database unavailable: {error}", error=exc.__class__.__name__)) from None
        except psycopg.OperationalError:
            pass  # a pooled connection that died with the server (now discarded): answer on the sync path

    def work() -> dict:
        # Autocommit: read-only, so no BEGIN, and no ROLLBACK round trip when the connection goes back.
        with db.ready().connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            if lon is not None and lat is not None:
                return lookup_point(conn, lon, lat, crs)
            return lookup_address(conn, address or "", explain)

    return _json(await anyio.to_thread.run_sync(work, limiter=_DB_SLOTS))


def _json(answer: dict) -> Response:
    """orjson: several times faster than the standard library, and UTF-8 names as they are."""
    return Response(orjson.dumps(answer), media_type="application/json")


class BatchItem(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str | int | None = None
    lon: float | None = None
    lat: float | None = None
    address: str | None = Field(None, max_length=300)


class BatchRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    items: list[BatchItem]
    crs: str = Field("wgs84", max_length=40, description=CRS_HELP)


def _inline_defs(schema: dict) -> dict:
    """A model's JSON schema with its ``$defs`` written where they are used: in the OpenAPI document a
    ``#/$defs/...`` reference is read from the document's root, where it dangles (ReDoc then shows nothing)."""
    defs = schema.pop("$defs", {})

    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref", "")
            return (
                walk(defs[ref.rsplit("/", 1)[1]])
                if ref.startswith("#/$defs/")
                else {k: walk(v) for k, v in node.items()}
            )
        return [walk(v) for v in node] if isinstance(node, list) else node

    return walk(schema)


_BATCH_DOC: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": _inline_defs(BatchRequest.model_json_schema())},
            "text/csv": {"schema": {"type": "string", "description": "columns id and lon,lat or address"}},
        },
    }
}


_GC = {"pauses": 0, "was_enabled": True}
_GC_LOCK = threading.Lock()


@contextmanager
def _gc_paused() -> Iterator[None]:
    """The cyclic collector off while a batch runs: a batch allocates objects per item, and the collections
    they trigger walk the whole heap (measured: validating 20k items took 0.16 s with the collector, 0.035 s
    without). Reference counting still frees all that is not cyclic; the last batch to end turns it back on."""
    with _GC_LOCK:
        if _GC["pauses"] == 0:
            _GC["was_enabled"] = gc.isenabled()
            gc.disable()
        _GC["pauses"] += 1
    try:
        yield
    finally:
        with _GC_LOCK:
            _GC["pauses"] -= 1
            if _GC["pauses"] == 0 and _GC["was_enabled"]:
                gc.enable()


@router.post("/lookup/batch", openapi_extra=_BATCH_DOC, responses=BATCH_RESPONSES)
async def lookup_many(request: Request, crs: Annotated[str | None, Query(max_length=40)] = None) -> Response:
    """Many points and addresses at once, answered in the same order: ``{"results": [{"id", "grid"} | ...]}``.

    A ``text/csv`` body (or a multipart ``file``) with columns ``id`` and ``lon,lat`` or ``address`` is
    answered as CSV. Over ``GEOGRID_BATCH_LIMIT`` items or ``GEOGRID_MAX_BODY_BYTES`` answers 413.
    """
    with _gc_paused():
        return await _lookup_many(request, crs)


async def _lookup_many(request: Request, crs: str | None) -> Response:
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind in ("text/csv", "multipart/form-data"):
        raw = await _csv_body(request, kind)
        points = _csv_points(raw)
        if points is not None:  # points only: the columnar path, same CSV answer
            columns = await _run_columns(*points, crs)
            return Response(_columns_csv(columns), media_type="text/csv; charset=utf-8")
        results = await _run(_csv_items(raw), crs)
        return Response(_to_csv(results), media_type="text/csv; charset=utf-8")
    raw = await request.body()
    columnar = _columnar(raw)
    if columnar is not None:
        columns = await _run_columns(columnar.id, columnar.lon, columnar.lat, crs or columnar.crs)
        return _json(columns)
    try:
        body = BatchRequest.model_validate_json(raw)
    except ValidationError as exc:
        raise RequestValidationError(exc.errors(include_url=False, include_context=False)) from None
    if all(i.lon is not None and i.lat is not None and i.address is None for i in body.items):
        # Points only: located as arrays (as the columnar format), answered item by item.
        ids = [i.id for i in body.items]
        columns = await _run_columns(ids, [i.lon for i in body.items], [i.lat for i in body.items], crs or body.crs)
        return _json({"results": items_from_columns(columns)})
    items = [{"id": i.id, "lon": i.lon, "lat": i.lat, "address": i.address} for i in body.items]
    return _json({"results": await _run(items, crs or body.crs)})


class ColumnarRequest(BaseModel):
    """Points as columns: ``{"lon": [...], "lat": [...], "id": [...]}``, answered as columns."""

    model_config = ConfigDict(extra="forbid")

    lon: list[float | None]
    lat: list[float | None]
    id: list[str | int | None] | None = None
    crs: str = Field("wgs84", max_length=40, description=CRS_HELP)


def _columnar(raw: bytes) -> ColumnarRequest | None:
    """The columnar body when it is one (a JSON object with ``lon``), else None (the items format)."""
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None
    if not isinstance(data, dict) or "lon" not in data or "items" in data:
        return None
    try:
        return ColumnarRequest.model_validate(data)
    except ValidationError as exc:
        raise RequestValidationError(exc.errors(include_url=False, include_context=False)) from None


async def _run_columns(ids, lon, lat, crs: str | None) -> dict[str, list]:
    from starlette.concurrency import run_in_threadpool

    def work() -> dict[str, list]:
        import numpy as np

        x = (
            np.array([math.nan if v is None else v for v in lon], dtype=float)
            if None in lon
            else np.asarray(lon, float)
        )
        y = (
            np.array([math.nan if v is None else v for v in lat], dtype=float)
            if None in lat
            else np.asarray(lat, float)
        )
        with db.ready().connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            return lookup_columns(conn, ids, x, y, crs)

    return await run_in_threadpool(work)


def _csv_points(raw: bytes) -> tuple[list[str], list[float], list[float]] | None:
    """A CSV of points only (columns lon and lat, no address column): ids and coordinates, else None."""
    try:
        text_ = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return None
    reader = csv.reader(io.StringIO(text_))
    header = next(reader, None)
    if header is None or "address" in header or not {"lon", "lat"} <= set(header):
        return None
    i_lon, i_lat, i_id = header.index("lon"), header.index("lat"), header.index("id") if "id" in header else -1
    ids, lon, lat = [], [], []
    try:
        for n, row in enumerate(reader, start=2):
            ids.append((row[i_id] if 0 <= i_id < len(row) else "") or str(n))
            lon.append(_number(row[i_lon]) if i_lon < len(row) else math.nan)
            lat.append(_number(row[i_lat]) if i_lat < len(row) else math.nan)
    except csv.Error:
        return None
    return ids, lon, lat


def _number(cell: str) -> float:
    try:
        return float(cell)
    except ValueError:
        return math.nan


def _columns_csv(columns: dict[str, list]) -> str:
    """The CSV answer of :func:`_to_csv` for a points-only batch (no address columns to fill)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    blank = [None] * len(columns["id"])
    memo: dict = {}

    def escaped(values: list) -> list:  # grid fields repeat: each distinct value escaped once
        return [memo[v] if v in memo else memo.setdefault(v, escape_cell(v)) for v in values]

    by_name = {name: escaped(values) for name, values in columns.items() if name != "id"}
    by_name["id"] = [escape_cell(v) for v in columns["id"]]
    writer.writerows(zip(*(by_name.get(name, blank) for name in CSV_COLUMNS), strict=True))
    return out.getvalue()


async def _run(items: list[dict], crs: str | None) -> list[dict]:
    from starlette.concurrency import run_in_threadpool

    def work() -> list[dict]:
        with db.ready().connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            return lookup_batch(conn, items, crs, budget=True)

    return await run_in_threadpool(work)


async def _csv_body(request: Request, kind: str) -> bytes:
    if kind == "multipart/form-data":
        try:
            form = await request.form()
        except HTTPException as exc:  # a malformed multipart body
            raise GeogridError(t("cannot read the upload: {error}", error=exc.detail)) from None
        upload = form.get("file")
        if upload is None or isinstance(upload, str):
            raise GeogridError(t("multipart upload needs a 'file' field holding the CSV"))
        return await upload.read()
    return await request.body()


def _csv_items(raw: bytes) -> list[dict]:
    try:
        reader = csv.DictReader(io.StringIO(raw.decode("utf-8-sig")))
        fields = set(reader.fieldnames or ())
        if not ({"lon", "lat"} <= fields or "address" in fields):
            raise GeogridError(t("CSV needs columns lon and lat, or address (and optionally id)"))
        return [
            {
                "id": row.get("id") or str(n),
                "lon": row.get("lon") or None,
                "lat": row.get("lat") or None,
                "address": row.get("address") or None,
            }
            for n, row in enumerate(reader, start=2)
        ]
    except (UnicodeDecodeError, csv.Error) as exc:
        raise GeogridError(t("cannot read the CSV: {error}", error=exc)) from None


def _to_csv(results: list[dict]) -> str:
    out = io.StringIO()
    writer = SafeWriter(out)
    writer.writerow(CSV_COLUMNS)
    writer.writerows(csv_row(r) for r in results)
    return out.getvalue()
