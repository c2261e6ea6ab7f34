"""Chinese for the health messages, keyed by their English templates (merged into :data:`geogrid.messages_zh.ZH`)."""

from __future__ import annotations

ZH: dict[str, str] = {
    "no community, street, district or grid in force with code or name '{area}'": "没有代码或名称为 '{area}' 的社区、街道、区县或现行网格",
}
