"""Request dependencies: handlers receive a connection, they never open one.

``ReadConn`` is a connection whose transaction is rolled back at the end of the handler; ``WriteConn`` is one
transaction committed when the handler returns (rolled back when it raises), before the response is sent
(``scope="function"``), so a client never sees a 201 for a write that then failed to commit. Both carry the
API's ``statement_timeout`` and ``lock_timeout`` (settings): a slow query or a held lock fails with a clear
error instead of holding a worker.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date
from typing import Annotated

from fastapi import Depends, Query
from pydantic import BeforeValidator
from sqlalchemy import Connection, text

from geogrid import db
from geogrid.i18n import t
from geogrid.settings import get_settings


def _limit(conn: Connection) -> Connection:
    """Set the timeouts for this transaction only (``SET LOCAL``): pooled connections keep their defaults."""
    settings = get_settings()
    conn.execute(
        text("SELECT set_config('statement_timeout', :s, true), set_config('lock_timeout', :l, true)"),
        {"s": f"{settings.api_statement_timeout_ms}ms", "l": f"{settings.api_lock_timeout_ms}ms"},
    )
    return conn


def read_connection() -> Iterator[Connection]:
    with db.ready().connect() as conn:
        yield _limit(conn)


def write_connection() -> Iterator[Connection]:
    with db.ready().begin() as conn:
        yield _limit(conn)


ReadConn = Annotated[Connection, Depends(read_connection, scope="function")]
WriteConn = Annotated[Connection, Depends(write_connection, scope="function")]

# The place a question is about (:class:`geogrid.scope.Scope`): one query parameter, documented once.
Place = Annotated[
    str | None,
    Query(max_length=200, description="district, street, community or grid: code or name; the whole city when absent"),
]


def written_date(value: object) -> object:
    """Only YYYY-MM-DD is a date in a query: pydantic's lax mode read ``?until=0`` as a Unix time (1970-01-01)."""
    if isinstance(value, str) and not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        raise ValueError(t("a date is written YYYY-MM-DD"))
    return value


# A date query parameter (``?until=``, ``?on=``): written YYYY-MM-DD or refused (422 naming the parameter).
WrittenDate = Annotated[date | None, BeforeValidator(written_date)]
