"""Chinese for the accounts messages, keyed by their English templates (merged into :data:`geogrid.messages_zh.ZH`)."""

from __future__ import annotations

ZH: dict[str, str] = {}
