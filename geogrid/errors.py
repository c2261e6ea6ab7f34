"""Errors that reach a user: each carries a message meant to be read, never a traceback."""

from __future__ import annotations


class GeogridError(Exception):
    """A failure the user can act on; the CLI prints it and the API answers 4xx with it."""

    status_code = 400


class NotFound(GeogridError):
    status_code = 404


class Conflict(GeogridError):
    status_code = 409


class InputError(GeogridError):
    """Bad input in a file: names the file, the row (1-based, as a spreadsheet shows it) and the field."""

    status_code = 422

    def __init__(self, message: str, *, file: str | None = None, row: int | None = None,
                 field: str | None = None) -> None:
        where = ", ".join(
            part for part in (
                f"file {file}" if file else "",
                f"row {row}" if row is not None else "",
                f"field '{field}'" if field else "",
            ) if part
        )
        super().__init__(f"{where}: {message}" if where else message)
        self.file, self.row, self.field = file, row, field
