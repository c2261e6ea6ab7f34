"""addresses: the standard address book and every address OpenStreetMap holds, and named roads

Revision ID: 0011_addresses
Revises: 0006_address_norms
Create Date: 2026-11-25 21:00:00

``address_points`` holds one row per address or place a caller may name: rows of a street office's address
book (标准地址库, ``source = 'address_book'``), OSM doors, entrances, house names and named places (with the
place's outline when it has one, so a campus answers the grids it covers). ``roads`` holds named streets with
their lines, so a road-level answer lists the grids the road crosses and an address between two known door
numbers is placed along the same road.
"""

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry

revision = "0011_addresses"
down_revision = "0009_partition"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "address_points",
        sa.Column("id", sa.BigInteger, primary_key=True),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("source_id", sa.String(200), nullable=False, unique=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("text", sa.String(300)),
        sa.Column("name", sa.String(200)),
        sa.Column("aliases", sa.ARRAY(sa.String(200))),
        sa.Column("district", sa.String(100)),
        sa.Column("street", sa.String(100)),
        sa.Column("community", sa.String(100)),
        sa.Column("road", sa.String(200)),
        sa.Column("road_norm", sa.String(200)),
        sa.Column("door", sa.String(60)),
        sa.Column("number", sa.Integer),
        sa.Column("door_prefix", sa.String(4)),
        sa.Column("door_sub", sa.Integer),
        sa.Column("compound", sa.String(200)),
        sa.Column("building", sa.String(60)),
        sa.Column("unit", sa.String(30)),
        sa.Column("room", sa.String(30)),
        sa.Column("building_id", sa.BigInteger, sa.ForeignKey("buildings.id", ondelete="SET NULL")),
        sa.Column("geom", Geometry("POINT", srid=4326, spatial_index=False), nullable=False),
        sa.Column("outline", Geometry("MULTIPOLYGON", srid=4326, spatial_index=False), nullable=True),
    )
    op.create_index("ix_address_points_road_number", "address_points", ["road_norm", "number"])
    op.create_index("idx_address_points_geom", "address_points", ["geom"], postgresql_using="gist")
    op.create_index("idx_address_points_outline", "address_points", ["outline"], postgresql_using="gist")
    op.create_table(
        "roads",
        sa.Column("id", sa.BigInteger, primary_key=True),
        sa.Column("source_id", sa.String(200), nullable=False, unique=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("norm", sa.String(200), nullable=False, index=True),
        sa.Column("aliases", sa.ARRAY(sa.String(200))),
        sa.Column("geom", Geometry("MULTILINESTRING", srid=4326, spatial_index=False), nullable=False),
    )
    op.create_index("idx_roads_geom", "roads", ["geom"], postgresql_using="gist")
    # Each name's door number, read once with its normal form: door and interpolated matches are index lookups.
    for table in ("gazetteer", "address_norms"):
        op.add_column(table, sa.Column("road", sa.String(200)))
        op.add_column(table, sa.Column("number", sa.Integer))
        op.add_column(table, sa.Column("door_prefix", sa.String(4)))
        op.add_column(table, sa.Column("door_sub", sa.Integer))
    op.create_index("ix_gazetteer_road_number", "gazetteer", ["road", "number"])
    op.create_index("ix_gazetteer_ref", "gazetteer", ["kind", "ref_id"])
    op.execute("TRUNCATE address_norms")  # computed again with their door numbers


def downgrade() -> None:
    op.drop_index("ix_gazetteer_ref", "gazetteer")
    op.drop_index("ix_gazetteer_road_number", "gazetteer")
    for table in ("gazetteer", "address_norms"):
        for column in ("road", "number", "door_prefix", "door_sub"):
            op.drop_column(table, column)
    op.drop_table("roads")
    op.drop_table("address_points")
