"""Security headers on every answer, and an audit row for any write whose route did not record one itself.

The pages we serve (folium maps, the planner) carry inline scripts; the Content-Security-Policy allows exactly
those by their SHA-256, never ``'unsafe-inline'`` script, so a script injected through data cannot run.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import re
from urllib.parse import urlsplit

from geogrid.settings import get_settings

_INLINE_SCRIPT = re.compile(rb"<script(?![^>]*\bsrc=)[^>]*>(.*?)</script>", re.S | re.I)
SAFE_METHODS = {b"GET", b"HEAD", b"OPTIONS"}


def script_hashes(html: bytes) -> list[str]:
    """CSP sources for each inline script of a page."""
    return sorted(
        {"'sha256-" + base64.b64encode(hashlib.sha256(m).digest()).decode() + "'" for m in _INLINE_SCRIPT.findall(html)}
    )


def csp(hashes: list[str]) -> str:
    tiles = get_settings().tile_url
    tile_origin = ""
    if tiles:
        parts = urlsplit(tiles.replace("{s}", "a"))
        tile_origin = " " + f"{parts.scheme}://{parts.netloc}".replace("://a.", "://*.")
    return (
        "default-src 'self'; script-src 'self' " + " ".join(hashes) + "; style-src 'self' 'unsafe-inline'; "
        f"img-src 'self' data: blob:{tile_origin}; connect-src 'self'; font-src 'self' data:; object-src 'none'; "
        "worker-src 'self' blob:; "  # ReDoc's search worker: a blob only a script already allowed can make
        "base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
    )


STATIC_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"same-origin"),
    (b"cross-origin-opener-policy", b"same-origin"),
]


class SecurityHeaders:
    """Adds CSP (with the hashes of an HTML page's inline scripts), nosniff, frame-ancestors and friends."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        start: dict = {}
        chunks: list[bytes] = []

        async def wrapped(message) -> None:
            if message["type"] == "http.response.start":
                headers = dict(message.get("headers", []))
                if headers.get(b"content-type", b"").startswith(b"text/html"):
                    start.update(message)  # hold the start until the whole page is here
                    return
                message["headers"] = [
                    *message.get("headers", []),
                    *STATIC_HEADERS,
                    (b"content-security-policy", csp([]).encode()),
                ]
                return await send(message)
            if start and message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
                if message.get("more_body"):
                    return
                body = b"".join(chunks)
                headers = dict(start.get("headers", []))
                plain = gzip.decompress(body) if headers.get(b"content-encoding") == b"gzip" else body
                start["headers"] = [
                    *start.get("headers", []),
                    *STATIC_HEADERS,
                    (b"content-security-policy", csp(script_hashes(plain)).encode()),
                ]
                await send(start)
                return await send({"type": "http.response.body", "body": body})
            await send(message)

        await self.app(scope, receive, wrapped)


class AuditFallback:
    """A write (POST/PUT/PATCH/DELETE) that succeeded without its route recording an audit row gets a generic
    one (method, route, status), so routes added by other topics are never written unaudited; so does every
    read of personal data (rosters, ledgers and their exports)."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        status: list[int] = []

        async def wrapped(message) -> None:
            if message["type"] == "http.response.start":
                status.append(message["status"])
            await send(message)

        await self.app(scope, receive, wrapped)
        state = scope.get("state", {})
        write = scope["method"].encode() not in SAFE_METHODS or state.get("audit_read")
        if write and status and status[0] < 400 and not state.get("audited") and state.get("principal") is not None:
            from starlette.concurrency import run_in_threadpool

            await run_in_threadpool(_record_generic, scope, status[0])


def _record_generic(scope, status: int) -> None:
    from geogrid import db
    from geogrid.accounts import audit

    route = getattr(scope.get("route"), "path", scope.get("path"))
    client = scope.get("client")
    with db.ready().begin() as conn:
        audit.record(
            conn,
            scope["state"]["principal"],
            f"{scope['method']} {route}",
            address=client[0] if client else None,
            details={"status": status, "path": scope.get("path")},
        )
