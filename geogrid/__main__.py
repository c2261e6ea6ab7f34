"""``python -m geogrid``: the same CLI as the ``geogrid`` command, for a checkout run without installing it."""

from geogrid.cli import main

main()
