"""Chinese for the addresses messages, keyed by their English templates (merged into :data:`geogrid.messages_zh.ZH`)."""

from __future__ import annotations

ZH: dict[str, str] = {
    "{count} other places in the address data carry this door number too": "地址数据中另有 {count} 处也是这个门牌号",
    "lon, lat and id must be lists of the same length": "lon、lat 和 id 必须是长度相同的列表",
    "address book": "标准地址库",
    "row has no address: give address, or road and door, or compound and building": "该行没有地址：请填写地址，或道路和门牌号，或小区和楼栋",
    "no point: give lon and lat, or the source id of an imported building ({ref})": "没有位置：请填写经纬度，或已导入楼栋的编号（{ref}）",
    "not a readable spreadsheet: {error}": "无法读取的电子表格：{error}",
    "addresses and places": "地址与地名",
    "named roads": "有名称的道路",
    "the whole address is a known {level} name ({count} with this name)": "整个地址是已知的 {level} 名称（同名 {count} 个）",
    "between {lower} and {upper} on the same side of {road}": "位于{road}同侧的 {lower} 与 {upper} 之间",
    "only {name} ({level}) is known in the address; the rest is not": "地址中只认出 {name}（{level}），其余部分未知",
    "no name matches exactly; the most similar names (trigram similarity {score:.2f})": "没有完全相同的名称；以下为最相近的名称（三元组相似度 {score:.2f}）",
    "door {number} on {road} is known ({count} entries)": "{road}{number}号已知（{count} 条）",
    "; the stretch between them crosses grids or the number is known only with another sub-number": "；两者之间的路段跨越网格，或该号只以其他支号（甲乙丙丁等）出现",
    "door {number} is not known on {road}: the grids the road crosses": "{road}没有{number}号：列出该路经过的网格",
    "door {number} is not known on {road}: the grids of its nearest known doors": "{road}没有{number}号：列出最近的已知门牌所在网格",
    "the address ends with the known {level} name {name}": "地址以已知的 {level} 名称 {name} 结尾",
    "normal form: {norm}": "规范形式：{norm}",
    "Print why an address answer was chosen (on stderr).": "说明地址答案的依据（输出到 stderr）。",
    "{level} match: grid {code}": "{level} 级匹配：网格 {code}",
    "{level} match, not sure: candidates {shares}": "{level} 级匹配，不确定：候选网格 {shares}",
    "A standard address book (标准地址库): xlsx, CSV or GeoJSON rows with district, street, community, road, door, "
    "compound, building, unit, room and a point (lon/lat) or a building source id.": "标准地址库：xlsx、CSV 或 GeoJSON，每行含区、街道、社区、道路、门牌号、小区、楼栋、单元、户室，"
    "以及位置（经纬度）或楼栋编号。",
    "An .xlsx, .csv or .geojson address book.": "一个 .xlsx、.csv 或 .geojson 地址库文件。",
    "{n:,} with door number": "{n:,} 条有门牌号",
}
ZH["{count} other places have this name too"] = "另有 {count} 处同名"
