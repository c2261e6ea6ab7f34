"""Read any supported file into a frame of lon/lat geometries, with rows numbered the way a user sees them.

GeoJSON, GeoPackage and Shapefile go through pyogrio; CSV through pandas with lon/lat or WKT columns.
The source CRS is taken from the file unless ``--crs`` says otherwise (Chinese data often declares WGS84
while its coordinates are GCJ-02, so the user's word wins). Every problem raises :class:`InputError` naming
the file, the row and the field, so an import fails on the first bad row before anything is written.

Row numbers: in a CSV the header is row 1 and the first record row 2 (as a spreadsheet shows it); in
GeoJSON, GeoPackage and Shapefile the first feature is row 1.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import NoReturn

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from geogrid.crs import OFFSET_SYSTEMS, check_horizontal, to_wgs84
from geogrid.errors import GeogridError, InputError
from geogrid.i18n import t

# Column names tried in order when no field option is given (compared case-insensitively).
FIELD_NAMES: dict[str, tuple[str, ...]] = {
    "lon": ("lon", "lng", "long", "longitude", "x", "经度", "gcj_lng", "bd_lng"),
    "lat": ("lat", "latitude", "y", "纬度", "gcj_lat", "bd_lat"),
    "wkt": ("wkt", "geometry", "geom", "the_geom", "shape", "几何"),
    "id": ("source_id", "id", "fid", "osm_id", "objectid", "uid", "编号", "编码", "标识码"),
    "code": ("code", "adcode", "area_code", "grid_code", "区划代码", "代码", "编码", "网格编码", "网格代码"),
    "name": ("name", "名称", "名字", "网格名称", "小区名称", "设施名称"),
    "level": ("level", "级别", "层级"),
    "community": ("community_code", "community", "社区代码", "社区编码", "社区", "所属社区"),
    "kind": ("kind", "type", "category", "类型", "类别", "网格类型", "设施类型"),
    "address": ("address", "addr", "地址", "门牌地址", "详细地址"),
    "households": ("households", "household_count", "hh", "户数", "住户数"),
    "floors": ("floors", "levels", "building:levels", "层数", "楼层数"),
    "minutes": ("circle_minutes", "minutes", "服务圈"),
    "building": ("building_id", "building", "楼栋编号", "楼栋", "建筑编号"),
    "household": ("household_id", "household", "户号", "户编号"),
    "party": ("party_member", "party", "党员", "是否党员"),
    "special": ("special_groups", "special", "特殊群体", "重点人群"),
    "registration": ("registration_type", "registration", "户籍类型", "户籍"),
    "person": ("name", "姓名"),
    "id_number": ("id_number", "id_card", "身份证号", "身份证"),
    "phone": ("phone", "mobile", "tel", "电话", "手机", "联系电话"),
    "birth_year": ("birth_year", "出生年份", "出生年"),
    "unit": ("unit", "单元"),
    "room": ("room", "房号", "门牌号"),
    # rosters (geogrid/importers/rosters.py)
    "staff_id": ("staff_id", "source_id", "id", "工号", "人员编号", "编号"),
    "role": ("role", "角色", "岗位", "职务", "身份", "人员类别"),
    "grids": ("grid_code", "grid_codes", "grid", "grids", "网格编码", "网格代码", "所属网格", "负责网格", "网格"),
    "start_date": ("start_date", "start", "任职日期", "上岗日期", "开始日期", "起始日期"),
    "cared_households": ("households", "联系户数", "联系户", "负责户数", "户数"),
    "org_name": ("name", "党组织名称", "组织名称", "名称"),
    "org_level": ("level", "级别", "层级", "组织类型", "类型"),
    "parent": ("parent", "parent_id", "上级党组织", "上级组织", "上级"),
    "secretary": ("secretary", "书记", "书记姓名"),
    "members": ("member_count", "members", "党员人数", "党员数"),
}
CSV_SUFFIXES = (".csv", ".txt", ".tsv")
EXCEL_SUFFIXES = (".xlsx", ".xlsm")  # rosters and ledgers as street offices keep them
VECTOR_SUFFIXES = (".geojson", ".json", ".gpkg", ".shp", ".zip", ".fgb")
ENCODINGS = ("utf-8-sig", "gb18030")  # Excel in China saves CSV as GBK/GB18030
AREA_MARGIN_DEG = 1.0  # how far outside a projected CRS's area of use a coordinate may land


@dataclass
class Source:
    """A file's records: ``frame`` (index 0..n-1) with its ``geometry`` in EPSG:4326 when the file has one."""

    frame: pd.DataFrame
    file: str
    crs: str
    first_row: int  # the user-facing number of record 0
    tick: Callable[[int], None] = field(default=lambda n: None, repr=False)
    # A table with no coordinate columns at all: why it has no geometry, raised by whatever needs one (only a
    # buildings file may update stored buildings by source id without them).
    missing_geometry: InputError | None = field(default=None, repr=False)
    # The user-facing number of each record when they are not consecutive (a subset of another file's records).
    rows: np.ndarray | None = field(default=None, repr=False)

    def __len__(self) -> int:
        return len(self.frame)

    @property
    def geoms(self) -> np.ndarray:
        if self.missing_geometry is not None:
            raise self.missing_geometry
        return np.asarray(
            self.frame.geometry.array if isinstance(self.frame, gpd.GeoDataFrame) else self.frame["geometry"],
            dtype=object,
        )

    def row(self, index: int) -> int:
        """The user-facing number of record ``index``."""
        return int(self.rows[index]) if self.rows is not None else int(index) + self.first_row

    def fail(self, index: int, message: str, field: str | None = None) -> NoReturn:
        raise InputError(message, file=self.file, row=self.row(index), field=field)

    def first_bad(self, bad: np.ndarray, message: Callable[[int], str], field: str | None = None) -> None:
        """Fail on the first True in ``bad``; ``message(i)`` describes record ``i``."""
        hits = np.flatnonzero(np.asarray(bad, dtype=bool))
        if len(hits):
            self.fail(int(hits[0]), message(int(hits[0])), field)

    def column(self, given: str | None, key: str, *, required: bool = False, option: str = "") -> str | None:
        """The column for a field: the one the user named, else the first default name present."""
        columns = {str(c).lower(): str(c) for c in self.frame.columns if c != "geometry"}
        if given:
            if given in self.frame.columns:
                return given
            if given.lower() in columns:
                return columns[given.lower()]
            raise InputError(
                t("column '{given}' not found; the file has: {columns}", given=given, columns=list(columns.values())),
                file=self.file,
                field=given,
            )
        for name in FIELD_NAMES.get(key, ()):
            if name.lower() in columns:
                return columns[name.lower()]
        if required:
            found = list(columns.values())
            raise InputError(
                t(
                    "no {key} column found (name it with {option}); the file has: {columns}",
                    key=key,
                    option=option,
                    columns=found,
                )
                if option
                else t("no {key} column found; the file has: {columns}", key=key, columns=found),
                file=self.file,
                field=key,
            )
        return None

    def text(self, column: str | None) -> np.ndarray:
        """Values as stripped strings, ``None`` where empty; integral numbers lose their ``.0``."""
        if column is None:
            return np.full(len(self), None, dtype=object)
        return np.asarray([_as_text(v) for v in self.frame[column]], dtype=object)

    def source_ids(self, given: str | None, key: str = "id") -> np.ndarray:
        """Each record's id in its source: the id column, else ``<file name>#<row>``; unique within the file."""
        column = self.column(given, key)
        ids = self.text(column)
        stem = Path(self.file).name
        missing = ids == None  # noqa: E711
        ids[missing] = [f"{stem}#{self.row(int(i))}" for i in np.flatnonzero(missing)]
        dup = pd.Series(ids).duplicated().to_numpy()
        self.first_bad(dup, lambda i: t("source id '{id}' appears twice in the file", id=ids[i]), column)
        return ids

    def integers(self, column: str | None, default: int | None = None) -> np.ndarray:
        """Whole numbers of a column (``default`` where empty); the first unparsable value fails the import."""
        values = self.text(column)
        out = np.full(len(self), default, dtype=object)
        if column is None:
            return out
        present = np.asarray([v is not None for v in values])
        numbers = pd.to_numeric(pd.Series(values[present], dtype=object), errors="coerce").to_numpy(dtype=float)
        bad = np.zeros(len(self), dtype=bool)
        bad[present] = ~np.isfinite(numbers) | (numbers != np.round(numbers)) | (np.abs(numbers) > 2**31)
        self.first_bad(bad, lambda i: t("'{value}' is not a whole number", value=values[i]), column)
        out[present] = [int(n) for n in numbers]
        return out


def _as_text(value: object) -> str | None:
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
        return None
    if isinstance(value, float | np.floating) and float(value).is_integer():
        return str(int(value))
    text = str(value).strip()
    return text or None


def read_source(
    path: str | Path,
    *,
    crs: str | None = None,
    geometry: bool = True,
    layer: str | None = None,
    lon_field: str | None = None,
    lat_field: str | None = None,
    wkt_field: str | None = None,
) -> Source:
    """Read ``path``; with ``geometry`` the geometries are converted to EPSG:4326 (bad ones stay for validation)."""
    path = Path(path)
    if not path.exists():
        raise InputError(t("file not found"), file=str(path))
    suffix = path.suffix.lower()
    if suffix in CSV_SUFFIXES or suffix in EXCEL_SUFFIXES:
        table = _read_csv(path) if suffix in CSV_SUFFIXES else _read_excel(path, layer)
        source = Source(table, str(path), _horizontal(crs, path), first_row=2)
        if geometry and not (lon_field or lat_field or wkt_field) and not _has_coordinates(source):
            source.missing_geometry = _no_coordinates(source)
        elif geometry:
            source.frame = gpd.GeoDataFrame(
                source.frame, geometry=_csv_geometry(source, lon_field, lat_field, wkt_field)
            )
    elif suffix in VECTOR_SUFFIXES:
        _refuse_json_nul(path)
        frame = _read_vector(path, layer)
        declared = frame.crs.to_string() if frame.crs is not None else None
        source = Source(frame.reset_index(drop=True), str(path), _horizontal(crs or declared, path), first_row=1)
    else:
        raise InputError(
            t("unsupported file type '{suffix}': use GeoJSON, GeoPackage, Shapefile or CSV", suffix=suffix),
            file=str(path),
        )
    _refuse_nul(source)
    if geometry and source.missing_geometry is None:
        _to_storage(source)
    return source


def _has_coordinates(source: Source) -> bool:
    """Whether a table has a WKT, longitude or latitude column under any of their usual names."""
    return any(source.column(None, key) for key in ("wkt", "lon", "lat"))


def _no_coordinates(source: Source) -> InputError:
    """The error a table without coordinate columns gives wherever a geometry is needed."""
    try:
        _csv_geometry(source, None, None, None)
    except InputError as missing:
        return missing
    raise AssertionError("a table without coordinate columns read as geometries")


def _horizontal(crs: str | None, path: Path) -> str:
    """The file's CRS by name, refused when geocentric or 3D (EPSG:4978 once stored a building at latitude 90)."""
    try:
        return check_horizontal(crs)
    except GeogridError as exc:
        raise InputError(exc.message, file=str(path), field="crs") from None


def _refuse_nul(source: Source) -> None:
    """A NUL character cannot be stored in PostgreSQL text: the first cell holding one fails, naming row and column
    (never the value: it may be personal data)."""
    for column in source.frame.columns:
        if column == "geometry" or pd.api.types.is_numeric_dtype(source.frame[column].dtype):
            continue
        values = source.frame[column].to_numpy()
        source.first_bad(
            np.fromiter((isinstance(v, str) and "\x00" in v for v in values), bool, len(values)),
            lambda i: t("a NUL character cannot be stored: remove it from the file"),
            str(column),
        )


def _refuse_json_nul(path: Path) -> None:
    """GDAL reads a GeoJSON ``\\u0000`` as the end of the string and would silently cut the text there."""
    if path.suffix.lower() not in (".geojson", ".json") or b"\\u0000" not in path.read_bytes():
        return
    import json

    try:
        features = json.loads(path.read_text(encoding="utf-8")).get("features", [])
    except (ValueError, AttributeError):
        features = []
    for i, feature in enumerate(features if isinstance(features, list) else []):
        props = (feature.get("properties") or {}) if isinstance(feature, dict) else {}
        for key, value in props.items() if isinstance(props, dict) else ():
            if isinstance(value, str) and "\x00" in value:
                raise InputError(
                    t("a NUL character cannot be stored: remove it from the file"), file=str(path), row=i + 1, field=key
                )
    raise InputError(t("a NUL character cannot be stored: remove it from the file"), file=str(path))


def _read_csv(path: Path) -> pd.DataFrame:
    sep = "\t" if path.suffix.lower() == ".tsv" else None
    for encoding in ENCODINGS:
        try:
            return pd.read_csv(path, dtype=str, sep=sep, engine="python", encoding=encoding, skipinitialspace=True)
        except UnicodeDecodeError:
            continue
        except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
            raise InputError(t("not a readable CSV: {error}", error=exc), file=str(path)) from None
    raise InputError(t("text is neither UTF-8 nor GB18030"), file=str(path))


def _read_excel(path: Path, sheet: str | None) -> pd.DataFrame:
    """The first sheet (or ``--layer``) of a workbook as text; the header is row 1, as Excel numbers it."""
    try:
        frame = pd.read_excel(path, sheet_name=sheet or 0, dtype=object, engine="openpyxl")
    except Exception as exc:  # openpyxl raises zipfile, KeyError and ValueError variants for unreadable workbooks
        raise InputError(t("not a readable Excel workbook: {error}", error=exc), file=str(path)) from None
    frame.columns = [str(c).strip() for c in frame.columns]
    filled = np.flatnonzero(frame.notna().any(axis=1).to_numpy())
    return frame.iloc[: filled[-1] + 1 if len(filled) else 0]  # trailing blank rows only: row numbers stay true


def _read_vector(path: Path, layer: str | None) -> gpd.GeoDataFrame:
    try:
        return gpd.read_file(path, engine="pyogrio", layer=layer)
    except Exception as exc:  # pyogrio raises several error types for unreadable files
        raise InputError(
            t("not a readable {suffix} file: {error}", suffix=path.suffix, error=exc), file=str(path)
        ) from None


def _csv_geometry(source: Source, lon_field: str | None, lat_field: str | None, wkt_field: str | None) -> np.ndarray:
    """Geometries from a WKT column, else from lon/lat columns; unparsable values fail the import."""
    wkt = source.column(wkt_field, "wkt") if wkt_field or not (lon_field or lat_field) else None
    if wkt:
        texts = source.text(wkt)
        geoms = shapely.from_wkt(texts, on_invalid="ignore")
        source.first_bad(
            (geoms == None) & (texts != None),  # noqa: E711
            lambda i: t("unparsable WKT '{wkt}'", wkt=texts[i][:40]),
            wkt,
        )
        return geoms
    lon = source.column(lon_field, "lon", required=True, option="--lon-field or --wkt-field")
    lat = source.column(lat_field, "lat", required=True, option="--lat-field")
    xy = []
    for col in (lon, lat):
        texts = source.text(col)
        source.first_bad(texts == None, lambda i: t("coordinate is missing"), col)  # noqa: E711
        values = pd.to_numeric(pd.Series(texts), errors="coerce").to_numpy(dtype=float)
        source.first_bad(~np.isfinite(values), _not_a_number(texts), col)
        xy.append(values)
    return shapely.points(xy[0], xy[1])


def _to_storage(source: Source) -> None:
    """Check coordinates against the source CRS and convert them to EPSG:4326."""
    geoms = source.geoms
    source.first_bad(shapely.is_missing(geoms) | shapely.is_empty(geoms), lambda i: t("geometry is empty"), "geometry")
    bounds = shapely.bounds(geoms)
    name = source.crs
    crs = None if name in OFFSET_SYSTEMS else CRS.from_user_input(name)
    if crs is None or crs.is_geographic:
        _check_range(source, bounds, (-180.0, -90.0, 180.0, 90.0), name)
    try:
        converted = np.asarray(to_wgs84(geoms, name), dtype=object)
    except GeogridError:
        raise
    except Exception as exc:
        raise InputError(
            t("cannot convert from {crs}: {error}", crs=name, error=exc), file=source.file, field="geometry"
        ) from None
    if crs is not None and crs.is_projected:
        area = crs.area_of_use.bounds if crs.area_of_use else (-180.0, -90.0, 180.0, 90.0)
        m = AREA_MARGIN_DEG
        _check_range(
            source,
            shapely.bounds(converted),
            (area[0] - m, area[1] - m, area[2] + m, area[3] + m),
            name,
            original=bounds,
        )
    source.frame = gpd.GeoDataFrame(source.frame.drop(columns="geometry"), geometry=converted, crs=4326)


def _not_a_number(texts: np.ndarray) -> Callable[[int], str]:
    """The message for row ``i`` of a coordinate column that does not read as a number."""
    return lambda i: t("'{value}' is not a number", value=texts[i])


def _check_range(
    source: Source, bounds: np.ndarray, box: Sequence[float], crs: str, original: np.ndarray | None = None
) -> None:
    shown = bounds if original is None else original
    bad = (
        ~np.isfinite(bounds).all(axis=1)
        | (bounds[:, 0] < box[0])
        | (bounds[:, 1] < box[1])
        | (bounds[:, 2] > box[2])
        | (bounds[:, 3] > box[3])
    )
    source.first_bad(
        bad,
        lambda i: t(
            "coordinates ({x:.6g}, {y:.6g}) are out of range for {crs}; give the right CRS with --crs",
            x=shown[i][0],
            y=shown[i][1],
            crs=crs,
        ),
        "geometry",
    )
