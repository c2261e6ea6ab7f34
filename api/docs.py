"""Swagger UI and ReDoc from local files (``make api-docs-vendor``), started without inline script."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse, HTMLResponse

from geogrid.errors import NotFound
from geogrid.i18n import t

HERE = Path(__file__).resolve().parent
STATIC = HERE / "static" / "docs"
FILES = {"swagger-init.js": HERE / "templates" / "swagger-init.js"}

router = APIRouter(include_in_schema=False)

SWAGGER = """<!doctype html>
<html><head><meta charset="utf-8"><title>geogrid API</title>
<link rel="stylesheet" href="/docs/static/swagger-ui.css"></head>
<body><div id="swagger-ui"></div>
<script src="/docs/static/swagger-ui-bundle.js"></script>
<script src="/docs/static/swagger-init.js"></script></body></html>"""

REDOC = """<!doctype html>
<html><head><meta charset="utf-8"><title>geogrid API</title></head>
<body><redoc spec-url="/openapi.json"></redoc>
<script src="/docs/static/redoc.standalone.js"></script></body></html>"""


@router.get("/docs", name="swagger_ui_html")  # the name FastAPI gives it: tipg links to it
def swagger() -> HTMLResponse:
    return HTMLResponse(SWAGGER)


@router.get("/redoc", name="redoc_html")
def redoc() -> HTMLResponse:
    return HTMLResponse(REDOC)


@router.get("/docs/static/{path:path}")
def docs_static(path: str) -> FileResponse:
    target = FILES.get(path) or (STATIC / path).resolve()
    if not target.is_file() or (path not in FILES and STATIC.resolve() not in target.parents):
        raise NotFound(t("no static file '{path}'", path=path))
    return FileResponse(target)
