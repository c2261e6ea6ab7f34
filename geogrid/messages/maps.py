"""Chinese for the maps messages, keyed by their English templates (merged into :data:`geogrid.messages_zh.ZH`)."""

from __future__ import annotations

ZH: dict[str, str] = {
    "base map": "底图",
    "base map (roads, water, railways)": "底图（道路、水系、铁路）",
    "{minutes}-minute walk along the network ({metres} m)": "沿路网步行 {minutes} 分钟（{metres} 米）",
    "{metres} m straight-line circle ({minutes} minutes)": "{metres} 米直线半径圆（{minutes} 分钟）",
    "unknown tile layer '{layer}': use one of {layers}": "未知的瓦片图层 '{layer}'：可选 {layers}",
    "no tile {z}/{x}/{y}: zoom 0–{max}, x and y 0 – 2^zoom − 1": "没有瓦片 {z}/{x}/{y}：缩放级别 0–{max}，x 与 y 为 0 至 2^缩放级别 − 1",
}
