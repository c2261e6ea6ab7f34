"""Plausible, clearly fake Chinese names, ID numbers and phones, generated vectorised from a NumPy RNG."""

from __future__ import annotations

import numpy as np
import pandas as pd

SURNAMES = list("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈")
GIVEN = list("伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华建国玉梅志红文斌宇浩然欣怡子涵梓萱雨轩佳琪思远嘉懿")
COMPOUND_PREFIXES = (
    "巴蜀",
    "长湖",
    "学府",
    "翠微",
    "锦绣",
    "枫林",
    "明德",
    "紫荆",
    "丽泽",
    "华清",
    "知春",
    "双榆",
    "稻香",
    "万柳",
    "望京",
    "芳草",
    "金源",
    "世纪",
    "阳光",
    "碧水",
    "春晖",
    "文苑",
    "书香",
    "和平",
    "幸福",
    "康乐",
    "青塔",
    "太平",
    "永丰",
    "清河",
    "百望",
    "西山",
    "玉泉",
    "蓝靛",
    "昆明",
    "燕园",
    "荷清",
    "上地",
    "东升",
    "北坞",
)
COMPOUND_SUFFIXES = ("花园", "苑", "小区", "家园", "里", "公寓", "嘉园", "新村", "雅居", "名苑")
ROADS_EW = ("长湖街", "学院路", "丹棱街", "知春路", "成府路", "清华东路", "双清路", "北四环西路", "苏州街", "海淀大街")
ROADS_NS = ("巴蜀路", "学府路", "中关村大街", "科学院南路", "万泉河路", "蓝靛厂路", "西三环北路", "颐和园路")
COMMUNITY_NAMES = ("长湖", "学院", "巴蜀", "翠微", "丹棱", "枫林", "明德", "紫荆", "知春", "双榆")
CHINESE_NUMERALS = "一二三四五六七八九十"
ID_WEIGHTS = np.array([7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2])
ID_CHECK = np.array(list("10X98765432"))


def numbered(base: str, k: int, marker: str = "") -> str:
    """``长湖街``, then ``长湖二街`` ...: the k-th reuse of a base name, numbered before its last character."""
    if k == 0:
        return base
    n = CHINESE_NUMERALS[k % 10] if k < 10 else str(k + 1)
    return f"{base[:-1]}{n}{marker}{base[-1]}" if len(base) > 1 else f"{base}{n}"


def road_names(count: int, east_west: bool) -> list[str]:
    roads = ROADS_EW if east_west else ROADS_NS
    return [numbered(roads[i % len(roads)], i // len(roads)) for i in range(count)]


def compound_names(count: int) -> list[str]:
    combos = [p + s for s in COMPOUND_SUFFIXES for p in COMPOUND_PREFIXES]
    return [combos[i % len(combos)] + (f"{i // len(combos) + 1}区" if i >= len(combos) else "") for i in range(count)]


def community_names(count: int) -> list[str]:
    base = COMMUNITY_NAMES
    return [numbered(base[i % len(base)] + "区", i // len(base))[:-1] + "社区" for i in range(count)]


def person_names(rng: np.random.Generator, n: int) -> np.ndarray:
    """Surname plus one or two given characters (about 60% two)."""
    sur = np.asarray(SURNAMES, dtype=object)[rng.integers(0, len(SURNAMES), n)]
    g1 = np.asarray(GIVEN, dtype=object)[rng.integers(0, len(GIVEN), n)]
    g2 = np.asarray(GIVEN, dtype=object)[rng.integers(0, len(GIVEN), n)]
    two = rng.random(n) < 0.6
    return sur + g1 + np.where(two, g2, "")


def phones(rng: np.random.Generator, n: int) -> np.ndarray:
    """Mobile numbers ``1[3-9]x xxxx xxxx`` (11 digits)."""
    second = rng.choice(np.array(["3", "5", "7", "8", "9"], dtype=object), n)
    rest = pd.Series(rng.integers(0, 10**9, n)).astype(str).str.zfill(9).to_numpy(dtype=object)
    return "1" + second + rest


def id_numbers(rng: np.random.Generator, birth_year: np.ndarray, region: str = "110108") -> np.ndarray:
    """18-character resident ID numbers (GB 11643) with a valid check character; birth dates are random."""
    n = len(birth_year)
    month, day, seq = rng.integers(1, 13, n), rng.integers(1, 29, n), rng.integers(1, 1000, n)
    body = int(region) * 10**11 + np.asarray(birth_year, dtype=np.int64) * 10**7 + month * 10**5 + day * 10**3 + seq
    digits = (body[:, None] // 10 ** np.arange(16, -1, -1, dtype=np.int64)) % 10
    check = ID_CHECK[(digits * ID_WEIGHTS).sum(axis=1) % 11]
    return pd.Series(body).astype(str).to_numpy(dtype=object) + check.astype(object)


def id_check_valid(number: str) -> bool:
    """True when an 18-character ID number's check character is right (used by tests)."""
    digits = np.array([int(c) for c in number[:17]])
    return ID_CHECK[int((digits * ID_WEIGHTS).sum() % 11)] == number[17].upper()
