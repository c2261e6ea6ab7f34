"""Normalising free-text Chinese addresses into one comparable form.

People write the same place many ways: 巴蜀花園３號樓, 北京市门头沟区王平地区…, 长湖街十二号. Both the gazetteer
(what we store) and a query (what a caller sends) go through :func:`normalise`, so trigram similarity in
PostgreSQL compares like with like. Province/city/district prefixes are recognised by ``jionlp`` (offline
dictionaries), traditional characters are converted by OpenCC; only the small rules no library covers
(Chinese numerals before 号/栋, building-word variants, town suffixes) are written here.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_UNITS = {"十": 10, "百": 100, "千": 1000}
_NUMERAL = "零〇一二两三四五六七八九十百千"
# A Chinese numeral is a number only where an address unit follows it (三里屯 stays a name). Runs after
# t2s, so simplified forms suffice.
_CN_NUMBER = re.compile(rf"(?<![{_NUMERAL}])([{_NUMERAL}]+)(?=号|栋|幢|座|单元|层|室|楼|弄|巷|排|组)")
# 3号楼 / 3幢 / 3座 / 3号栋 / 3栋楼 → 3栋 (a floor "3层" or a room stays as written).
_BUILDING = re.compile(r"(\d+)(?:号楼|号栋|栋楼|幢楼|栋|幢|座)")
# The gazetteer stops at the building: unit, floor and room after it (2单元301, 5层, 301室) are dropped.
_INSIDE = re.compile(r"(\d+栋)(?:\d+单元)?(?:\d+[层楼])?(?:\d+[室号]?)?$")
# Street-level suffixes whose forms differ between sources (王平镇 vs 王平地区, 檀营满族蒙古族乡).
_TOWN = re.compile(r"^(.{2,}?)(?:[\u4e00-\u9fff]{1,2}族)*(?:街道办事处|地区办事处|街道|地区|镇|乡|苏木)$")
_ADMIN_HINT = re.compile(r"[省市区县旗盟州]")
_DROP = re.compile(r"[\s\W_]+", re.UNICODE)


def cn_to_int(text: str) -> int:
    """Value of a Chinese numeral: 十二 → 12, 一百零五 → 105, 二〇八 → 208 (digit by digit)."""
    if not any(ch in _UNITS for ch in text):
        return int("".join(str(_DIGITS[ch]) for ch in text))
    total, current = 0, 0
    for ch in text:
        if ch in _DIGITS:
            current = _DIGITS[ch]
        else:
            total += (current or 1) * _UNITS[ch]
            current = 0
    return total + current


@lru_cache(maxsize=1)
def _t2s():
    import opencc

    return opencc.OpenCC("t2s")


@lru_cache(maxsize=1)
def _admin_names() -> frozenset[str]:
    """Names and short names of every province, city and county in jionlp's dictionary (北京市, 北京, 海淀区…)."""
    import jionlp

    names: set[str] = set()

    def walk(level: dict) -> None:
        for key, value in level.items():
            if not key.startswith("_"):
                alias = value.get("_alias") or []
                names.update([key, *([alias] if isinstance(alias, str) else alias)])
                walk(value)

    walk(jionlp.china_location_loader())
    return frozenset(names)


def _starts_with_admin(text: str) -> bool:
    """Cheap gate before jionlp (milliseconds a call): does the text begin with an admin name?"""
    names = _admin_names()
    return any(text[:k] in names for k in range(2, min(len(text), 12) + 1))


@lru_cache(maxsize=4096)
def _strip_admin(text: str) -> str:
    """Drop province/city/district prefixes that jionlp recognises; the town is kept, its suffix unified."""
    if not _ADMIN_HINT.search(text) or not _starts_with_admin(text):
        return text
    import jionlp

    parsed = jionlp.parse_location(text, town_village=True)
    detail = parsed.get("detail") or text
    prefix = text[: len(text) - len(detail)]
    # jionlp also reads bare names as counties (高碑店地区 → 高碑店市): drop only a prefix written as one.
    if not text.endswith(detail) or (prefix and not _ADMIN_HINT.search(prefix[-1])):
        return text
    town = parsed.get("town")
    if town and detail.startswith(town):
        detail = strip_town_suffix(town) + detail[len(town):]
    return detail


def strip_town_suffix(name: str) -> str:
    """The core of a street/town name: 王平地区 and 王平镇 both → 王平; a name that is only a suffix stays."""
    match = _TOWN.match(name)
    return match.group(1) if match else name


def clean(text: str) -> str:
    """Width, script, case, numerals and building words unified; spaces and punctuation removed."""
    text = unicodedata.normalize("NFKC", str(text))
    text = _t2s().convert(text).lower()
    text = _DROP.sub("", text)
    text = _CN_NUMBER.sub(lambda m: str(cn_to_int(m.group(1))), text)
    return _INSIDE.sub(r"\1", _BUILDING.sub(r"\1栋", text))


def normalise(text: str | None) -> str:
    """The comparable form of an address or place name ('' for nothing usable)."""
    if text is None:
        return ""
    text = clean(text)
    if not text:
        return ""
    return strip_town_suffix(_strip_admin(text))
