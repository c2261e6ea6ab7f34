"""Settings read from the environment (``GEOGRID_*``).

Numbers that vary by city (household bands, walking pace, circle radii, code template) live here,
never as constants in the code, so a city can change them without a release.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")


def _env(name: str, default: str) -> str:
    return os.environ.get(f"GEOGRID_{name}", default)


class SettingError(ValueError):
    """A GEOGRID_* variable that cannot be read. Worded in both languages here: the language is a setting too."""


def _parse(name: str, default: str, parse: Callable[[str], T]) -> T:
    """``GEOGRID_<name>`` read by ``parse``; a value it cannot read names the variable and the default's form."""
    value = _env(name, default)
    try:
        return parse(value)
    except (ValueError, TypeError):
        raise SettingError(f"环境变量 GEOGRID_{name} 的值 '{value}' 无法识别，格式应如 '{default}' "
                           f"(GEOGRID_{name}='{value}' cannot be read; expected something like '{default}')") from None


def _bands(text: str) -> dict[str, tuple[int, int]]:
    """Parse ``basic:300-500,dedicated:0-100000`` into ``{kind: (low, high)}``."""
    out: dict[str, tuple[int, int]] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        kind, _, rng = part.partition(":")
        low, _, high = rng.partition("-")
        out[kind.strip()] = (int(low), int(high))
    return out


def _radii(text: str) -> dict[int, float]:
    """Parse ``5:300,10:500,15:1000`` into ``{minutes: metres}``."""
    pairs = (p.split(":") for p in text.split(",") if p.strip())
    return {int(m): float(r) for m, r in pairs}


def _lang(text: str) -> str:
    """``zh-en``, ``zh`` or ``en``; anything else gives the default ``zh-en`` (readable by everyone)."""
    lang = text.strip().lower().replace("_", "-")
    return lang if lang in ("zh-en", "zh", "en") else "zh-en"


@dataclass(frozen=True)
class Settings:
    """Everything a deployment may tune. Build with :func:`get_settings`."""

    database_url: str | None = None
    home: Path = Path(".geogrid")
    db_port: int = 54329
    db_name: str = "geogrid"
    pg_bindir: str | None = None
    grid_code_template: str = "{community_code}{seq:03d}"
    household_bands: dict[str, tuple[int, int]] = field(
        default_factory=lambda: {"basic": (300, 500), "dedicated": (0, 100_000)}
    )
    walk_speed_m_per_min: float = 60.0
    circle_radius_m: dict[int, float] = field(default_factory=lambda: {5: 300.0, 10: 500.0, 15: 1000.0})
    access_offset_m: float = 50.0  # from a path to a door, counted as reached
    area_cell_m: float = 10.0  # raster cell of network-area outlines (metres); at most the access offset
    metric_crs: str = "auto"
    tile_url: str | None = None
    tile_attribution: str = ""
    batch_limit: int = 100_000
    max_body_bytes: int = 5_000_000
    api_host: str = "127.0.0.1"
    api_port: int = 8000
    # Boundary validation and planning.
    min_compactness: float = 0.2  # Polsby–Popper 4πA/P² below this is "very non-compact" (a square is 0.785)
    area_tolerance_m2: float = 1.0  # overlaps, gaps and outside-community slivers smaller than this are noise
    move_buffer_m: float = 3.0  # a building moved without a footprint takes a square of this half-width
    problem_max_points: int = 500  # at most this many building points in one problem's location
    lang: str = "zh-en"  # user-facing messages: zh-en (中文 (English)), zh or en
    max_grids_per_worker: int = 1  # validation: grids one full-time/part-time worker or grid leader may cover

    @property
    def embedded(self) -> bool:
        """True when geogrid runs its own PostgreSQL cluster under :attr:`home`."""
        return not self.database_url

    @property
    def pgdata(self) -> Path:
        return self.home.resolve() / "pgdata"

    @property
    def url(self) -> str:
        """SQLAlchemy URL of the database, embedded or external."""
        if self.database_url:
            return self.database_url.replace("postgresql://", "postgresql+psycopg://", 1)
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.db_port}/{self.db_name}"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Settings from the environment; cached, call ``get_settings.cache_clear()`` after changing it."""
    tile = _env("TILE_URL", "").strip() or None
    return Settings(
        database_url=os.environ.get("GEOGRID_DATABASE_URL") or None,
        home=Path(_env("HOME", ".geogrid")),
        db_port=_parse("DB_PORT", "54329", int),
        db_name=_env("DB_NAME", "geogrid"),
        pg_bindir=os.environ.get("GEOGRID_PG_BINDIR") or None,
        grid_code_template=_env("GRID_CODE_TEMPLATE", "{community_code}{seq:03d}"),
        household_bands=_parse("HOUSEHOLD_BANDS", "basic:300-500,dedicated:0-100000", _bands),
        walk_speed_m_per_min=_parse("WALK_SPEED", "60", float),
        circle_radius_m=_parse("CIRCLE_RADII", "5:300,10:500,15:1000", _radii),
        access_offset_m=_parse("ACCESS_OFFSET", "50", float),
        area_cell_m=_parse("AREA_CELL", "10", float),
        metric_crs=_env("METRIC_CRS", "auto"),
        tile_url=tile,
        tile_attribution=_env("TILE_ATTRIBUTION", ""),
        batch_limit=_parse("BATCH_LIMIT", "100000", int),
        max_body_bytes=_parse("MAX_BODY_BYTES", "5000000", int),
        api_host=_env("API_HOST", "127.0.0.1"),
        api_port=_parse("API_PORT", "8000", int),
        min_compactness=_parse("MIN_COMPACTNESS", "0.2", float),
        area_tolerance_m2=_parse("AREA_TOLERANCE_M2", "1.0", float),
        move_buffer_m=_parse("MOVE_BUFFER_M", "3.0", float),
        problem_max_points=_parse("PROBLEM_MAX_POINTS", "500", int),
        lang=_lang(_env("LANG", "zh-en")),
        max_grids_per_worker=_parse("MAX_GRIDS_PER_WORKER", "1", int),
    )
