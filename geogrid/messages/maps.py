"""Chinese for the maps messages, keyed by their English templates (merged into :data:`geogrid.messages_zh.ZH`)."""

from __future__ import annotations

ZH: dict[str, str] = {
    "base map": "底图",
    "base map (roads, water, railways)": "底图（道路、水系、铁路）",
}
