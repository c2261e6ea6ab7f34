"""Chinese for every user-facing message, keyed by its English template (see :mod:`geogrid.i18n`).

Grouped by area, in the order a user meets them. Placeholders (``{code}``, ``{n:,}``) must match the English;
tests/core/test_i18n.py checks that, and that every template passed to ``t()`` is here and every entry is used.
"""

from __future__ import annotations

from geogrid.messages import accounts, addresses, health, maps, partition, robust, rosters, trust

ZH: dict[str, str] = {
    # --- Common words and the location of an error in a file ---------------------------------------------------
    "error": "错误",
    "{where}: {message}": "{where}：{message}",
    "file {file}": "文件 {file}",
    "row {row}": "第 {row} 行",
    "field '{field}'": "字段 '{field}'",
    "file not found": "文件不存在",
    "unknown": "未知",
    "nothing": "无变化",
    "done": "完成",
    "computing": "正在计算",
    "areas": "行政区划",
    "grids": "网格",
    "buildings": "楼栋",
    "residents": "居民",
    "facilities": "服务设施",
    "facility candidates": "候选服务设施",
    "walking network": "步行路网",

    "walks to the nearest service station": "计算到最近服务站的步行距离",
    "{n:,} network nodes with a walk to a station": "{n:,} 个路网节点可步行到达服务站",

    # --- The planner page --------------------------------------------------------------------------------------
    "Grid planner": "网格边界调整",
    "Grid": "网格",
    "— pick a grid —": "— 选择网格 —",
    "Merge with": "合并到",
    "— none —": "— 不合并 —",
    "Author": "调整人",
    "Pick a grid (or click it), then edit its vertices, draw a new polygon or rectangle, draw a line "
    "across it to split it, pick a grid to merge it with, or click buildings of other grids to move them into it.":
        "先选择网格（或在地图上点击），然后拖动顶点修改边界、绘制新的多边形或矩形、画一条穿过网格的线将其拆分、选择要合并的网格，或点击其他网格的楼栋将其划入本网格。",
    "Buildings are shown for one community at a time: open the planner with ?community=.":
        "楼栋按社区显示：请用 ?community= 打开某个社区的调整页面。",
    "Preview": "预览",
    "Apply": "应用",
    "grid {code} (version {version}): edit its vertices or draw a new boundary":
        "网格 {code}（第 {version} 版）：拖动顶点修改，或绘制新边界",
    "pick the grid the building should move into first": "请先选择楼栋要划入的网格",
    "{label} is in {code} already": "{label} 已在网格 {code} 内",
    "{n} building(s) to move into {code}: preview it": "{n} 栋楼将划入网格 {code}：请预览",
    "merge {a} and {b} into one new grid: preview it": "将网格 {a} 与 {b} 合并为一个新网格：请预览",
    "split line drawn for {code}: preview it": "已为网格 {code} 画好拆分线：请预览",
    "new boundary drawn for {code}: preview it": "已为网格 {code} 画好新边界：请预览",
    "pick the grid this split line is for": "请选择这条拆分线所属的网格",
    "pick the grid this new boundary is for": "请选择这条新边界所属的网格",
    "boundary edited: preview it": "边界已修改：请预览",
    "pick a grid first": "请先选择网格",
    "previewing…": "正在预览…",
    "plan {plan} previewed: apply it or keep editing": "方案 {plan} 已预览：可以应用，或继续修改",
    "plan {plan} applied: changed {changed}; {n} building(s) moved":
        "方案 {plan} 已应用：调整了 {changed}；{n} 栋楼改变了所属网格",
    "created {created}": "新建 {created}",
    "plan {plan} ({status}): {moved}": "方案 {plan}（{status}）：{moved}",
    "{buildings} buildings, {households} households, {residents} residents, {facilities} facilities change grid.":
        "{buildings} 栋楼、{households} 户、{residents} 名居民、{facilities} 处设施将改变所属网格。",
    "status": "状态",
    "5-minute coverage": "5分钟生活圈覆盖率",
    "from": "原网格",
    "to": "新网格",
    "retired": "撤销",
    "changed": "调整",
    "new": "新建",
    "restored": "恢复",
    "Validation after the change: {errors} error(s), {warnings} warning(s)":
        "调整后检查：{errors} 个错误，{warnings} 个警告",
    "before/after map": "调整前后对比图",
    "{label} · {households} households · grid {grid}": "{label} · {households} 户 · 网格 {grid}",

    # --- Table headings in the CLI ------------------------------------------------------------------------------
    "address": "地址",
    "area m²": "面积（平方米）",
    "author": "修改人",
    "building": "楼栋",
    "cluster": "聚集区",
    "households covered": "覆盖户数",
    "residents covered": "覆盖人数",
    "covered after": "新增后覆盖",
    "distance (m)": "距离（米）",
    "elderly alone": "独居老人",
    "full-time worker": "专职网格员",
    "gain (households)": "新增覆盖（户）",
    "grid": "网格",
    "households": "户数",
    "kind": "类型",
    "lat": "纬度",
    "lon": "经度",
    "message": "说明",
    "name": "名称",
    "nearest grid": "最近网格",
    "party members": "党员",
    "party org": "党组织",
    "plan": "方案",
    "radius (m)": "半径（米）",
    "reached": "可达",
    "rule": "规则",
    "severity": "级别",
    "share": "覆盖率",
    "share after": "新增后覆盖率",
    "site": "选址",
    "source id": "来源编号",
    "special groups": "重点人群",
    "staff": "工作人员",
    "stations inside": "网格内服务站",
    "valid from": "生效时间",
    "valid to": "失效时间",
    "version": "版本",
    "yes": "是",
    "no": "否",

    # --- Reading files (any import) -----------------------------------------------------------------------------
    "unsupported file type '{suffix}': use GeoJSON, GeoPackage, Shapefile or CSV":
        "不支持的文件类型 '{suffix}'：请使用 GeoJSON、GeoPackage、Shapefile 或 CSV",
    "not a readable CSV: {error}": "无法读取该 CSV 文件：{error}",
    "text is neither UTF-8 nor GB18030": "文件编码既不是 UTF-8 也不是 GB18030",
    "not a readable {suffix} file: {error}": "无法读取该 {suffix} 文件：{error}",
    "column '{given}' not found; the file has: {columns}": "未找到列 '{given}'；文件中的列为：{columns}",
    "no {key} column found (name it with {option}); the file has: {columns}":
        "未找到 {key} 列（请用 {option} 指定）；文件中的列为：{columns}",
    "no {key} column found; the file has: {columns}": "未找到 {key} 列；文件中的列为：{columns}",
    "source id '{id}' appears twice in the file": "源编号 '{id}' 在文件中出现了两次",
    "'{value}' is not a whole number": "'{value}' 不是整数",
    "unparsable WKT '{wkt}'": "无法解析的 WKT '{wkt}'",
    "coordinate is missing": "缺少坐标",
    "'{value}' is not a number": "'{value}' 不是数字",
    "geometry is empty": "几何图形为空",
    "cannot convert from {crs}: {error}": "无法从 {crs} 转换坐标：{error}",
    "coordinates ({x:.6g}, {y:.6g}) are out of range for {crs}; give the right CRS with --crs":
        "坐标 ({x:.6g}, {y:.6g}) 超出 {crs} 的有效范围；请用 --crs 指定正确的坐标系",
    "unknown CRS '{crs}': use wgs84, cgcs2000, gcj02, bd09 or an EPSG code such as EPSG:4547":
        "未知坐标系 '{crs}'：请使用 wgs84、cgcs2000、gcj02、bd09 或 EPSG 代码（如 EPSG:4547）",

    # --- Geometry checks ----------------------------------------------------------------------------------------
    "expected a polygon, got {kind}": "应为面要素，实际为 {kind}",
    "expected a point or a polygon, got {kind}": "应为点或面要素，实际为 {kind}",
    "invalid geometry that cannot be repaired safely ({reason})": "几何图形无效且无法安全修复（{reason}）",

    # --- Importing areas, grids, buildings, residents, facilities ----------------------------------------------
    "unknown level '{level}': use {levels}": "未知的区划级别 '{level}'：请使用 {levels}",
    "code is missing": "缺少代码",
    "'{code}' is not a 6, 9 or 12-digit area code": "'{code}' 不是 6 位、9 位或 12 位的区划代码",
    "name is missing": "缺少名称",
    "code '{code}' appears twice": "代码 '{code}' 在文件中出现了两次",
    "unknown grid kind '{kind}': use basic or dedicated":
        "未知的网格类型 '{kind}'：请使用 basic（基础网格）或 dedicated（专属网格）",
    "no community with code or name '{community}' (import areas first)":
        "没有代码或名称为 '{community}' 的社区（请先导入行政区划）",
    "grid has no code and lies in no community (give --code-field or import communities)":
        "网格没有编码，且不在任何社区范围内（请用 --code-field 指定编码，或先导入社区）",
    "code '{code}' belongs to a retired grid; codes are never reused":
        "编码 '{code}' 属于已撤销的网格；网格编码不得重复使用",
    "{floors} floors is not a plausible number": "层数 {floors} 不合理",
    "households cannot be negative": "户数不能为负数",
    "no building column found (name it with --building-field for a building source id, or --address-field); "
    "the file has: {columns}":
        "未找到楼栋列（请用 --building-field 指定楼栋源编号列，或用 --address-field 指定地址列）；"
        "文件中的列为：{columns}",
    "building reference is missing": "缺少所属楼栋",
    "no building '{building}' (import buildings first)": "没有楼栋 '{building}'（请先导入楼栋）",
    "'{building}' matches {n} buildings: use --building-field":
        "'{building}' 匹配到 {n} 栋楼：请用 --building-field 指定楼栋编号",
    "household is missing": "缺少户号",
    "'{value}' is not yes or no": "'{value}' 不是“是”或“否”",
    "unknown special group '{group}': use {groups}": "未知的特殊群体 '{group}'：请使用 {groups}",
    "unknown registration type '{value}'": "未知的户籍类型 '{value}'",
    "unknown facility kind '{kind}': use one of {kinds}": "未知的设施类型 '{kind}'：请使用 {kinds} 之一",
    "circle of {minutes} minutes: use 5, 10 or 15": "{minutes} 分钟生活圈无效：请使用 5、10 或 15",
    "not a readable OpenStreetMap extract: {error}": "无法读取该 OpenStreetMap 数据文件：{error}",

    # --- Import reports and the import command ------------------------------------------------------------------
    "{what}: {done}": "{what}：{done}",
    "{rows:,} rows read, {inserted:,} new, {updated:,} updated":
        "读取 {rows:,} 行，新增 {inserted:,} 条，更新 {updated:,} 条",
    "{n:,} linked to parent": "{n:,} 条已关联上级区划",
    "{n:,} new households": "新增 {n:,} 户",
    "{n:,} with personal data": "{n:,} 条含个人信息",
    "{n:,} with footprint": "{n:,} 栋含轮廓",
    "{n:,} new boundaries": "{n:,} 个网格边界有变化",
    "{n:,} other POIs skipped": "跳过其他兴趣点 {n:,} 个",
    "{n:,} nodes": "{n:,} 个节点",
    "{n:,} edges": "{n:,} 条路段",
    "reading {file}": "正在读取 {file}",
    "importing {what}": "正在导入{what}",
    "{count:,} {layer} written to {output}": "已将 {count:,} 条 {layer} 数据写入 {output}",
    "unknown layer '{layer}': use {layers}": "未知图层 '{layer}'：请使用 {layers}",
    "cannot export to '{suffix}': use .geojson or .gpkg": "不能导出为 '{suffix}' 格式：请使用 .geojson 或 .gpkg",

    # --- Walking network ---------------------------------------------------------------------------------------
    "cannot read the walking network: {error}": "无法读取步行路网：{error}",
    "no walkable ways (highway=footway/path/residential/...) in this file":
        "文件中没有可步行的道路（highway=footway/path/residential/...）",
    "no walking network stored: import one with 'geogrid import osm FILE' or 'geogrid demo'":
        "尚未存储步行路网：请用 'geogrid import osm FILE' 或 'geogrid demo' 导入",

    # --- Database -----------------------------------------------------------------------------------------------
    "PostgreSQL server binaries not found: run `make install` (installs postgresql-15-postgis-3)":
        "未找到 PostgreSQL 服务器程序：请运行 `make install`（将安装 postgresql-15-postgis-3）",
    "{command} failed: {output}": "{command} 执行失败：{output}",
    "the database runs as the 'postgres' user, which cannot reach {home} (a parent directory is private); "
    "set GEOGRID_HOME to a directory it can reach, e.g. /var/tmp/geogrid":
        "数据库以 'postgres' 用户运行，该用户无法访问 {home}（某个上级目录为私有）；"
        "请将 GEOGRID_HOME 设为其可访问的目录，例如 /var/tmp/geogrid",
    "another server already uses port {port}: set GEOGRID_DB_PORT to a free one":
        "端口 {port} 已被其他服务占用：请将 GEOGRID_DB_PORT 设为空闲端口",
    "the embedded database did not start: {reasons} (port {port}, log {log})":
        "内置数据库未能启动：{reasons}（端口 {port}，日志 {log}）",
    "the embedded database did not start (port {port}, log {log})": "内置数据库未能启动（端口 {port}，日志 {log}）",
    "PostgreSQL extensions missing: {extensions} (run `make install`)":
        "缺少 PostgreSQL 扩展：{extensions}（请运行 `make install`）",
    "cannot connect to the database: {error}": "无法连接数据库：{error}",
    "embedded cluster in {path}": "内置数据库，位于 {path}",
    "external database": "外部数据库",
    "database ready: {where}": "数据库已就绪：{where}",
    "GEOGRID_DATABASE_URL is set: geogrid does not run that database, nothing to stop":
        "已设置 GEOGRID_DATABASE_URL：该数据库不由 geogrid 运行，无需停止",
    "stopped": "已停止",
    "not running": "未在运行",
    "running": "运行中",
    "embedded cluster {state}: {path} (port {port})": "内置数据库{state}：{path}（端口 {port}）",
    "external database (GEOGRID_DATABASE_URL)": "外部数据库（GEOGRID_DATABASE_URL）",
    "Delete all geogrid data?": "确定删除 geogrid 的全部数据吗？",
    "database reset": "数据库已重置",

    # --- Assignment, computing, demo ----------------------------------------------------------------------------
    "assigning buildings and facilities to grids": "正在将楼栋和服务设施分配到网格",
    "buildings: {assigned:,} of {buildings:,} assigned; facilities: {facilities_assigned:,} of {facilities:,}":
        "楼栋：{buildings:,} 栋中已分配 {assigned:,} 栋；"
        "服务设施：{facilities:,} 处中已分配 {facilities_assigned:,} 处",
    "{n:,} buildings outside every grid": "{n:,} 栋楼不在任何网格内",
    "{step} done": "{step} 已完成",
    "computed {step}": "已计算 {step}",
    "preparing the city map layers failed: {error}": "预先生成全市地图图层失败：{error}",
    "point lookups without the async pool: {error}": "坐标查询未使用异步连接池：{error}",
    "next: `geogrid compute` brings assignment, coverage and lookups up to date with it":
        "下一步：运行 `geogrid compute`，使网格归属、覆盖率和查询结果与新数据保持一致",
    "assignment to grids": "楼栋与设施归属网格",
    "address gazetteer": "地址库",
    "per-building coverage": "逐栋覆盖情况",
    "--buildings must be between 200 and {max:,} (got {buildings:,})":
        "--buildings 必须在 200 到 {max:,} 之间（当前为 {buildings:,}）",
    "loading the demo city": "正在加载演示城市",
    "generating the city": "正在生成城市",
    "areas and grids": "行政区划和网格",
    "compounds and buildings": "小区和楼栋",
    "facilities and walking network": "服务设施和步行路网",
    "staff, party and residents": "网格人员、党组织和居民",
    "replaced all data: emptied {n} tables": "已替换全部数据：清空了 {n} 张表",
    "{street} demo city (seed {seed}): {communities} communities, {grids:,} grids ({dedicated} dedicated), "
    "{compounds:,} compounds, {buildings:,} buildings, {households:,} households, {residents:,} residents, "
    "{staff:,} staff, {party_orgs:,} party organisations, {facilities} facilities, {walk_edges:,} walkable segments":
        "{street} 演示城市（随机种子 {seed}）：{communities} 个社区，{grids:,} 个网格（其中专属网格 {dedicated} 个），"
        "{compounds:,} 个小区，{buildings:,} 栋楼，{households:,} 户，{residents:,} 名居民，{staff:,} 名网格工作人员，"
        "{party_orgs:,} 个党组织，{facilities} 处服务设施，{walk_edges:,} 条步行路段",
    "above {n:,} buildings only household counts are generated (no household, resident or personal rows)":
        "超过 {n:,} 栋楼时只生成户数（不生成住户、居民和个人信息记录）",
    "wrote {n} features to {path}": "已将 {n} 个要素写入 {path}",
    "serving on http://{host}:{port}  (maps: /maps, API docs: /docs)":
        "服务已启动：http://{host}:{port}（地图：/maps，API 文档：/docs）",

    # --- Lookup -------------------------------------------------------------------------------------------------
    "give a query (address or 'lon,lat') or --file": "请输入查询内容（地址或“经度,纬度”）或使用 --file",
    "needs columns lon and lat, or address": "需要 lon 和 lat 列，或 address 列",
    "cannot read: {error}": "无法读取：{error}",
    "not a UTF-8 CSV: {error}": "不是 UTF-8 编码的 CSV 文件：{error}",
    "lookup": "查询",
    "cannot convert from {crs} to WGS84: {error}": "无法从 {crs} 转换到 WGS84：{error}",
    "crs {crs} is not a 2D geographic or projected CRS of the Earth":
        "坐标系 {crs} 不是地球的二维地理坐标系或投影坐标系",
    "lon and lat must be finite numbers": "经度和纬度必须是有效数字",
    "coordinates out of range: lon={lon}, lat={lat} (crs {crs}); lon must be within ±180 and lat within ±90":
        "坐标超出范围：经度={lon}，纬度={lat}（坐标系 {crs}）；经度应在 ±180 以内，纬度应在 ±90 以内",
    "no grid at lon={lon:.6f}, lat={lat:.6f}: there are no grids":
        "经度={lon:.6f}、纬度={lat:.6f} 处没有网格：尚无任何网格",
    "no grid at lon={lon:.6f}, lat={lat:.6f}; the nearest is {code} ({name}), {distance:.0f} m away":
        "经度={lon:.6f}、纬度={lat:.6f} 处没有网格；最近的网格是 {code}（{name}），相距 {distance:.0f} 米",
    "address is empty": "地址为空",
    "address is longer than 300 characters": "地址超过 300 个字符",
    "no address matches '{address}'": "没有与 '{address}' 匹配的地址",
    "lon and lat must be finite numbers within ±180 and ±90": "经度和纬度必须是有效数字，且分别在 ±180 和 ±90 以内",
    "no grid at this point": "该位置没有网格",
    "needs lon and lat, or address": "需要经度和纬度，或地址",
    "batch of {count} items is over the limit of {limit} (GEOGRID_BATCH_LIMIT)":
        "批量查询共 {count} 条，超过上限 {limit} 条（GEOGRID_BATCH_LIMIT）",

    # --- Coverage (service circles) -----------------------------------------------------------------------------
    "mode must be one of {modes}, not '{mode}'": "计算方式应为 {modes} 之一，而不是 '{mode}'",
    "minutes={minutes}: choose one of {circles}": "minutes={minutes} 无效：请选择 {circles} 分钟之一",
    "no network service areas computed yet: run 'geogrid compute' after importing a walking network":
        "尚未计算步行路网服务范围：请先导入步行路网，再运行 'geogrid compute'",
    "no {mode} service areas computed yet: run 'geogrid compute'": "尚未计算 {mode} 服务范围：请运行 'geogrid compute'",
    "GEOGRID_ACCESS_OFFSET must be more than 0 metres (got {offset}) and GEOGRID_AREA_CELL more than 0 and at most "
    "the offset (got {cell})":
        "GEOGRID_ACCESS_OFFSET 必须大于 0 米（当前为 {offset}），"
        "GEOGRID_AREA_CELL 必须大于 0 且不超过该值（当前为 {cell}）",
    "unknown mode '{mode}': use circle or network":
        "未知的计算方式 '{mode}'：请使用 circle（直线距离）或 network（步行路网）",
    "k must be between 1 and 50, not {k}": "k 必须在 1 到 50 之间，当前为 {k}",
    "solving the maximal covering problem": "正在求解最大覆盖选址问题",
    "service areas": "服务范围",
    "{mode} service areas": "{mode} 服务范围",
    "{mode}: {n:,} areas": "{mode}：{n:,} 个服务范围",
    "{minutes}-minute {mode} coverage: {covered:,} of {households:,} households ({share})":
        "{minutes} 分钟生活圈覆盖率（{mode}）：{households:,} 户中覆盖 {covered:,} 户（{share}）",
    "{minutes}-minute {mode} coverage of {kind}: {covered:,} of {households:,} households ({share})":
        "{kind} 的 {minutes} 分钟生活圈覆盖率（{mode}）：{households:,} 户中覆盖 {covered:,} 户（{share}）",
    "{households:,} uncovered households in {clusters:,} clusters":
        "{households:,} 户未覆盖，分布在 {clusters:,} 个聚集区",
    "{n} grids flagged": "{n} 个网格需关注",
    "{method} — {n} candidates": "{method} — {n} 个候选点位",
    "{n} grids": "{n} 个网格",

    # --- Boundary planning: plans, edits, history ---------------------------------------------------------------
    "a plan needs a non-empty list of edits": "调整方案必须包含至少一项编辑",
    "unknown op {op!r}: use one of {ops}": "未知的操作 {op!r}：请使用 {ops} 之一",
    "not a GeoJSON geometry ({error})": "不是有效的 GeoJSON 几何图形（{error}）",
    "expected {kinds}, got {kind}": "应为 {kinds}，实际为 {kind}",
    "grid {code} is already retired by an earlier edit of this plan": "网格 {code} 已被本方案中较早的编辑撤销",
    "no grid with code {code} ({where})": "没有编码为 {code} 的网格（{where}）",
    "grid {code} was retired at {at:%Y-%m-%d %H:%M}; edit the grids that replaced it or revert it to undo the split "
    "or merge":
        "网格 {code} 已于 {at:%Y-%m-%d %H:%M} 撤销；请编辑取代它的网格，或回退以撤消拆分或合并",
    "the new boundary of grid {code} has no area": "网格 {code} 的新边界面积为零",
    "the new boundary of grid {code} covers all of grid {other}; merge them instead":
        "网格 {code} 的新边界覆盖了整个网格 {other}；请改为合并这两个网格",
    "the line does not cut grid {code} into pieces: it must cross it completely":
        "分割线未将网格 {code} 分成多块：分割线必须完整穿过该网格",
    "merge needs at least two distinct grid codes": "合并至少需要两个不同的网格编码",
    "grids {codes} are in different communities": "网格 {codes} 属于不同社区",
    "no building with id {ids}": "没有编号为 {ids} 的楼栋",
    "grid {code} has no version {version}": "网格 {code} 没有版本 {version}",
    "grid {code} is retired and no grid replaced it: nothing to undo":
        "网格 {code} 已撤销且没有网格取代它：无可撤消的变更",
    "grid {code} is in force again already; undo its later changes first": "网格 {code} 已重新生效；请先撤消其后续变更",
    "grid {code} is already at version {version}": "网格 {code} 已是版本 {version}",
    "expected an object {{grid code: version}}": "应为对象 {{网格编码: 版本}}",
    "no plan {plan}": "没有调整方案 {plan}",
    "plan {plan} is {status}, not a draft": "调整方案 {plan} 的状态为 {status}，不是草稿",
    "plan {plan} collided with another change; preview and apply it again":
        "调整方案 {plan} 与其他变更冲突；请重新预览并应用",
    "plan is stale: {reasons}": "调整方案已过期：{reasons}",
    "plan is stale: the edits now also change grid(s) {codes}; preview it again":
        "调整方案已过期：这些编辑现在还会改变网格 {codes}；请重新预览",
    "grid {code} no longer exists": "网格 {code} 已不存在",
    "grid {code} is no longer retired at version {version}": "网格 {code} 在版本 {version} 已不再是撤销状态",
    "grid {code} was retired at {at:%Y-%m-%d %H:%M:%S}": "网格 {code} 已于 {at:%Y-%m-%d %H:%M:%S} 撤销",
    "grid {code} is now version {now} (plan saw {version}), changed by {author} at {at:%Y-%m-%d %H:%M:%S}":
        "网格 {code} 现为版本 {now}（方案基于版本 {version}），由 {author} 于 {at:%Y-%m-%d %H:%M:%S} 修改",
    "no grid with code {code}": "没有编码为 {code} 的网格",
    "no community with code or name '{community}'": "没有代码或名称为 '{community}' 的社区",
    "validating grids": "正在检查网格",
    "validated {rule}": "已检查 {rule}",
    "{n} problem(s)": "{n} 个问题",
    "cannot read a plan ({error})": "无法读取调整方案（{error}）",
    'expected {{"edits": [...], "base_versions": {{...}}}}': '应为 {{"edits": [...], "base_versions": {{...}}}}',
    "previewing plan": "正在预览调整方案",
    "plan {plan}: {buildings} building(s), {households} household(s), {residents} resident(s), {facilities} "
    "facilit(ies) change grid":
        "调整方案 {plan}：{buildings} 栋楼、{households} 户、{residents} 名居民、{facilities} 处服务设施将变更所属网格",
    "plan {plan} applied: changed {changed}; retired {retired}; created {created}; {buildings_moved} building(s) "
    "moved":
        "调整方案 {plan} 已应用：修改 {changed}；撤销 {retired}；新建 {created}；{buildings_moved} 栋楼变更所属网格",
    "grid {code} ({status}); parents {parents}; children {children}":
        "网格 {code}（{status}）；上级网格 {parents}；下级网格 {children}",
    "grid {code} reverted to version {version}: {n} building(s) moved":
        "网格 {code} 已回退到版本 {version}：{n} 栋楼变更所属网格",

    # --- Boundary checks (geogrid validate, plan previews, map popups) -----------------------------------------
    "grid {code} has an invalid boundary: {reason}": "网格 {code} 的边界无效：{reason}",
    "grid {code} extends {m2:.0f} m² outside community {community}":
        "网格 {code} 超出社区 {community} 边界 {m2:.0f} 平方米",
    "grids {a} and {b} overlap by {m2:.0f} m²": "网格 {a} 与 {b} 重叠 {m2:.0f} 平方米",
    "{m2:.0f} m² of community {community} is in no grid": "社区 {community} 有 {m2:.0f} 平方米未划入任何网格",
    "{n} building(s) in no grid": "{n} 栋楼不在任何网格内",
    "{n} building(s) in no grid, nearest grid {nearest}": "{n} 栋楼不在任何网格内，最近的网格为 {nearest}",
    "grid {code} has {n} households, outside the {kind} band {low}–{high}":
        "网格 {code} 有 {n} 户，超出{kind}的 {low}–{high} 户范围",
    "basic grid": "基础网格",
    "dedicated grid": "专属网格",
    "grid {code} has no full-time grid worker (一人一格)": "网格 {code} 未配备专职网格员（一人一格）",
    "grid {code} has no party organisation (支部建在网格上)": "网格 {code} 未建立党组织（支部建在网格上）",
    "grid {code} is in {n} parts": "网格 {code} 由 {n} 个互不相连的部分组成",
    "grid {code} is very non-compact (Polsby–Popper {pp} < {min})":
        "网格 {code} 形状很不紧凑（Polsby–Popper 指数 {pp} < {min}）",

    # --- HTTP API -----------------------------------------------------------------------------------------------
    "Not Found": "未找到",
    "Method Not Allowed": "不支持该请求方法",
    "request": "请求",
    "invalid request": "请求无效",
    "request body over the limit of {limit} bytes (GEOGRID_MAX_BODY_BYTES)":
        "请求体超过 {limit} 字节的上限（GEOGRID_MAX_BODY_BYTES）",
    "Field required": "缺少必填字段",
    "Extra inputs are not permitted": "不允许额外的字段",
    "JSON decode error": "JSON 解析错误",
    "Input should be a valid integer, unable to parse string as an integer": "应为整数，无法将该字符串解析为整数",
    "Input should be a valid integer": "应为整数",
    "Input should be a valid number, unable to parse string as a number": "应为数字，无法将该字符串解析为数字",
    "Input should be a valid number": "应为数字",
    "Input should be a valid boolean, unable to interpret input": "应为布尔值，无法识别输入",
    "Input should be a valid string": "应为字符串",
    "Input should be a valid list": "应为列表",
    "Input should be a valid dictionary": "应为对象",
    "Input should be a valid dictionary or object to extract fields from": "应为可提取字段的对象",
    "Input should be greater than {gt}": "应大于 {gt}",
    "Input should be greater than or equal to {ge}": "应大于或等于 {ge}",
    "Input should be less than {lt}": "应小于 {lt}",
    "Input should be less than or equal to {le}": "应小于或等于 {le}",
    "String should have at most {max_length} characters": "字符串长度不能超过 {max_length} 个字符",
    "List should have at least {min_length} item after validation, not {actual_length}":
        "列表至少应有 {min_length} 项，实际为 {actual_length} 项",
    "List should have at most {max_length} items after validation, not {actual_length}":
        "列表最多只能有 {max_length} 项，实际为 {actual_length} 项",
    "give lon and lat, or address": "请提供经度和纬度，或地址",
    "database unavailable: {error}": "数据库暂不可用：{error}",
    "cannot read the upload: {error}": "无法读取上传内容：{error}",
    "multipart upload needs a 'file' field holding the CSV": "multipart 上传需要一个包含 CSV 的 'file' 字段",
    "CSV needs columns lon and lat, or address (and optionally id)":
        "CSV 需要 lon 和 lat 列，或 address 列（id 列可选）",
    "cannot read the CSV: {error}": "无法读取 CSV：{error}",
    "no grid with code '{code}'": "没有编码为 '{code}' 的网格",
    "bbox must be minlon,minlat,maxlon,maxlat":
        "bbox 格式应为 minlon,minlat,maxlon,maxlat（最小经度,最小纬度,最大经度,最大纬度）",
    "bbox must be finite, within ±180/±90, with min ≤ max": "bbox 必须是有效数字，在 ±180/±90 以内，且最小值 ≤ 最大值",
    "level must be one of {levels}": "level 应为 {levels} 之一",
    "kind must be one of {kinds}": "kind 应为 {kinds} 之一",

    # --- Maps ---------------------------------------------------------------------------------------------------
    "unknown layer '{layer}': use one of {layers}": "未知图层 '{layer}'：请使用 {layers} 之一",
    "unknown layer '{layer}': grids, facilities, service-areas, uncovered, buildings, problems":
        "未知图层 '{layer}'：可用图层为 grids、facilities、service-areas、uncovered、buildings、problems",
    "no static file '{path}'": "没有静态文件 '{path}'",
    "Leaflet is not installed locally: run `make maps-vendor`": "本地未安装 Leaflet：请运行 `make maps-vendor`",
    "Leaflet is not installed locally: run `make maps-vendor` (npm ci --prefix maps)":
        "本地未安装 Leaflet：请运行 `make maps-vendor`（npm ci --prefix maps）",
    "no district, street or community with code or name '{area}'": "没有代码或名称为 '{area}' 的区县、街道或社区",
    "no walking-network service areas for {minutes} minutes: run `geogrid compute`":
        "没有 {minutes} 分钟的步行路网服务范围：请运行 `geogrid compute`",
    "no grid in force with code '{code}'": "没有编码为 '{code}' 的现行网格",
    "measure '{measure}' is not one of {measures}": "着色指标 '{measure}' 不是 {measures} 之一",
    "wrote {path} ({kib:.0f} KiB)": "已写入 {path}（{kib:.0f} KiB）",
    "maps: {n} written to {path}": "地图：已写入 {n} 个到 {path}",

    # --- CLI help (geogrid --help, geogrid COMMAND --help) --------------------------------------------------------
    "Community grid management (网格化服务管理) on PostGIS.": "基于 PostGIS 的社区网格化服务管理。",
    "Show this message and exit.": "显示本帮助信息并退出。",
    "Install completion for the current shell.": "为当前 shell 安装命令补全。",
    "Show completion for the current shell, to copy it or customize the installation.":
        "显示当前 shell 的命令补全脚本，可复制或自定义安装。",
    "Only this community (code or name).": "仅限该社区（编码或名称）。",
    "Print JSON instead of a table.": "以 JSON 格式输出，而不是表格。",
    "Grid code.": "网格编码。",

    # geogrid db
    "Run the database: the embedded cluster, or check an external one.":
        "运行数据库：启动内置数据库，或检查外部数据库。",
    "Start the embedded cluster (if needed), create extensions and apply migrations.":
        "启动内置数据库（如尚未启动），创建扩展并执行数据库迁移。",
    "Stop the embedded cluster.": "停止内置数据库。",
    "Say whether the database is running and where.": "显示数据库是否正在运行及其位置。",
    "Print the database URL (for psql, QGIS or other tools).": "输出数据库连接地址（供 psql、QGIS 等工具使用）。",
    "Drop every table and migrate again: all data is lost.": "删除所有数据表并重新迁移：全部数据将丢失。",
    "Do not ask for confirmation.": "不再询问确认。",

    # geogrid import, geogrid export
    "Import boundaries, buildings, residents, facilities or OSM.":
        "导入边界、楼栋、居民、服务设施或 OSM 数据。",
    "GeoJSON, GeoPackage, Shapefile or CSV.": "GeoJSON、GeoPackage、Shapefile 或 CSV 文件。",
    "Source CRS: wgs84, cgcs2000, gcj02, bd09 or EPSG:xxxx (default: the file's).":
        "源数据坐标系：wgs84、cgcs2000、gcj02、bd09 或 EPSG:xxxx（默认：文件自带的坐标系）。",
    "Layer of a GeoPackage.": "GeoPackage 中的图层。",
    "CSV longitude column (default lon/lng/longitude/x/经度).": "CSV 经度列（默认 lon/lng/longitude/x/经度）。",
    "CSV latitude column (default lat/latitude/y/纬度).": "CSV 纬度列（默认 lat/latitude/y/纬度）。",
    "CSV column holding WKT geometries (default wkt/geometry).": "CSV 中存放 WKT 几何图形的列（默认 wkt/geometry）。",
    "Source id column (default id/source_id/编号; else file#row).":
        "源编号列（默认 id/source_id/编号；没有该列时取 file#row，即“文件名#行号”）。",
    "Name column (default name/名称).": "名称列（默认 name/名称）。",
    "Code column (default code/编码/区划代码).": "编码列（默认 code/编码/区划代码）。",
    "Address column (default address/地址).": "地址列（默认 address/地址）。",
    "Kind column (default kind/type/类型).": "类型列（默认 kind/type/类型）。",
    "Districts, street offices and communities (polygons with statistical codes).":
        "区县、街道和社区边界（带统计用区划代码的多边形）。",
    "district, street or community (default: from the code: 6, 9 or 12 digits, 12-digit codes ending in 000 are "
    "streets).":
        "区划级别：district（区县）、street（街道）或 community（社区）；默认按区划代码判断："
        "6 位为区县、9 位为街道、12 位为社区，以 000 结尾的 12 位代码视为街道。",
    "Grid polygons; missing codes are generated per community in reading order.":
        "网格边界多边形；缺少编码的网格按读取顺序在所属社区内自动编码。",
    "Kind where the file has none: basic or dedicated.":
        "文件中未给出类型时的网格类型：basic（基础网格）或 dedicated（专属网格）。",
    "Community code or name column (default: the community holding most of the grid).":
        "所属社区的编码或名称列（默认：取覆盖该网格面积最大的社区）。",
    "Building points or footprints (a footprint's representative point becomes the building point).":
        "楼栋点位或轮廓面（轮廓面取其内部代表点作为楼栋点位）。",
    "Households column (default households/户数).": "户数列（默认 households/户数）。",
    "Floors column (default floors/层数).": "层数列（默认 floors/层数）。",
    "Residents (a table): households by key, personal fields kept apart in resident_personal.":
        "居民（表格数据）：按户号归户，个人信息字段单独存放在 resident_personal 表中。",
    "Building source id column (default building_id).": "所在楼栋的源编号列（默认 building_id）。",
    "Building address column, used when there is no building id column.":
        "所在楼栋的地址列，在没有楼栋编号列时使用。",
    "Household key column (default household/户号).": "户号列（默认 household/户号）。",
    "Party member column (是/否, yes/no, 1/0).": "是否党员列（是/否、yes/no、1/0）。",
    "Special groups column (独居老人、残疾人, ...).": "重点人群列（独居老人、残疾人等）。",
    "Registration column (户籍/流动/境外).": "户籍类型列（户籍/流动/境外）。",
    "Personal name column (default name/姓名).": "姓名列（默认 name/姓名）。",
    "ID number column (default 身份证号).": "身份证号列（默认 身份证号）。",
    "Phone column (default phone/电话).": "联系电话列（默认 phone/电话）。",
    "Service stations, centres, elderly-care posts, ... with their service circle.":
        "服务站、服务中心、养老服务驿站等服务设施及其生活圈。",
    "Kind for every row (when the file has no kind column).": "所有行统一使用的设施类型（文件中没有类型列时）。",
    "Service circle column: 5, 10 or 15 minutes (default by kind).":
        "生活圈列：5、10 或 15 分钟（默认按设施类型确定）。",
    "Import as planning candidates.": "作为规划候选点位导入。",
    "Buildings, POIs as facility candidates and the walking network from an OpenStreetMap extract.":
        "从 OpenStreetMap 区域数据导入楼栋、兴趣点（作为候选服务设施）和步行路网。",
    "An .osm.pbf extract.": "OpenStreetMap 区域数据文件（.osm.pbf）。",
    "Also import the walking network.": "同时导入步行路网。",
    "Write current grids, buildings (with grid_code) or areas for QGIS.":
        "导出现行网格、楼栋（含所属网格编码 grid_code）或行政区划，供 QGIS 使用。",
    "grids, buildings or areas.": "grids（网格）、buildings（楼栋）或 areas（行政区划）。",
    "A .geojson or .gpkg file.": ".geojson 或 .gpkg 文件。",

    # geogrid assign, compute, stats
    "Assign every building (and so its residents) and every facility to the grid that contains it.":
        "将每栋楼（连同其居民）和每处服务设施划入其所在的网格。",
    "How many buildings outside every grid to list.": "列出不在任何网格内的楼栋的数量上限。",
    "Recompute everything derived from the stored data: assignment, gazetteer, service areas, walks to the nearest "
    "service station, per-building coverage.":
        "根据已入库数据重新计算全部派生结果：网格归属、地址库、服务范围、到最近服务站的步行距离、逐栋覆盖情况。",
    "Per-grid households, residents, party members, special groups, staff and party organisation.":
        "按网格统计户数、居民、党员、重点人群、网格工作人员和党组织情况。",

    # geogrid demo, demo-boundaries
    "Replace ALL data with the demo street office (长湖街道, 海淀区), compute everything, write maps, serve.":
        "用演示街道（海淀区长湖街道）替换全部数据（原有数据将清空），完成全部计算，生成地图并启动服务。",
    "Scale the city to about N buildings (up to {max:,}); default: the hand-sized demo street office.":
        "将演示城市扩展到约 N 栋楼（最多 {max:,} 栋）；默认：小规模的手工演示街道。",
    "Random seed: the same seed always gives the same city.": "随机种子：相同的种子总是生成相同的城市。",
    "Serve the API and maps afterwards.": "完成后启动 API 和地图服务。",
    "Directory the maps are written to.": "地图的输出目录。",
    "Address to serve on (default GEOGRID_API_HOST).": "服务监听地址（默认 GEOGRID_API_HOST）。",
    "Port to serve on (default GEOGRID_API_PORT).": "服务端口（默认 GEOGRID_API_PORT）。",
    "Write the demo street, its communities and grids as GeoJSON (lon/lat), without the database.":
        "将演示街道及其社区、网格写为 GeoJSON（经纬度坐标），无需数据库。",
    "GeoJSON file to write.": "要写入的 GeoJSON 文件。",
    "Random seed of the demo city.": "演示城市的随机种子。",

    # geogrid lookup
    "Which grid a point or an address is in, and who is responsible for it.":
        "查询点位或地址所在的网格及其责任人。",
    "An address (巴蜀花园3栋) or a point 'lon,lat'.": "地址（如 巴蜀花园3栋）或点位 'lon,lat'（经度,纬度）。",
    "CRS of points: wgs84, cgcs2000, gcj02, bd09 or EPSG:xxxx.":
        "点位坐标系：wgs84、cgcs2000、gcj02、bd09 或 EPSG:xxxx。",
    "CSV with columns id and lon,lat or address.": "CSV 文件，包含 id 列，以及 lon、lat 列或 address 列。",
    "Where to write the CSV answer (default stdout).": "查询结果 CSV 的输出文件（默认输出到标准输出）。",

    # geogrid coverage
    "Service-circle coverage (5/10/15-minute walk) per grid, gaps and new sites.":
        "各网格的生活圈覆盖情况（步行 5/10/15 分钟）、覆盖盲区和新增选址。",
    "Circle level: 5, 10 or 15 minutes.": "生活圈等级：5、10 或 15 分钟。",
    "circle (straight line) or network (along the walking network).":
        "circle（按直线距离）或 network（沿步行路网）。",
    "Facility kind, e.g. service_station (all kinds when absent).":
        "设施类型，如 service_station（不指定时为全部类型）。",
    "Facility kind.": "设施类型。",
    "Uncovered buildings grouped into clusters; grids with no station inside or within reach.":
        "将未覆盖楼栋归并为聚集区；列出网格内没有服务站、或步行范围内无服务站可达的网格。",
    "Cluster link distance (m).": "聚集区归并距离（米）。",
    "Clusters listed.": "列出的聚集区数量。",
    "Propose k sites covering the most uncovered households (exact MCLP, checked by greedy).":
        "推荐 k 个新点位，覆盖尽可能多的未覆盖户（最大覆盖选址模型 MCLP 精确求解，并用贪心算法校核）。",
    "Number of new sites.": "新增点位数量。",
    "Uncovered buildings tried as sites.": "作为候选点位参与计算的未覆盖楼栋数。",
    "Recompute the service areas of every facility (circle and network) and the walks to the nearest service "
    "station that lookups report: what changes when facilities do (`geogrid compute` does all).":
        "重新计算每处服务设施的服务范围（直线距离和步行路网）以及查询结果中到最近服务站的步行距离，"
        "即服务设施变化后需要更新的内容（`geogrid compute` 会重新计算全部）。",

    # geogrid validate, geogrid plan
    "Check the grids: geometry, containment, overlaps, gaps, unassigned buildings, size, staff, shape.":
        "检查网格：几何有效性、是否超出所属社区、重叠、缝隙、未划入网格的楼栋、规模、人员配备和形状。",
    "Community code or name (default: all).": "社区编码或名称（默认：全部社区）。",
    "Print the problems as JSON on stdout.": "以 JSON 格式将问题输出到标准输出。",
    "Propose, preview, apply and undo grid boundary changes.": "网格边界调整：提出方案、预览、应用和撤销。",
    "Store a draft plan and print its preview (JSON on stdout).":
        "保存调整方案草稿并输出其预览（JSON，输出到标准输出）。",
    "JSON file: {{edits: [...], base_versions: {{code: version}}}} or a list.":
        "JSON 文件：{{edits: [...], base_versions: {{code: version}}}}，或仅含修改项的列表。",
    "Who proposes the change.": "方案提出人。",
    "Apply a draft plan in one transaction (refused if its grids changed since).":
        "在一个事务中应用调整方案草稿（如相关网格在此期间已被修改，则拒绝应用）。",
    "Plan number.": "方案编号。",
    "Who applies the change.": "方案应用人。",
    "Every version of a grid, with author, dates and lineage.": "网格的全部历史版本，含调整人、起止日期和沿革关系。",
    "Give a grid the boundary of an earlier version (a new version; neighbours give back what it takes).":
        "将网格边界恢复为早期版本（保存为新版本；相邻网格让出其重新纳入的区域）。",
    "Version to restore.": "要恢复的版本。",
    "Who reverts the grid.": "回退操作人。",

    # geogrid serve, geogrid map
    "Serve the HTTP API and the maps.": "启动 HTTP API 和地图服务。",
    "Address to listen on (default GEOGRID_API_HOST or 127.0.0.1).": "监听地址（默认 GEOGRID_API_HOST 或 127.0.0.1）。",
    "Port (default GEOGRID_API_PORT or 8000).": "端口（默认 GEOGRID_API_PORT 或 8000）。",
    "Worker processes.": "工作进程数。",
    "Coverage and grid maps as HTML files (Leaflet served locally, no CDN).":
        "生成覆盖图和网格地图 HTML 文件（Leaflet 由本地提供，不依赖 CDN）。",
    "Write the coverage map of an area: grids, service areas, facilities, uncovered buildings.":
        "生成某一区域的覆盖图：网格、服务范围、服务设施和未覆盖楼栋。",
    "Write one grid's map with all its buildings.": "生成单个网格的地图，含其全部楼栋。",
    "HTML file to write.": "要写入的 HTML 文件。",
    "District, street or community (code or name); default city.": "区县、街道或社区（编码或名称）；默认全市。",
    "circle, network or auto (network when computed).":
        "circle（直线距离）、network（步行路网）或 auto（已计算步行路网服务范围时用 network）。",
    "circle, network or auto.": "circle（直线距离）、network（步行路网）或 auto（自动选择）。",
    "Service circle in minutes (5, 10 or 15).": "生活圈分钟数（5、10 或 15）。",
    "Service circle in minutes.": "生活圈分钟数。",
    "Grid colour: households, coverage or party_members.":
        "网格着色依据：households（户数）、coverage（覆盖率）或 party_members（党员数）。",
    "Only facilities of this kind.": "仅显示该类型的服务设施。",
}

# Topic catalogues (one file each, so work on one topic never touches another's lines).
for _topic in (health, trust, accounts, partition, rosters, addresses, maps, robust):
    ZH.update(_topic.ZH)
