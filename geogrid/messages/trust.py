"""Chinese for the trust messages, keyed by their English templates (merged into :data:`geogrid.messages_zh.ZH`)."""

from __future__ import annotations

ZH: dict[str, str] = {}

# --- writes: durable writes, lossless imports, undo, boundaries checked like imports --------------------------------
ZH.update(
    {
        # plan edits checked like an import
        "coordinates must be arrays of numbers": "坐标必须是数字数组",
        "expected a GeoJSON geometry, got type {kind!r}": "应为 GeoJSON 几何，实际类型为 {kind!r}",
        "{n:,} vertices: a boundary may have at most {limit:,} (GEOGRID_PLAN_MAX_VERTICES)": "{n:,} 个顶点：一条边界最多 {limit:,} 个（GEOGRID_PLAN_MAX_VERTICES）",
        "coordinates off the Earth: lon {west:.6g}…{east:.6g}, lat {south:.6g}…{north:.6g} (lon −180…180, lat −90…90)": "坐标超出地球范围：经度 {west:.6g}…{east:.6g}，纬度 {south:.6g}…{north:.6g}（经度 −180…180，纬度 −90…90）",
        'a GeoJSON crs member must be {{"type": "name", "properties": {{"name": ...}}}}': 'GeoJSON 的 crs 成员应为 {{"type": "name", "properties": {{"name": ...}}}}',
        "a position must be [lon, lat]; {n} values given (3D and measured coordinates are refused)": "坐标点应为 [经度, 纬度]；给出了 {n} 个值（不接受三维或带测量值的坐标）",
        "a position must hold two numbers": "坐标点应包含两个数字",
        "coordinates must be finite numbers": "坐标必须是有限数值",
        "a Feature needs a geometry": "Feature 需要几何",
        "invalid value: {message}": "取值无效：{message}",
        'invalid polygon ({reason}); fix it, or send "repair": true to repair it': '多边形无效（{reason}）；请修正，或发送 "repair": true 自动修复',
        "CRS '{crs}' is not a two-dimensional (horizontal) system: geocentric and 3D systems are refused": "坐标系 '{crs}' 不是二维（平面）坐标系：不接受地心坐标系和三维坐标系",
        # apply, revert, undo
        "a forced apply needs a reason": "强制应用需要填写理由",
        "plan {plan} adds validation errors ({errors}): fix it, or apply with force and a reason": "方案 {plan} 会新增校验错误（{errors}）：请修正，或填写理由后强制应用",
        "reverting grid {code} to version {version} would leave {m2:,.0f} m² in no grid (no grid in force held that area "
        "then): redraw the neighbours, or revert the plan instead": "将网格 {code} 恢复到版本 {version} 会留下 {m2:,.0f} 平方米不属于任何网格（当时持有该区域的网格均已不在用）："
        "请重绘相邻网格，或撤销整个方案",
        "plan {plan} is {status}: only an applied plan can be undone": "方案 {plan} 的状态为 {status}：只能撤销已应用的方案",
        "plan {plan} changed no grid that can be restored": "方案 {plan} 没有可恢复的网格变更",
        "undo of plan {plan}": "撤销方案 {plan}",
        "plan {plan} undone by plan {undo}: changed {changed}; retired {retired}; {n} building(s) moved": "方案 {plan} 已由方案 {undo} 撤销：变更 {changed}；撤销 {retired}；{n} 栋楼调整网格",
        "Undo an applied plan: every grid it touched returns to its version before it (refused when a later plan "
        "changed them).": "撤销已应用的方案：其涉及的每个网格恢复到方案之前的版本（若之后的方案又改动过这些网格则拒绝）。",
        "Apply although the change adds validation errors.": "即使变更会新增校验错误也应用。",
        "Why (required with --force; recorded).": "理由（使用 --force 时必填；会被记录）。",
        "Who undoes the plan.": "撤销方案的人。",
        "To apply it anyway, give the reason (it is recorded with the plan):": "如仍要应用，请填写理由（将随方案记录）：",
        # CLI and importers
        "the database stopped answering; nothing was written ({error})": "数据库已无响应；未写入任何数据（{error}）",
        "unexpected {kind}: {error}": "意外的 {kind}：{error}",
        "Exit 1 when there are warnings only (errors exit 2).": "只有警告时也以 1 退出（有错误时以 2 退出）。",
        "a NUL character cannot be stored: remove it from the file": "无法存储 NUL 字符：请从文件中删除",
        "longer than {n} characters": "超过 {n} 个字符",
        "out of range: at most {n:,}": "超出范围：最大为 {n:,}",
        # lossless imports, networks, promotion
        "all columns replaced (--replace)": "已替换全部字段（--replace）",
        "updated columns: {columns}": "更新的字段：{columns}",
        "{n:,} kept as they were (not in the file)": "{n:,} 条保持不变（文件中没有）",
        "--replace needs coordinates (lon/lat or WKT): it replaces the geometry too": "--replace 需要坐标（经纬度或 WKT）：它也会替换几何",
        "no stored building has this source id (a file without coordinates only updates)": "没有已存储的楼栋使用此源编号（不含坐标的文件只能更新已有楼栋）",
        "{n:,} new nodes": "新增 {n:,} 个节点",
        "{n:,} new edges": "新增 {n:,} 条路段",
        "{n:,} nodes in all": "共 {n:,} 个节点",
        "{n:,} edges in all": "共 {n:,} 条路段",
        "walking network (replaced)": "步行路网（已替换）",
        "walking network (merged)": "步行路网（已合并）",
        "Replace every column of the rows the file mentions (default: only the columns the file carries).": "替换文件中各行的全部字段（默认只更新文件所含的字段）。",
        "Replace the stored walking network instead of merging this extract's into it.": "替换已存储的步行路网，而不是将本文件的路网合并进去。",
        "Also map an OSM tag to a facility kind, e.g. amenity=community_centre:service_station (repeatable).": "另外把一个 OSM 标签映射为设施类型，例如 amenity=community_centre:service_station（可重复）。",
        "expected KEY=VALUE:KIND with a kind among {kinds}, got '{spec}'": "应为 KEY=VALUE:KIND，类型取自 {kinds}，实际为 '{spec}'",
        "Manage facilities: promote planning candidates.": "管理服务设施：将规划候选点转为正式设施。",
        "Turn candidates (OpenStreetMap POIs come in as candidates) into real facilities that coverage counts: by kind, "
        "by source id, or all.": "将候选点（OpenStreetMap 兴趣点导入时为候选）转为计入覆盖率的正式设施：按类型、按来源编号或全部。",
        "Only candidates of this kind (repeatable).": "只转这一类型的候选点（可重复）。",
        "Only this source id (repeatable).": "只转这个来源编号（可重复）。",
        "Give the promoted facilities this kind.": "为转正的设施指定此类型。",
        "{n:,} candidate(s) promoted to facilities": "{n:,} 个候选点已转为正式设施",
    }
)
