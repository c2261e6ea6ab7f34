"""User-facing messages in Chinese (GEOGRID_LANG): a complete catalogue, and Chinese from the CLI and the API."""

from __future__ import annotations

import ast
import os
import re
import string
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from geogrid.errors import InputError
from geogrid.i18n import Text, join, t
from geogrid.messages_zh import ZH

ROOT = Path(__file__).resolve().parents[2]
SOURCES = ("geogrid", "api", "maps")


def t_calls() -> list[tuple[str, int, ast.expr | None]]:
    """Every ``t(...)`` (and ``heading(...)``) call in the product's source: (file, line, first argument)."""
    calls = []
    for package in SOURCES:
        for path in sorted((ROOT / package).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ("t", "heading"):
                    calls.append((f"{path.relative_to(ROOT)}", node.lineno, node.args[0] if node.args else None))
    return calls


def templates() -> dict[str, str]:
    """Each literal template passed to ``t()`` and where it is first used."""
    found: dict[str, str] = {}
    for where, line, arg in t_calls():
        if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
            found.setdefault(arg.value, f"{where}:{line}")
    return found


def fields(template: str) -> Counter:
    """The placeholders of a format string with their conversion and format spec."""
    return Counter((name, conv, spec) for _, name, spec, conv in string.Formatter().parse(template) if name is not None)


def test_every_template_is_a_literal():
    dynamic = [
        f"{where}:{line}"
        for where, line, arg in t_calls()
        if not (isinstance(arg, ast.Constant) and isinstance(arg.value, str))
    ]
    assert not dynamic, f"t() needs a literal template (the catalogue is checked against them): {dynamic}"


def test_every_template_has_chinese():
    found = templates()
    assert len(found) > 150  # the scan sees the call sites
    missing = {tpl: where for tpl, where in found.items() if not ZH.get(tpl)}
    assert not missing, f"templates without Chinese in geogrid/messages_zh.py: {missing}"


def test_no_dead_catalogue_entries():
    unused = sorted(set(ZH) - set(templates()))
    assert not unused, f"catalogue entries no t() call uses: {unused}"


def test_chinese_keeps_the_placeholders():
    wrong = {en: zh for en, zh in ZH.items() if fields(en) != fields(zh)}
    assert not wrong, f"placeholders differ between English and Chinese: {wrong}"


def test_chinese_is_not_the_english_copied():
    assert not [en for en, zh in ZH.items() if zh == en]


@pytest.mark.parametrize(
    ("lang", "expected"),
    [
        ("zh-en", "代码 'N2' 在文件中出现了两次 (code 'N2' appears twice)"),
        ("zh", "代码 'N2' 在文件中出现了两次"),
        ("en", "code 'N2' appears twice"),
    ],
)
def test_languages(settings_env, lang, expected):
    settings_env("GEOGRID_LANG", lang)
    assert t("code '{code}' appears twice", code="N2") == expected


def test_default_is_chinese_with_english(settings_env, monkeypatch):
    monkeypatch.delenv("GEOGRID_LANG", raising=False)
    settings_env("GEOGRID_API_PORT", "8000")  # rebuilds the settings
    assert t("address is empty") == "地址为空 (address is empty)"
    settings_env("GEOGRID_LANG", "klingon")  # an unknown language reads as the default
    assert t("address is empty") == "地址为空 (address is empty)"


def test_missing_or_broken_templates_fall_back_to_english(settings_env, monkeypatch):
    settings_env("GEOGRID_LANG", "zh")
    assert t("a message nobody translated: {n}", n=3) == "a message nobody translated: 3"
    monkeypatch.setitem(ZH, "grid {code} no longer exists", "网格 {cod} 已不存在")  # a typo in the catalogue
    assert t("grid {code} no longer exists", code="G1") == "grid G1 no longer exists"
    assert t("grid {code} no longer exists") == "grid {code} no longer exists"  # a value missing: no crash


def test_lists_and_nested_messages_follow_the_language(settings_env):
    settings_env("GEOGRID_LANG", "zh-en")
    inner = t("walking network")
    message = t("{what}: {done}", what=inner, done=join([t("{n:,} nodes", n=1200), t("{n:,} edges", n=3)], zh="，"))
    assert message == "步行路网：1,200 个节点，3 条路段 (walking network: 1,200 nodes, 3 edges)"
    assert (
        t("grids {codes} are in different communities", codes=["A", "B"])
        == "网格 A、B 属于不同社区 (grids A, B are in different communities)"
    )
    assert isinstance(message, Text) and isinstance(message, str)


@pytest.mark.parametrize(
    ("lang", "expected"),
    [
        (
            "zh-en",
            "文件 a.csv，第 7 行，字段 'geometry'：几何图形为空 "
            "(file a.csv, row 7, field 'geometry': geometry is empty)",
        ),
        ("zh", "文件 a.csv，第 7 行，字段 'geometry'：几何图形为空"),
        ("en", "file a.csv, row 7, field 'geometry': geometry is empty"),  # the wording before translation
    ],
)
def test_input_error_location(settings_env, lang, expected):
    settings_env("GEOGRID_LANG", lang)
    assert str(InputError(t("geometry is empty"), file="a.csv", row=7, field="geometry")) == expected


def test_cli_bad_import_speaks_chinese(tmp_path):
    path = tmp_path / "楼栋.csv"
    path.write_text("id,lon,lat,households\nb1,116.30,39.90,10\nb2,116.31,北纬39度,20\n", encoding="utf-8")
    env = {**os.environ, "GEOGRID_LANG": "zh"}
    result = subprocess.run(
        [str(Path(sys.executable).parent / "geogrid"), "import", "buildings", str(path)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    err = " ".join(result.stderr.split())
    assert result.returncode == 1
    assert f"错误: 文件 {path}，第 3 行，字段 'lat'：'北纬39度' 不是数字" in err
    assert "Traceback" not in result.stderr + result.stdout
    assert "is not a number" not in err and "row" not in err  # Chinese only


# Help texts `geogrid --help` and `geogrid import buildings --help` show: a command's, an option's, an argument's
# and typer's own --help option.
ROOT_HELP = (
    "Community grid management (网格化服务管理) on PostGIS.",
    "Which grid a point or an address is in, and who is responsible for it.",
    "Import boundaries, buildings, residents, facilities or OSM.",
    "Install completion for the current shell.",
    "Show this message and exit.",
)
BUILDINGS_HELP = (
    "Building points or footprints (a footprint's representative point becomes the building point).",
    "GeoJSON, GeoPackage, Shapefile or CSV.",
    "Households column (default households/户数).",
    "Source CRS: wgs84, cgcs2000, gcj02, bd09 or EPSG:xxxx (default: the file's).",
    "Show this message and exit.",
)
HELP_PAGES = [((), ROOT_HELP), (("import", "buildings"), BUILDINGS_HELP)]


def cli_help(args: tuple[str, ...], lang: str, columns: int = 1000) -> str:
    """``geogrid ARGS --help`` in a fresh process; wide by default, so that no help text is wrapped."""
    env = {**os.environ, "GEOGRID_LANG": lang, "COLUMNS": str(columns)}
    result = subprocess.run(
        [str(Path(sys.executable).parent / "geogrid"), *args, "--help"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.mark.parametrize(("args", "helps"), HELP_PAGES)
def test_cli_help_in_chinese(args, helps):
    out = cli_help(args, "zh")
    for en in helps:
        assert ZH[en] in out
        assert en not in out
    # No English sentence anywhere: at most three English words in a row (the usage line, option values).
    assert not re.findall(r"[A-Za-z]+(?: [A-Za-z]+){3,}", out), out


@pytest.mark.parametrize(("args", "helps"), HELP_PAGES)
def test_cli_help_in_english(args, helps):
    out = cli_help(args, "en")
    for en in helps:
        assert en in out
        assert ZH[en] not in out


def test_cli_help_in_both_by_default():
    out = cli_help(("import", "buildings"), "zh-en")
    assert "户数列（默认 households/户数）。 (Households column (default households/户数).)" in out


def test_cli_help_wraps_chinese_in_a_narrow_terminal():
    """Chinese has no spaces to break lines at: a long help text is folded, not cut off with an ellipsis."""
    out = cli_help((), "zh", columns=80)
    assert "…" not in out
    assert "逐栋覆盖情况。" in out  # the end of `compute`'s help, longer than one line
    assert "--show-completion" in out and "可复制或自定义安装。" in out


@pytest.fixture
def api(settings_env):
    """The API without its lifespan (no database needed for these answers), in the default zh-en."""
    from api.app import create_app

    settings_env("GEOGRID_LANG", "zh-en")
    return TestClient(create_app(), raise_server_exceptions=False)


def test_api_bad_query_has_a_chinese_reason(api):
    r = api.get("/grids", params={"bbox": "116.3,39.9"})
    assert r.status_code == 400
    assert r.json() == {
        "error": "bbox 格式应为 minlon,minlat,maxlon,maxlat（最小经度,最小纬度,最大经度,最大纬度） "
        "(bbox must be minlon,minlat,maxlon,maxlat)"
    }


def test_api_validation_and_routing_reasons_in_chinese(api):
    r = api.get("/coverage", params={"minutes": "five"})
    assert r.status_code == 422
    assert r.json()["error"] == (
        "query.minutes：应为整数，无法将该字符串解析为整数 (query.minutes: "
        "Input should be a valid integer, unable to parse string as an integer)"
    )
    assert r.json()["details"] == [r.json()["error"]]
    missing = api.get("/nowhere")
    assert missing.status_code == 404 and missing.json() == {"detail": "未找到 (Not Found)"}
    wrong = api.delete("/health")
    assert wrong.status_code == 405 and wrong.json() == {"detail": "不支持该请求方法 (Method Not Allowed)"}
    assert "GET" in wrong.headers["allow"]


def test_api_english_is_the_old_text(api, settings_env):
    settings_env("GEOGRID_LANG", "en")
    assert api.get("/grids", params={"bbox": "x"}).json() == {"error": "bbox must be minlon,minlat,maxlon,maxlat"}
    r = api.get("/coverage", params={"minutes": "five"})
    assert r.json()["error"] == "query.minutes: Input should be a valid integer, unable to parse string as an integer"
    assert api.get("/nowhere").json() == {"detail": "Not Found"}


def test_uncatalogued_pydantic_messages_stay_english(settings_env, client_as):
    settings_env("GEOGRID_LANG", "zh-en")
    api = client_as("api_client", raise_server_exceptions=False)  # batches need an account
    r = api.post(
        "/lookup/batch",
        content=b'{"items": [{"id": 1, "lon": 1, "lat": 2, "evil": 1}]}',
        headers={"content-type": "application/json"},
    )
    assert r.status_code == 422 and "Extra inputs are not permitted" in r.json()["error"]
