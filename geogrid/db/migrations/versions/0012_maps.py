"""maps: the offline base layer (roads by class, water, railways) and the public views the OGC API serves

Revision ID: 0012_maps
Revises: 0006_address_norms
Create Date: 2026-11-25 21:00:00

Without a tile server (an intranet rarely has one) grids floated on grey. ``base_features`` keeps what an
OSM import or the demo already reads, drawn under the grids and served as vector tiles. The schema ``ogc``
holds views without any personal data (no resident, staff or household rows; aggregates only), the only
relations the OGC API Features endpoint (tipg, ``/ogc``) is allowed to see.
"""

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry

revision = "0012_maps"
down_revision = "0011_addresses"
branch_labels = None
depends_on = None

# Coverage of a grid: households of its buildings inside a stored 5-minute service area of a real facility,
# along the walking network where computed, else stored circles, else 300 m circles (GB 50180-2018's
# 5-minute distance; a view cannot read GEOGRID_CIRCLE_RADII): the basis column says which.
VIEWS = {
    "areas": """
        SELECT a.id, a.code, a.name, a.level, p.code AS parent_code,
               a.geom::geometry(MultiPolygon, 4326) AS geom
        FROM public.admin_areas a LEFT JOIN public.admin_areas p ON p.id = a.parent_id
        WHERE a.geom IS NOT NULL""",
    "grids": """
        SELECT g.id, g.code, g.name, g.kind, c.code AS community_code, c.name AS community_name,
               g.version, g.geom::geometry(MultiPolygon, 4326) AS geom
        FROM public.grids g LEFT JOIN public.admin_areas c ON c.id = g.community_id
        WHERE g.valid_to IS NULL""",
    "buildings": """
        SELECT b.id, b.name, b.address, b.floors, b.households, g.code AS grid_code,
               b.geom::geometry(Point, 4326) AS geom
        FROM public.buildings b LEFT JOIN public.building_assignments a ON a.building_id = b.id
        LEFT JOIN public.grids g ON g.id = a.grid_id""",
    "facilities": """
        SELECT f.id, f.name, f.kind, f.circle_minutes, f.candidate, f.address,
               f.geom::geometry(Point, 4326) AS geom
        FROM public.facilities f""",
    "service_areas": """
        SELECT sa.id, sa.facility_id, f.name AS facility_name, f.kind, sa.mode, sa.minutes,
               ST_Multi(sa.geom)::geometry(MultiPolygon, 4326) AS geom
        FROM public.service_areas sa JOIN public.facilities f ON f.id = sa.facility_id
        WHERE NOT f.candidate AND sa.geom IS NOT NULL""",
    "grid_coverage": """
        WITH basis AS (
            SELECT CASE WHEN EXISTS (SELECT 1 FROM public.service_areas WHERE mode = 'network' AND minutes = 5)
                        THEN 'network'
                        WHEN EXISTS (SELECT 1 FROM public.service_areas WHERE mode = 'circle' AND minutes = 5)
                        THEN 'circle' ELSE 'circle 300 m' END AS mode
        ), per_building AS (
            SELECT a.grid_id, b.households,
                   CASE WHEN (SELECT mode FROM basis) = 'circle 300 m' THEN EXISTS (
                            SELECT 1 FROM public.facilities f WHERE NOT f.candidate AND f.circle_minutes = 5
                              AND ST_DWithin(f.geom::geography, b.geom::geography, 300))
                        ELSE EXISTS (
                            SELECT 1 FROM public.service_areas sa JOIN public.facilities f ON f.id = sa.facility_id
                            WHERE sa.minutes = 5 AND sa.mode = (SELECT mode FROM basis) AND NOT f.candidate
                              AND ST_Intersects(sa.geom, b.geom)) END AS covered
            FROM public.building_assignments a JOIN public.buildings b ON b.id = a.building_id
            WHERE a.grid_id IS NOT NULL
        ), per_grid AS (
            SELECT grid_id, sum(households)::bigint AS households,
                   coalesce(sum(households) FILTER (WHERE covered), 0)::bigint AS covered_households
            FROM per_building GROUP BY grid_id
        )
        SELECT g.id, g.code, g.name, coalesce(p.households, 0) AS households,
               coalesce(p.covered_households, 0) AS covered_households,
               round(p.covered_households::numeric / nullif(p.households, 0), 3)::float8 AS coverage,
               5 AS minutes, (SELECT mode FROM basis) AS basis,
               g.geom::geometry(MultiPolygon, 4326) AS geom
        FROM public.grids g LEFT JOIN per_grid p ON p.grid_id = g.id
        WHERE g.valid_to IS NULL""",
}


def upgrade() -> None:
    op.create_table(
        "base_features",
        sa.Column("id", sa.BigInteger(), primary_key=True),
        sa.Column("layer", sa.String(16), nullable=False, index=True),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("name", sa.String(200), nullable=True),
        sa.Column("geom", Geometry("GEOMETRY", srid=4326, spatial_index=True), nullable=False),
        sa.Column("source_id", sa.String(200), nullable=True),
        sa.CheckConstraint("layer IN ('road', 'water', 'railway')", name="ck_base_features_layer"),
    )
    op.execute("CREATE SCHEMA IF NOT EXISTS ogc")
    for name, sql in VIEWS.items():
        op.execute(f"CREATE OR REPLACE VIEW ogc.{name} AS {sql}")
        op.execute(f"COMMENT ON VIEW ogc.{name} IS 'geogrid public feed: no personal data'")


def downgrade() -> None:
    op.execute("DROP SCHEMA IF EXISTS ogc CASCADE")
    op.drop_table("base_features")
