"""Chinese for painting grids from units (move_units, the planner's paint mode), keyed by their English templates
(merged into :data:`geogrid.messages_zh.ZH`)."""
# ruff: noqa: E501  (a catalogue: one entry per line reads best)

from __future__ import annotations

ZH: dict[str, str] = {
    "block at {address} ({n} buildings)": "{address}所在街块（{n} 栋楼）",
    "block without buildings": "无楼栋的街块",
    "no unit with id {ids} (units change when a partition is run again: reload the planner)": "没有编号为 {ids} 的单元（重新划分网格后单元会变化：请重新加载规划页面）",
    "grid {codes} is locked: the edit would change it": "网格 {codes} 已锁定：此调整会改变它",
    "grid {code} would keep nothing: merge it with {target} instead": "网格 {code} 将一无所剩：请改为将其与 {target} 合并",
    "the move leaves {grids} in several pieces; move other units, or send confirm_split: true to accept": "此调整会使{grids}分成多块；请改选其他单元，或发送 confirm_split: true 确认接受",
    "grid {code} in {n} pieces": "网格 {code} 分成 {n} 块",
    "unit(s) {ids} lie outside community {community} of grid {code}": "单元 {ids} 不在网格 {code} 所属社区 {community} 内",
    "every unit is in grid {code} already": "这些单元都已在网格 {code} 中",
    "boundary of grid {code} does not follow units: it cuts {n} unit(s)": "网格 {code} 的边界未沿单元划定：切分了 {n} 个单元",
    "community {community} is outside the areas granted to {name}": "社区 {community} 不在 {name} 的授权范围内",
    "The units (blocks, compounds, buildings) of a community and the grid each is in.": "社区的单元（街块、小区、楼栋）及其所属网格。",
    "Compute and store the units when there are none yet.": "尚无单元时计算并保存。",
    "{n} unit(s) of community {community}": "社区 {community} 的 {n} 个单元",
    "no units stored: run with --build, or geogrid partition --community {c}": "尚未保存单元：加 --build 运行，或运行 geogrid partition --community {c}",
    "Store a draft plan moving units into a grid (move_units) and print its preview.": "保存一个把单元划入某网格的待审方案（move_units）并显示预览。",
    "The grid that takes the units.": "接收这些单元的网格。",
    "Unit ids (geogrid plan units COMMUNITY).": "单元编号（见 geogrid plan units 社区）。",
    "A grid that must not change (repeatable).": "不得改变的网格（可重复）。",
    "Accept a grid falling into more pieces than it had.": "接受网格分成比原来更多的块。",
    "plan {plan}": "方案 {plan}",
    "{label}: {src} → {dst}": "{label}：{src} → {dst}",
    "apply with: geogrid plan apply {plan}": "生效命令：geogrid plan apply {plan}",
    "unit": "单元",
    "pieces": "块数",
}
