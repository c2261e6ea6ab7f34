"""Settings read from the environment (``GEOGRID_*``), one pydantic-settings class, each default written once.

Numbers that vary by city (household bands, walking pace, circle radii, code template) live here,
never as constants in the code, so a city can change them without a release.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any

from pydantic import AliasChoices, Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from geogrid.errors import SettingError  # defined with the other errors (the CLI catches it cheaply); re-exported

__all__ = ["PREFIX", "SettingError", "Settings", "get_settings"]

PREFIX = "GEOGRID_"


def setting(default: Any, *, env: str | None = None, form: str | None = None, doc: str = "") -> Any:
    """A field read from ``GEOGRID_<env>`` (the field's own name when ``env`` is None); ``form`` is how the value
    is written in the environment, quoted back when it cannot be read."""
    extra: dict[str, Any] = {"form": form if form is not None else str(default)}
    if env is None:
        return Field(default, description=doc, json_schema_extra=extra)
    return Field(default, description=doc, json_schema_extra=extra, validation_alias=AliasChoices(PREFIX + env))


Bands = Annotated[dict[str, tuple[int, int]], NoDecode]
Shares = Annotated[dict[str, float], NoDecode]
Kinds = Annotated[tuple[str, ...], NoDecode]
Range = Annotated[tuple[int, int], NoDecode]
RESIDENTIAL_SHARE = {
    "apartments": 1.0,
    "residential": 1.0,
    "house": 1.0,
    "detached": 1.0,
    "dormitory": 1.0,
    "terrace": 1.0,
    "yes": 0.6,
    "*": 0.0,
}
Radii = Annotated[dict[int, float], NoDecode]
Words = Annotated[tuple[str, ...], NoDecode]
SYNC_LEVELS = ("on", "off", "local", "remote_write", "remote_apply")


class Settings(BaseSettings):
    """Everything a deployment may tune. Build with :func:`get_settings`."""

    model_config = SettingsConfigDict(env_prefix=PREFIX, frozen=True, populate_by_name=True, extra="ignore")

    database_url: str | None = setting(None, form="postgresql://user:pass@host:5432/db", doc="an external PostGIS")
    home: Path = setting(Path(".geogrid"), doc="the embedded cluster's directory")
    db_port: int = setting(54329, doc="the embedded cluster's port")
    db_name: str = setting("geogrid")
    pg_bindir: str | None = setting(None, form="/usr/lib/postgresql/15/bin")
    grid_code_template: str = setting("{community_code}{seq:03d}", doc="grid codes; {seq:02d} for 14 digits")
    household_bands: Bands = setting(
        {"basic": (300, 500), "dedicated": (0, 100_000)},
        form="basic:300-500,dedicated:0-100000",
        doc="households per grid kind",
    )
    walk_speed_m_per_min: float = setting(60.0, env="WALK_SPEED", form="60", doc="metres per minute")
    circle_radius_m: Radii = setting(
        {5: 300.0, 10: 500.0, 15: 1000.0},
        env="CIRCLE_RADII",
        form="5:300,10:500,15:1000",
        doc="walking distance per circle (GB 50180-2018)",
    )
    access_offset_m: float = setting(50.0, env="ACCESS_OFFSET", form="50", doc="from a path to a door, reached")
    area_cell_m: float = setting(10.0, env="AREA_CELL", form="10", doc="raster cell of network-area outlines, m")
    metric_crs: str = setting("auto", doc="projected CRS for metres")
    tile_url: str | None = setting(None, form="https://.../{z}/{x}/{y}.png", doc="base-map tiles")
    tile_attribution: str = setting("")
    batch_limit: int = setting(100_000, doc="lookup: items per batch")
    max_body_bytes: int = setting(5_000_000, doc="request body size (413 beyond)")
    api_host: str = setting("127.0.0.1")
    api_port: int = setting(8000)
    # Boundary validation and planning.
    min_compactness: float = setting(0.2, doc="Polsby–Popper 4πA/P² floor (a square is 0.785)")
    area_tolerance_m2: float = setting(1.0, doc="overlaps, gaps and slivers smaller than this are noise")
    move_buffer_m: float = setting(3.0, doc="a building moved without a footprint takes a square this half-width")
    problem_max_points: int = setting(500, doc="at most this many building points in one problem's location")
    lang: str = setting("zh-en", doc="user-facing messages: zh-en (中文 (English)), zh or en")
    api_statement_timeout_ms: int = setting(30_000, doc="API: a query running longer fails (statement_timeout)")
    api_lock_timeout_ms: int = setting(5_000, doc="API: waiting longer for a lock fails (lock_timeout)")
    # Durability: "on" waits for the WAL flush before a commit is acknowledged; "off" answers sooner but a crash
    # loses the last acknowledged writes (8 of 8 plan applies in a trial stopped 110 ms later).
    synchronous_commit: str = setting("on", doc="PostgreSQL synchronous_commit: on, off, local, remote_write, ...")
    plan_max_vertices: int = setting(20_000, doc="vertices of one boundary in a plan edit (100k took 35 s)")
    # Robustness: how long a request waits for the database before answering 503.
    db_pool_timeout_s: float = setting(1.0, env="DB_POOL_TIMEOUT", doc="wait for a pooled connection, s")
    db_connect_timeout_s: int = setting(2, env="DB_CONNECT_TIMEOUT", doc="a new connection gives up after, s (≥ 2)")
    # Bounded work (413/422 beyond): previews, plans, drafts and address batches.
    preview_timeout_s: float = setting(30.0, env="PREVIEW_TIMEOUT", doc="a plan preview's time budget, s")
    plan_max_bytes: int = setting(1_000_000, doc="stored size of one plan's edits (a 100k-vertex plan was 4.4 MB)")
    draft_ttl_hours: float = setting(168.0, doc="draft plans expire after this many hours")
    batch_address_limit: int = setting(5_000, doc="addresses in one lookup batch (2,000 took 18 s)")
    batch_timeout_s: float = setting(120.0, env="BATCH_TIMEOUT", doc="a lookup batch's time budget, s")
    # Accounts and hardening.
    public: Words = setting(
        ("maps", "read", "lookup"), form="maps,read,lookup", doc="permissions anyone has without signing in"
    )
    suppress_below: int = setting(5, doc="special-group counts 1..N-1 hidden from non-staff aggregates")
    rate_limit: int = setting(120, doc="lookups/batches per minute per client address (and per key)")
    session_hours: float = setting(12.0, doc="a browser session lasts this long")
    cookie_secure: str = setting("auto", doc="auto (when the request came over https), always or never")
    allowed_hosts: Words = setting(
        ("127.0.0.1", "localhost"), form="127.0.0.1,localhost", doc="Host header values accepted (DNS rebinding)"
    )
    cors_origins: Words = setting((), form="https://a.example,https://b.example", doc="CORS off unless listed")
    sso_issuer: str | None = setting(None, doc="JWT single sign-on: issuer")
    sso_audience: str | None = setting(None, doc="JWT single sign-on: audience")
    sso_keys_file: str | None = setting(None, doc="JWT single sign-on: a JWKS or PEM keys file")

    @field_validator("public", "allowed_hosts", "cors_origins", "dedicated_kinds", mode="before")
    @classmethod
    def _words(cls, value: Any) -> Any:
        """A comma-separated list, blanks dropped."""
        return tuple(w.strip() for w in value.split(",") if w.strip()) if isinstance(value, str) else value

    @field_validator("synchronous_commit", mode="before")
    @classmethod
    def _sync(cls, value: Any) -> Any:
        level = str(value).strip().lower()
        if level not in SYNC_LEVELS:
            raise ValueError(value)
        return level

    # Partition (geogrid.partition): household estimates for buildings without figures, grid proposals.
    dwelling_m2: float = setting(90.0, doc="floor area of one dwelling, m² (household estimates)")
    default_levels: int = setting(6, doc="storeys of a building without a building:levels tag")
    residential_share: Shares = setting(
        dict(RESIDENTIAL_SHARE),
        form="apartments:1,yes:0.6,*:0",
        doc="share of floor area that is homes, by OSM building tag",
    )
    dedicated_kinds: Kinds = setting(
        ("school", "hospital", "market", "university", "park"),
        form="school,hospital,market,university,park",
        doc="facility kinds whose block or compound becomes a dedicated grid",
    )
    dedicated_min_m2: float = setting(5000.0, doc="smallest block or compound made a dedicated grid, m²")
    community_households: Range = setting(
        (1500, 4000), form="1500-4000", doc="households per community drawn by partition"
    )
    partition_tries: int = setting(4, doc="seeded restarts of the grid growth; the best is kept")

    @field_validator("household_bands", mode="before")
    @classmethod
    def _bands(cls, value: Any) -> Any:
        """``basic:300-500,dedicated:0-100000`` → ``{kind: (low, high)}``."""
        if not isinstance(value, str):
            return value
        out: dict[str, tuple[int, int]] = {}
        for part in filter(None, (p.strip() for p in value.split(","))):
            kind, _, rng = part.partition(":")
            low, _, high = rng.partition("-")
            out[kind.strip()] = (int(low), int(high))
        return out

    @field_validator("circle_radius_m", mode="before")
    @classmethod
    def _radii(cls, value: Any) -> Any:
        """``5:300,10:500,15:1000`` → ``{minutes: metres}``."""
        if not isinstance(value, str):
            return value
        pairs = (p.split(":") for p in value.split(",") if p.strip())
        return {int(m): float(r) for m, r in pairs}

    @field_validator("residential_share", mode="before")
    @classmethod
    def _shares(cls, value: Any) -> Any:
        """``apartments:1,yes:0.6,*:0`` → ``{building tag: share}``."""
        if not isinstance(value, str):
            return value
        pairs = (p.split(":") for p in value.split(",") if p.strip())
        return {k.strip(): float(v) for k, v in pairs}

    @field_validator("community_households", mode="before")
    @classmethod
    def _range(cls, value: Any) -> Any:
        if not isinstance(value, str):
            return value
        low, _, high = value.partition("-")
        return int(low), int(high)

    @field_validator(
        "database_url", "pg_bindir", "tile_url", "sso_issuer", "sso_audience", "sso_keys_file", mode="before"
    )
    @classmethod
    def _blank_is_none(cls, value: Any) -> Any:
        return (value.strip() or None) if isinstance(value, str) else value

    @field_validator("lang", mode="before")
    @classmethod
    def _lang(cls, value: Any) -> str:
        """``zh-en``, ``zh`` or ``en``; anything else gives the default ``zh-en`` (readable by everyone)."""
        from geogrid.i18n import normalise_lang

        return normalise_lang(value)

    # Rosters (geogrid/rosters.py): the validation rule worker_too_many_grids.
    max_grids_per_worker: int = setting(1, doc="grids one full-time/part-time worker or grid leader may cover")

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
        from geogrid.db.roles import url  # the application's own role, password from GEOGRID_HOME/secrets

        return url(self.home, self.db_port, self.db_name)


def env_name(field: str) -> str:
    """The environment variable a field is read from (``walk_speed_m_per_min`` → ``GEOGRID_WALK_SPEED``)."""
    alias = Settings.model_fields[field].validation_alias
    if isinstance(alias, AliasChoices) and isinstance(alias.choices[0], str):
        return alias.choices[0]
    return PREFIX + field.upper()


def _setting_error(exc: ValidationError) -> SettingError:
    """One line naming the first unreadable variable, its value and the expected form, in both languages."""
    err = exc.errors()[0]
    field = str(err["loc"][0]) if err["loc"] else ""
    if field not in Settings.model_fields:
        field = next((f for f in Settings.model_fields if env_name(f) == field), field)
    info = Settings.model_fields.get(field)
    name = env_name(field) if info else field
    extra = info.json_schema_extra if info else None
    form = str(extra.get("form", "")) if isinstance(extra, dict) else ""
    value = err.get("input", "")
    return SettingError(
        f"环境变量 {name} 的值 '{value}' 无法识别，格式应如 '{form}' "
        f"({name}='{value}' cannot be read; expected something like '{form}')"
    )


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Settings from the environment; cached, call ``get_settings.cache_clear()`` after changing it."""
    try:
        return Settings()
    except ValidationError as exc:
        raise _setting_error(exc) from None
