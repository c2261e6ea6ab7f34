"""The address normaliser: the forms people really write reduce to one comparable string."""

from __future__ import annotations

import pytest

from geogrid.address import cn_to_int, normalise, normalise_many


@pytest.mark.parametrize(
    "numeral, value",
    [("三", 3), ("十", 10), ("十二", 12), ("二十三", 23), ("一百零五", 105), ("二〇八", 208), ("两", 2)],
)
def test_chinese_numerals(numeral, value):
    assert cn_to_int(numeral) == value


@pytest.mark.parametrize(
    "variants, norm",
    [
        (
            [
                "巴蜀花园3栋",
                "巴蜀花园3幢",
                "巴蜀花园3座",
                "巴蜀花园3号楼",
                "巴蜀花园三号楼",
                "巴蜀花園３號樓",
                "巴蜀花园 3 栋",
                "巴蜀花园3号栋",
                "北京市海淀区巴蜀花园3栋",
                "海淀区巴蜀花园（3栋）",
                "巴蜀花园3栋2单元301",
                "巴蜀花园三号楼二单元五层501室",
                "巴蜀花园3栋501",
            ],
            "巴蜀花园3栋",
        ),
        (["长湖街12号", "长湖街十二号", "長湖街１２號", "长湖街，12号", "重庆市渝北区长湖街12号"], "长湖街12号"),
        (["王平镇", "王平地区", "北京市门头沟区王平地区", "王平地区办事处"], "王平"),
        (["檀营满族蒙古族乡", "檀营地区"], "檀营"),
        (["杨镇镇", "杨镇地区"], "杨镇"),
        (["高碑店乡", "高碑店地区"], "高碑店"),  # jionlp alone would read 高碑店 as the city in Hebei
        (["清华园街道", "清华园街道办事处"], "清华园"),
    ],
)
def test_variants_share_one_form(variants, norm):
    assert {v: normalise(v) for v in variants} == dict.fromkeys(variants, norm)


@pytest.mark.parametrize(
    "text, norm",
    [
        ("三里屯", "三里屯"),  # a numeral that is part of a name stays
        ("朝阳小区5号楼", "朝阳小区5栋"),  # 朝阳 is a district's short name, but here it names the compound
        ("学府小区3号楼", "学府小区3栋"),  # 小区 is no district
        ("北京门头沟区王平地区", "王平"),
        ("十里河3层", "十里河3层"),  # a floor is not a building
        ("ABC大厦", "abc大厦"),
        ("'; DROP TABLE grids; --", "droptablegrids"),
        ("   ", ""),
        (None, ""),
        ("镇", "镇"),
        ("苏州街3号", "苏州街3号"),  # Haidian's 苏州街 is a street: a short city name alone is no admin prefix
        ("苏州二街50号", "苏州二街50号"),
        ("海州湾街道", "海州湾"),  # a street office named after no county
        ("江州镇", "江州"),
    ],
)
def test_edges(text, norm):
    assert normalise(text) == norm


def test_many_at_once_match_one_by_one():
    texts = [
        "北京市海淀区巴蜀花园3号楼",
        "巴蜀花園３號樓",
        None,
        "北京市门头沟区王平地区东马各庄村12号",
        "北京市门头沟区王平地区东马各庄村7号",
        "苏州街8号",
        "巴蜀花园3号楼",
        "一目瞭然大廈",
    ]
    assert normalise_many(texts) == [normalise(t) for t in texts]
    assert normalise_many(texts)[3:5] == ["王平东马各庄村12号", "王平东马各庄村7号"]  # one parse, two numbers
