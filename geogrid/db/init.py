"""``geogrid db init``: an external PostgreSQL (docker-compose's PostGIS) prepared as the embedded cluster is.

The same steps and SQL as :func:`geogrid.db.engine.ready` runs for the embedded cluster, in the same order:
as the superuser, the roles and database (:func:`~geogrid.db.engine.create_roles`), the schema and extensions
(:func:`~geogrid.db.engine.prepare_database`); the migrations as the application's role; then, as the
superuser again, the audit log and the read-only role's grants (:func:`~geogrid.db.engine.secure_database`).
The application's password is the one in ``GEOGRID_DATABASE_URL``, whose user must be ``geogrid_app``.
"""

from __future__ import annotations

from sqlalchemy import create_engine
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from geogrid.db import roles
from geogrid.errors import GeogridError
from geogrid.i18n import t
from geogrid.settings import Settings


def _psycopg(url: str) -> str:
    return url.replace("postgresql://", "postgresql+psycopg://", 1)


def init_external(settings: Settings, superuser_url: str, read_password: str | None) -> None:
    """Roles, schema, migrations and audit log of the database ``GEOGRID_DATABASE_URL`` names."""
    from geogrid.db import engine

    if settings.embedded:
        raise GeogridError(t("GEOGRID_DATABASE_URL is not set: the embedded cluster makes its roles itself"))
    app = make_url(settings.url)
    if app.username != roles.APP or not app.password or not app.database:
        raise GeogridError(
            t("GEOGRID_DATABASE_URL must name the user {role}, its password and the database", role=roles.APP)
        )
    admin_url = make_url(_psycopg(superuser_url))
    passwords = {roles.APP: str(app.password), roles.READER: read_password}
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    with admin.connect() as conn:
        engine.create_roles(conn, app.database, passwords)
    target = create_engine(admin_url.set(database=app.database), isolation_level="AUTOCOMMIT", poolclass=NullPool)
    with target.connect() as conn:
        engine.prepare_database(conn)
    engine.reset_ready()
    engine.ready()  # the migrations, as the application's role
    with target.connect() as conn:
        engine.secure_database(conn)
    engine.get_engine().dispose()  # new sessions find the audit schema on the role's search path
