"""The domain model: places, people, facilities and the organisations attached to them.

Geometries are stored in lon/lat (EPSG:4326, within centimetres of CGCS2000); every measure in metres
is computed in a projected CRS (see :mod:`geogrid.crs`). Personal data (names, ID numbers, phones) lives
in its own tables so that maps and public APIs can never select it by accident.
"""

from __future__ import annotations

from datetime import date, datetime

from geoalchemy2 import Geometry
from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from geogrid.roles import ROLES as ROLES  # re-exported: the account roles live where the CLI reads them cheaply

SRID = 4326

AREA_LEVELS = ("district", "street", "community")
GRID_KINDS = ("basic", "dedicated")
REGISTRATION_TYPES = ("registered", "floating", "foreign")  # 户籍 / 流动 / 境外
SPECIAL_GROUPS = (
    "elderly_alone",  # 独居老人
    "disabled",  # 残疾人
    "hardship",  # 困难家庭
    "left_behind_child",  # 留守儿童
    "left_behind_elderly",  # 留守老人
    "bereaved_parents",  # 失独家庭
    "home_isolation",  # 居家隔离
)
SERVICE_STATION = "service_station"  # the station every lookup names the nearest of
FACILITY_KINDS = (
    SERVICE_STATION,  # 党群服务站 / 网格服务站 (5 min)
    "service_center",  # 社区服务中心 (15 min)
    "elderly_care",  # 养老驿站 / 日间照料 (5 min)
    "canteen",  # 社区食堂
    "rest_station",  # 户外劳动者驿站
    "checkpoint",  # 检查点 / 值守点
    "kindergarten",  # 幼儿园 (5 min)
    "health_station",  # 卫生服务站 (5 min)
    "school",  # 小学 (10 min)
    "market",  # 菜市场 (10 min)
    "other",
)
STAFF_ROLES = (
    "grid_leader",  # 网格长
    "full_time_worker",  # 专职网格员 (一人一格)
    "part_time_worker",  # 兼职网格员
    "specialist",  # 专业网格员 (一人多格)
    "building_leader",  # 楼栋长
    "party_central_household",  # 党员中心户
    "party_instructor",  # 网格党建指导员
    "employed_party_member",  # 在职党员
)
PARTY_ORG_LEVELS = ("street_committee", "community_committee", "grid_branch", "building_group")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class Base(DeclarativeBase):
    pass


class AdminArea(Base):
    """District (6-digit code), street office or town (9), community or village (12)."""

    __tablename__ = "admin_areas"
    __table_args__ = (CheckConstraint(_in("level", AREA_LEVELS), name="ck_admin_areas_level"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(12), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    level: Mapped[str] = mapped_column(String(16), index=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("admin_areas.id", ondelete="CASCADE"), index=True)
    geom = mapped_column(Geometry("MULTIPOLYGON", srid=SRID, spatial_index=True), nullable=True)
    source_id: Mapped[str | None] = mapped_column(String(200))


class Grid(Base):
    """A grid (网格). Rows are never deleted: a retired grid keeps its code, so codes are never reused.

    ``valid_to`` is null for the grids in force; earlier boundaries live in :class:`GridVersion`.
    """

    __tablename__ = "grids"
    __table_args__ = (CheckConstraint(_in("kind", GRID_KINDS), name="ck_grids_kind"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(16), default="basic", server_default="basic")
    community_id: Mapped[int | None] = mapped_column(ForeignKey("admin_areas.id"), index=True)
    geom = mapped_column(Geometry("MULTIPOLYGON", srid=SRID, spatial_index=True), nullable=False)
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    valid_from: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    valid_to: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), index=True)
    author: Mapped[str | None] = mapped_column(String(100))
    source_id: Mapped[str | None] = mapped_column(String(200))


class GridVersion(Base):
    """A past or present boundary of a grid: one row per version, kept for history and revert."""

    __tablename__ = "grid_versions"
    __table_args__ = (UniqueConstraint("grid_id", "version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    grid_id: Mapped[int] = mapped_column(ForeignKey("grids.id"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(16))
    community_id: Mapped[int | None] = mapped_column(ForeignKey("admin_areas.id"))
    geom = mapped_column(Geometry("MULTIPOLYGON", srid=SRID, spatial_index=True), nullable=True)
    valid_from: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    valid_to: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    author: Mapped[str | None] = mapped_column(String(100))
    change_id: Mapped[int | None] = mapped_column(Integer)
    note: Mapped[str | None] = mapped_column(Text)


class GridLineage(Base):
    """Parent → child links when grids are split or merged."""

    __tablename__ = "grid_lineage"

    parent_id: Mapped[int] = mapped_column(ForeignKey("grids.id"), primary_key=True)
    child_id: Mapped[int] = mapped_column(ForeignKey("grids.id"), primary_key=True)
    change_id: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class Compound(Base):
    """A residential compound (小区)."""

    __tablename__ = "compounds"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), index=True)
    community_id: Mapped[int | None] = mapped_column(ForeignKey("admin_areas.id"), index=True)
    address: Mapped[str | None] = mapped_column(String(300))
    geom = mapped_column(Geometry("MULTIPOLYGON", srid=SRID, spatial_index=True), nullable=True)
    source_id: Mapped[str | None] = mapped_column(String(200))


class Building(Base):
    """A building (楼栋): a point, an optional footprint, and what lives in it."""

    __tablename__ = "buildings"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    source_id: Mapped[str | None] = mapped_column(String(200), index=True)
    name: Mapped[str | None] = mapped_column(String(200))
    address: Mapped[str | None] = mapped_column(String(300))
    compound_id: Mapped[int | None] = mapped_column(ForeignKey("compounds.id"), index=True)
    number: Mapped[str | None] = mapped_column(String(20))
    floors: Mapped[int | None] = mapped_column(SmallInteger)
    households: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    geom = mapped_column(Geometry("POINT", srid=SRID, spatial_index=True), nullable=False)
    # True while ``households`` is an estimate (geogrid.partition.households); real figures clear it (trigger).
    households_estimated: Mapped[bool] = mapped_column(Boolean, default=False, server_default="false")
    footprint = mapped_column(Geometry("MULTIPOLYGON", srid=SRID, spatial_index=True), nullable=True)


class BuildingAssignment(Base):
    """Which grid each building is in: derived data, rebuilt in bulk by :mod:`geogrid.assign`.

    Kept apart from :class:`Building` so that a full reassignment writes a narrow table instead of
    rewriting every building row and its spatial indexes.
    """

    __tablename__ = "building_assignments"

    building_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("buildings.id", ondelete="CASCADE"), primary_key=True
    )
    grid_id: Mapped[int | None] = mapped_column(Integer, index=True)
    nearest_grid_id: Mapped[int | None] = mapped_column(Integer)
    distance_m: Mapped[float | None] = mapped_column(Float)


class Household(Base):
    """A household (户) in a building."""

    __tablename__ = "households"
    __table_args__ = (CheckConstraint(_in("registration_type", REGISTRATION_TYPES), name="ck_households_registration"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    building_id: Mapped[int] = mapped_column(ForeignKey("buildings.id", ondelete="CASCADE"), index=True)
    unit: Mapped[str | None] = mapped_column(String(20))
    room: Mapped[str | None] = mapped_column(String(20))
    registration_type: Mapped[str] = mapped_column(String(16), default="registered", server_default="registered")
    source_id: Mapped[str | None] = mapped_column(String(200))


class Resident(Base):
    """A resident (居民): what maps and aggregates may use. Identity is in :class:`ResidentPersonal`."""

    __tablename__ = "residents"
    __table_args__ = (CheckConstraint(_in("registration_type", REGISTRATION_TYPES), name="ck_residents_registration"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    household_id: Mapped[int] = mapped_column(ForeignKey("households.id", ondelete="CASCADE"), index=True)
    building_id: Mapped[int] = mapped_column(ForeignKey("buildings.id", ondelete="CASCADE"), index=True)
    party_member: Mapped[bool] = mapped_column(Boolean, default=False, server_default="false")
    special_groups: Mapped[list[str]] = mapped_column(ARRAY(String(32)), default=list, server_default="{}")
    registration_type: Mapped[str] = mapped_column(String(16), default="registered", server_default="registered")
    birth_year: Mapped[int | None] = mapped_column(SmallInteger)
    source_id: Mapped[str | None] = mapped_column(String(200))


class ResidentPersonal(Base):
    """Personal data of a resident: only for staff responsible for the place."""

    __tablename__ = "resident_personal"

    resident_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("residents.id", ondelete="CASCADE"), primary_key=True
    )
    name: Mapped[str | None] = mapped_column(String(100))
    id_number: Mapped[str | None] = mapped_column(String(32))
    phone: Mapped[str | None] = mapped_column(String(32))


class Facility(Base):
    """A facility that serves residents within a walking circle (5, 10 or 15 minutes)."""

    __tablename__ = "facilities"
    __table_args__ = (CheckConstraint(_in("kind", FACILITY_KINDS), name="ck_facilities_kind"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source_id: Mapped[str | None] = mapped_column(String(200), index=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(32), index=True)
    circle_minutes: Mapped[int] = mapped_column(SmallInteger, default=5, server_default="5")
    address: Mapped[str | None] = mapped_column(String(300))
    candidate: Mapped[bool] = mapped_column(Boolean, default=False, server_default="false")
    geom = mapped_column(Geometry("POINT", srid=SRID, spatial_index=True), nullable=False)
    grid_id: Mapped[int | None] = mapped_column(ForeignKey("grids.id"), index=True)


class Staff(Base):
    """A person who works the grid. Phone numbers are personal and kept in :class:`StaffContact`."""

    __tablename__ = "staff"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    source_id: Mapped[str | None] = mapped_column(String(200), index=True)


class StaffContact(Base):
    __tablename__ = "staff_contacts"

    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id", ondelete="CASCADE"), primary_key=True)
    phone: Mapped[str | None] = mapped_column(String(32))


class StaffAssignment(Base):
    """A staff member's role in a grid (or for one building, for building leaders), from ``start_date`` to
    ``end_date`` (the last day served; NULL while current). Ended rows are kept: they are the history that
    answers "who was responsible for grid X on date D"."""

    __tablename__ = "staff_assignments"
    __table_args__ = (
        CheckConstraint(_in("role", STAFF_ROLES), name="ck_staff_assignments_role"),
        CheckConstraint(
            "end_date IS NULL OR start_date IS NULL OR end_date >= start_date", name="ck_staff_assignments_dates"
        ),
        Index("ix_staff_assignments_current", "grid_id", postgresql_where="end_date IS NULL"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id", ondelete="CASCADE"), index=True)
    grid_id: Mapped[int | None] = mapped_column(ForeignKey("grids.id"), index=True)
    building_id: Mapped[int | None] = mapped_column(ForeignKey("buildings.id", ondelete="CASCADE"))
    role: Mapped[str] = mapped_column(String(32))
    start_date: Mapped[date | None] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date)
    households: Mapped[int | None] = mapped_column(Integer)  # looked after by a building leader / 党员中心户
    author: Mapped[str | None] = mapped_column(String(100))
    ended_by: Mapped[str | None] = mapped_column(String(100))


class PartyOrg(Base):
    """A party organisation attached to a street, community, grid or building (支部建在网格上)."""

    __tablename__ = "party_orgs"
    __table_args__ = (CheckConstraint(_in("level", PARTY_ORG_LEVELS), name="ck_party_orgs_level"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    level: Mapped[str] = mapped_column(String(32))
    area_id: Mapped[int | None] = mapped_column(ForeignKey("admin_areas.id"), index=True)
    grid_id: Mapped[int | None] = mapped_column(ForeignKey("grids.id"), index=True)
    building_id: Mapped[int | None] = mapped_column(ForeignKey("buildings.id", ondelete="CASCADE"))
    secretary: Mapped[str | None] = mapped_column(String(100))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("party_orgs.id", ondelete="SET NULL"))
    member_count: Mapped[int | None] = mapped_column(Integer)
    source_id: Mapped[str | None] = mapped_column(String(200), index=True)


class RosterChange(Base):
    """Who changed a roster, when, and how: imports, API edits and plan carry-overs each write one row."""

    __tablename__ = "roster_changes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    author: Mapped[str | None] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(32))
    entity: Mapped[str] = mapped_column(String(32))
    entity_id: Mapped[int | None] = mapped_column(Integer)
    grid_id: Mapped[int | None] = mapped_column(Integer, index=True)
    detail = mapped_column(JSONB, nullable=True)


class WalkNode(Base):
    """A node of the walking network (imported from OpenStreetMap or generated for the demo city)."""

    __tablename__ = "walk_nodes"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    geom = mapped_column(Geometry("POINT", srid=SRID, spatial_index=True), nullable=False)


class WalkEdge(Base):
    """An undirected walkable segment between two nodes, with its length in metres."""

    __tablename__ = "walk_edges"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    source: Mapped[int] = mapped_column(BigInteger, index=True)
    target: Mapped[int] = mapped_column(BigInteger, index=True)
    length_m: Mapped[float] = mapped_column(Float)
    geom = mapped_column(Geometry("LINESTRING", srid=SRID, spatial_index=True), nullable=True)


class StationWalk(Base):
    """Derived: the nearest service station along the network from each walk node, and the walk in metres.

    Written by :func:`geogrid.stations.store_station_walks` (``geogrid compute``); lookups add the straight
    walk from a point to its nearest node.
    """

    __tablename__ = "station_walks"

    node_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    station_id: Mapped[int] = mapped_column(ForeignKey("facilities.id", ondelete="CASCADE"), index=True)
    walk_m: Mapped[float] = mapped_column(Float)


class ServiceArea(Base):
    """The area a facility serves within N minutes, by straight-line circle or along the network."""

    __tablename__ = "service_areas"
    __table_args__ = (
        UniqueConstraint("facility_id", "minutes", "mode"),
        CheckConstraint("mode IN ('circle', 'network')", name="ck_service_areas_mode"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    facility_id: Mapped[int] = mapped_column(ForeignKey("facilities.id", ondelete="CASCADE"), index=True)
    minutes: Mapped[int] = mapped_column(SmallInteger)
    mode: Mapped[str] = mapped_column(String(16))
    geom = mapped_column(Geometry("MULTIPOLYGON", srid=SRID, spatial_index=True), nullable=True)
    computed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class GazetteerEntry(Base):
    """A searchable name (building address, compound, area) with the point it stands for."""

    __tablename__ = "gazetteer"
    __table_args__ = (
        Index("ix_gazetteer_norm_trgm", "norm", postgresql_using="gin", postgresql_ops={"norm": "gin_trgm_ops"}),
        Index("ix_gazetteer_road_number", "road", "number"),
        Index("ix_gazetteer_ref", "kind", "ref_id"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    ref_id: Mapped[int] = mapped_column(BigInteger)
    text: Mapped[str] = mapped_column(String(300))
    norm: Mapped[str] = mapped_column(String(300))
    geom = mapped_column(Geometry("POINT", srid=SRID, spatial_index=True), nullable=True)
    road: Mapped[str | None] = mapped_column(String(200))  # the door number read from ``norm`` (address.Door)
    number: Mapped[int | None] = mapped_column(Integer)
    door_prefix: Mapped[str | None] = mapped_column(String(4))
    door_sub: Mapped[int | None] = mapped_column(Integer)


class AddressNorm(Base):
    """Derived: each name's normal form as the gazetteer last computed it, so a rebuild normalises only new
    names. The normaliser's stamp is the table comment; another normaliser empties it (geogrid.gazetteer)."""

    __tablename__ = "address_norms"

    text: Mapped[str] = mapped_column(String(300), primary_key=True)
    norm: Mapped[str] = mapped_column(String(300))
    road: Mapped[str | None] = mapped_column(String(200))
    number: Mapped[int | None] = mapped_column(Integer)
    door_prefix: Mapped[str | None] = mapped_column(String(4))
    door_sub: Mapped[int | None] = mapped_column(Integer)


class AddressPoint(Base):
    """An address or place a caller may name: a row of the standard address book (标准地址库) or an OSM door,
    entrance, house name or named place (``outline``: the place's area, so a campus answers every grid it covers).
    """

    __tablename__ = "address_points"
    __table_args__ = (Index("ix_address_points_road_number", "road_norm", "number"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    source: Mapped[str] = mapped_column(String(16))  # address_book | osm
    source_id: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(16))  # address_book | door | entrance | place
    text: Mapped[str | None] = mapped_column(String(300))
    name: Mapped[str | None] = mapped_column(String(200))
    aliases: Mapped[list[str] | None] = mapped_column(ARRAY(String(200)))
    district: Mapped[str | None] = mapped_column(String(100))
    street: Mapped[str | None] = mapped_column(String(100))
    community: Mapped[str | None] = mapped_column(String(100))
    road: Mapped[str | None] = mapped_column(String(200))
    road_norm: Mapped[str | None] = mapped_column(String(200))
    door: Mapped[str | None] = mapped_column(String(60))
    number: Mapped[int | None] = mapped_column(Integer)
    door_prefix: Mapped[str | None] = mapped_column(String(4))
    door_sub: Mapped[int | None] = mapped_column(Integer)
    compound: Mapped[str | None] = mapped_column(String(200))
    building: Mapped[str | None] = mapped_column(String(60))
    unit: Mapped[str | None] = mapped_column(String(30))
    room: Mapped[str | None] = mapped_column(String(30))
    building_id: Mapped[int | None] = mapped_column(ForeignKey("buildings.id", ondelete="SET NULL"))
    geom = mapped_column(Geometry("POINT", srid=SRID, spatial_index=True), nullable=False)
    outline = mapped_column(Geometry("MULTIPOLYGON", srid=SRID, spatial_index=True), nullable=True)


class Road(Base):
    """A named street (OSM ``highway`` with a name): road-level answers list the grids its line crosses."""

    __tablename__ = "roads"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    source_id: Mapped[str] = mapped_column(String(200), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    norm: Mapped[str] = mapped_column(String(200), index=True)
    aliases: Mapped[list[str] | None] = mapped_column(ARRAY(String(200)))
    geom = mapped_column(Geometry("MULTILINESTRING", srid=SRID, spatial_index=True), nullable=False)


class Plan(Base):
    """A proposed boundary change: edits against the grid versions the planner saw, and its preview."""

    __tablename__ = "plans"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    status: Mapped[str] = mapped_column(String(16), default="draft", server_default="draft")
    author: Mapped[str | None] = mapped_column(String(100))
    edits = mapped_column(JSONB, nullable=False)
    base_versions = mapped_column(JSONB, nullable=False)
    preview = mapped_column(JSONB, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    applied_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    force_reason: Mapped[str | None] = mapped_column(String(500))  # applied although it added validation errors
    undoes: Mapped[int | None] = mapped_column(ForeignKey("plans.id"))  # this plan undid that one
    undone_by: Mapped[int | None] = mapped_column(ForeignKey("plans.id"))


class Account(Base):
    """A person or system that signs in; ``role`` is one of :data:`ROLES` (revision ``0008_accounts``)."""

    __tablename__ = "accounts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    role: Mapped[str] = mapped_column(String(32))
    password_hash: Mapped[str | None] = mapped_column(String(200))  # argon2
    disabled: Mapped[bool] = mapped_column(Boolean, default=False, server_default="false")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class AccountScope(Base):
    """A street or community an account may act in (planners, staff); none means none, except for admins."""

    __tablename__ = "account_scopes"

    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True)
    area_code: Mapped[str] = mapped_column(String(32), primary_key=True)


class ApiKey(Base):
    """A system's key: only its SHA-256 is kept (keys are random, 190 bits); shown once when made."""

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    prefix: Mapped[str] = mapped_column(String(16), unique=True)
    key_hash: Mapped[str] = mapped_column(String(64))
    rate_per_minute: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class BrowserSession(Base):
    """A signed-in browser: the cookie's SHA-256 and the CSRF token its writes must echo."""

    __tablename__ = "sessions"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    csrf: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class AuditEntry(Base):
    """Who did what, when, from where; append-only (trigger, and privileges in the embedded cluster)."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("audit_log_at", "at"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    actor: Mapped[str] = mapped_column(String(100))
    role: Mapped[str | None] = mapped_column(String(32))
    via: Mapped[str] = mapped_column(String(16))
    address: Mapped[str | None] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(64))
    area: Mapped[str | None] = mapped_column(String(32))
    target: Mapped[str | None] = mapped_column(String(200))
    details = mapped_column(JSONB, nullable=True)


class BarrierLine(Base):
    """A road, river or railway line that partition blocks are cut by (revision ``0009_partition``)."""

    __tablename__ = "barrier_lines"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    source_id: Mapped[str | None] = mapped_column(String(200), index=True)
    geom = mapped_column(Geometry("LINESTRING", srid=SRID, spatial_index=True), nullable=False)


class PartitionUnit(Base):
    """Derived: the units (block, compound, building) last computed for a community by ``geogrid partition``."""

    __tablename__ = "partition_units"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    community_id: Mapped[int | None] = mapped_column(ForeignKey("admin_areas.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    name: Mapped[str | None] = mapped_column(String(200))
    households: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    estimated_households: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    building_ids: Mapped[list[int]] = mapped_column(ARRAY(BigInteger), default=list, server_default="{}")
    geom = mapped_column(Geometry("MULTIPOLYGON", srid=SRID, spatial_index=True), nullable=False)
    computed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


BASE_LAYERS = ("road", "water", "railway")


class BaseFeature(Base):
    """The offline base map: roads (``kind`` = OSM highway class), water and railways, read by the OSM
    importer or made by the demo, drawn under the grids when no tile server is set (revision ``0012_maps``)."""

    __tablename__ = "base_features"
    __table_args__ = (CheckConstraint(_in("layer", BASE_LAYERS), name="ck_base_features_layer"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    layer: Mapped[str] = mapped_column(String(16), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    name: Mapped[str | None] = mapped_column(String(200))
    geom = mapped_column(Geometry("GEOMETRY", srid=SRID, spatial_index=True), nullable=False)
    source_id: Mapped[str | None] = mapped_column(String(200))
