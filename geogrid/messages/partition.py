"""Chinese for the partition messages, keyed by their English templates (merged into :data:`geogrid.messages_zh.ZH`)."""
# ruff: noqa: E501  (a catalogue: one entry per line reads best)

from __future__ import annotations

ZH: dict[str, str] = {
    "Propose grids for a street office or community (or rebalance its grids) as a draft plan: preview it, then "
    "apply it with geogrid plan apply.": "为街道或社区划分网格（或调整其现有网格），生成待审方案：先预览，再用 geogrid plan apply 生效。",
    "Polsby–Popper": "紧凑度 (Polsby–Popper)",
    "on roads": "沿路比例",
    "note": "说明",
    "summary: {summary}": "汇总：{summary}",
    "validation after: {counts}; apply with: geogrid plan apply {plan}": "变更后检查：{counts}；生效命令：geogrid plan apply {plan}",
    "Street office code or name.": "街道代码或名称。",
    "Community code or name.": "社区代码或名称。",
    "Fix the existing grids outside the household band with the fewest buildings moved.": "以最少的楼栋调整，修正户数超出范围的现有网格。",
    "Rebalance: leave grids within the band untouched (default).": "调整时不改动户数在范围内的网格（默认）。",
    "Seed: the same seed gives the same grids.": "随机种子：相同种子得出相同网格。",
    "Print the whole plan as JSON on stdout.": "以 JSON 输出整个方案。",
    "proposing grids": "正在划分网格",
    "plan {plan}: proposed grids": "方案 {plan}：建议的网格",
    "rebalance works on one community: give --community": "调整只针对一个社区：请给出 --community",
    "(estimated {n})": "（估算 {n}）",
    "no {level} with code or name '{code}'": "没有代码或名称为 '{code}' 的{level}",
    "{level} {code} has no boundary to partition": "{level} {code} 没有边界，无法划分",
    "barrier lines (roads, rivers, railways)": "分隔线（道路、河流、铁路）",
    "compounds": "小区",
    "household estimates": "户数估算",
    "compound {id}": "小区 {id}",
    "give a street or a community (one of them)": "请给出街道或社区（二者之一）",
    "nothing to partition: the area holds no units": "无可划分：该区域没有任何单元",
    "dedicated grid for a {kind} site": "{kind} 专属网格",
    "{n} households, outside the band {lo}–{hi}: the units here allow no better": "{n} 户，不在 {lo}–{hi} 范围内：此处的单元无法分得更好",
    "{community} grid {n}": "{community}第{n}网格",
    "street {street} has no communities with boundaries: import them first": "街道 {street} 没有带边界的社区：请先导入社区",
    "{unit} alone has {n} households, above the band {lo}–{hi}: its own grid": "{unit} 单独就有 {n} 户，超过 {lo}–{hi}：单独成格",
    "block": "街区",
    "community {community} has no grids to rebalance: propose grids instead": "社区 {community} 没有可调整的网格：请改为划分网格",
    "nothing to rebalance: every grid of {community} is within the band or its units allow no better": "无需调整：{community} 的网格户数都在范围内，或其单元无法分得更好",
    "the new grid lies outside community {community}": "新网格位于社区 {community} 之外",
    "unknown grid kind '{kind}': use {kinds}": "未知的网格类型 '{kind}'：可用 {kinds}",
    "{community} new grid": "{community}新网格",
}
