"""Chinese for the robustness messages (input guards, database outages, budgets, coverage explanations), keyed by
their English templates (merged into :data:`geogrid.messages_zh.ZH`)."""

from __future__ import annotations

ZH: dict[str, str] = {
    "a value cannot be used: {error}": "无法使用该值：{error}",
    "no such file": "没有该文件",
    "query parameter '{name}' holds a NUL character": "查询参数 '{name}' 含有 NUL 字符",
    "request path longer than {limit} characters": "请求路径超过 {limit} 个字符",
    "the request path holds a NUL character": "请求路径含有 NUL 字符",
    "{where}: a position must be two numbers [x, y] (2D), got {count} values":
        "{where}：坐标点必须是两个数 [x, y]（二维），实际为 {count} 个值",
    "{where}: a string holds a NUL character": "{where}：字符串含有 NUL 字符",
    "{where}: coordinates must be nested lists of [x, y] positions":
        "{where}：坐标必须是由 [x, y] 坐标点组成的嵌套列表",
    "{where}: integer outside the 64-bit range": "{where}：整数超出 64 位范围",
    "{where}: number is not finite": "{where}：数值不是有限数",
}
