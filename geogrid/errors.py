"""Errors that reach a user: each carries a message meant to be read, never a traceback."""

from __future__ import annotations

from typing import Any

from geogrid.i18n import join, t


class GeogridError(Exception):
    """A failure the user can act on; the CLI prints it and the API answers 4xx with it."""

    status_code = 400
    extra: dict[str, Any]  # more of the answer than the message (the API adds it to the error body), when set

    @property
    def message(self) -> str:
        """The message as raised: a :class:`~geogrid.i18n.Text` keeps both languages, to embed in another one."""
        return self.args[0] if self.args else ""


class NotFound(GeogridError):
    status_code = 404


class Conflict(GeogridError):
    status_code = 409


class Unavailable(GeogridError):
    """The database cannot be reached now (refused, timed out, pool exhausted): worth retrying later."""

    status_code = 503


class InputError(GeogridError):
    """Bad input in a file: names the file, the row (1-based, as a spreadsheet shows it) and the field."""

    status_code = 422

    def __init__(
        self, message: str, *, file: str | None = None, row: int | None = None, field: str | None = None
    ) -> None:
        where = [
            part
            for part in (
                t("file {file}", file=file) if file else None,
                t("row {row}", row=row) if row is not None else None,
                t("field '{field}'", field=field) if field else None,
            )
            if part
        ]
        super().__init__(t("{where}: {message}", where=join(where, zh="，"), message=message) if where else message)
        self.file, self.row, self.field = file, row, field


class SettingError(ValueError):
    """A GEOGRID_* variable that cannot be read. Worded in both languages here: the language is a setting too.

    Defined here, not in :mod:`geogrid.settings`, so the CLI can catch it without importing pydantic-settings.
    """


class Unauthorized(GeogridError):
    """Signing in is needed (API: 401)."""

    status_code = 401


class Forbidden(GeogridError):
    """Signed in, but the role or the granted areas do not allow it (API: 403)."""

    status_code = 403
