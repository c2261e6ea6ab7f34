"""Importers: read a file (:mod:`.read`), check it, and write one kind of feature in one transaction.

Each ``import_*`` function takes a SQLAlchemy connection inside the caller's transaction, so the first
bad row (an :class:`geogrid.errors.InputError`) leaves the database exactly as it was.
"""

from geogrid.importers.areas import import_areas
from geogrid.importers.buildings import import_buildings
from geogrid.importers.facilities import import_facilities
from geogrid.importers.grids import import_grids
from geogrid.importers.osm import import_osm
from geogrid.importers.read import Source, read_source
from geogrid.importers.residents import import_residents

__all__ = [
    "Source",
    "import_areas",
    "import_buildings",
    "import_facilities",
    "import_grids",
    "import_osm",
    "import_residents",
    "read_source",
]
