"""Alembic environment: runs against geogrid's configured database."""

from alembic import context

from geogrid.db.engine import get_engine
from geogrid.model import Base

IGNORED_TABLES = {"spatial_ref_sys", "topology", "layer"}


def include_object(obj, name, type_, reflected, compare_to):  # noqa: ANN001 - alembic's signature
    return not (type_ == "table" and (name in IGNORED_TABLES or reflected and compare_to is None))


with get_engine().connect() as connection:
    context.configure(connection=connection, target_metadata=Base.metadata, include_object=include_object)
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()
