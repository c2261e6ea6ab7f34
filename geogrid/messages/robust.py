"""Chinese for the robustness messages (input guards, database outages, budgets, coverage explanations), keyed by
their English templates (merged into :data:`geogrid.messages_zh.ZH`)."""

from __future__ import annotations

ZH: dict[str, str] = {
    "a value cannot be used: {error}": "无法使用该值：{error}",
    "no such file": "没有该文件",
    "query parameter '{name}' holds a NUL character": "查询参数 '{name}' 含有 NUL 字符",
    "request path longer than {limit} characters": "请求路径超过 {limit} 个字符",
    "the request path holds a NUL character": "请求路径含有 NUL 字符",
    "{where}: a string holds a NUL character": "{where}：字符串含有 NUL 字符",
    "{where}: integer outside the 64-bit range": "{where}：整数超出 64 位范围",
    "{where}: number is not finite": "{where}：数值不是有限数",
    "no facility counts: all {candidates} facilities{of_kind} are candidates (proposed sites, such as OSM points of interest), which never count; promote the real ones to facilities in service": "没有可计入的服务设施：全部 {candidates} 个设施{of_kind}都是候选点（拟建点位，例如 OSM 兴趣点），候选点从不计入覆盖；请把实际存在的设施转为在用设施",
    "no facility{of_kind} in service: import facilities to measure coverage": "没有在用的服务设施{of_kind}：请先导入服务设施再计算覆盖率",
    "plan edits of {size} bytes are over the limit of {limit} bytes (GEOGRID_PLAN_MAX_BYTES); split the plan": "方案编辑内容为 {size} 字节，超过上限 {limit} 字节（GEOGRID_PLAN_MAX_BYTES）；请拆分方案",
    "the preview took over its budget of {seconds} s (GEOGRID_PREVIEW_TIMEOUT); split the plan into smaller ones": "预览耗时超过预算 {seconds} 秒（GEOGRID_PREVIEW_TIMEOUT）；请把方案拆成更小的几个",
    "plan {plan} expired: drafts expire after {hours} hours (GEOGRID_DRAFT_TTL_HOURS); preview it again": "方案 {plan} 已过期：草稿 {hours} 小时后过期（GEOGRID_DRAFT_TTL_HOURS）；请重新预览",
    "batch of {count} items took over its budget of {seconds} s (GEOGRID_BATCH_TIMEOUT); split the batch": "批量查询 {count} 条超过时间预算 {seconds} 秒（GEOGRID_BATCH_TIMEOUT）；请拆分批次",
    "batch of {count} addresses is over the limit of {limit} (GEOGRID_BATCH_ADDRESS_LIMIT); send points, or split the batch": "批量查询含 {count} 个地址，超过上限 {limit}（GEOGRID_BATCH_ADDRESS_LIMIT）；请改用坐标或拆分批次",
}
