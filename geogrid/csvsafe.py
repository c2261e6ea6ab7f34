"""CSV cells that a spreadsheet will not run: formula injection escaped as OWASP recommends.

A cell starting with ``= + - @``, a tab or a carriage return is read by Excel, LibreOffice and WPS as a
formula (``=HYPERLINK(...)`` in a batch id, a grid named ``+86…``); such a text cell gets a leading ``'``,
which spreadsheets show as text and drop from the value. Numbers are written as numbers (``-3.5`` stays a
number): only text can carry a formula.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from typing import Any, TextIO

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def escape_cell(value: Any) -> Any:
    """``value`` with a leading ``'`` when it is text a spreadsheet would read as a formula."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


class SafeWriter:
    """``csv.writer`` whose rows are escaped cell by cell (:func:`escape_cell`)."""

    def __init__(self, sink: TextIO) -> None:
        self._writer = csv.writer(sink)

    def writerow(self, row: Iterable[Any]) -> None:
        self._writer.writerow([escape_cell(v) for v in row])

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            self.writerow(row)
