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
from collections.abc import Iterable
from functools import lru_cache
from typing import NamedTuple

_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_UNITS = {"十": 10, "百": 100, "千": 1000}
_NUMERAL = "零〇一二两三四五六七八九十百千"
_NUMERALS = frozenset(_NUMERAL)
# A Chinese numeral is a number only where an address unit follows it (三里屯 stays a name). Runs after
# t2s, so simplified forms suffice.
_CN_NUMBER = re.compile(rf"(?<![{_NUMERAL}])([{_NUMERAL}]+)(?=号|栋|幢|座|单元|层|室|楼|弄|巷|排|组)")
# 3号楼 / 3幢 / 3座 / 3号栋 / 3栋楼 → 3栋 (a floor "3层" or a room stays as written).
_BUILDING = re.compile(r"(?<=\d)(?:号楼|号栋|栋楼|幢楼|栋|幢|座)")  # a literal replacement: no template to expand
# The gazetteer stops at the building: unit, floor and room after it (2单元301, 5层, 301室) are dropped.
_INSIDE = re.compile(r"(?<=\d栋)(?:\d+单元)?(?:\d+[层楼])?(?:\d+[室号]?)?$")
# Street-level suffixes whose forms differ between sources (王平镇 vs 王平地区, 檀营满族蒙古族乡).
_TOWN = re.compile(r"^(.{2,}?)(?:[\u4e00-\u9fff]{1,2}族)*(?:街道办事处|地区办事处|街道|地区|镇|乡|苏木)$")
_TOWN_ENDS = ("处", "道", "区", "镇", "乡", "木")
_ADMIN_HINT = re.compile(r"[省市区县旗盟州]")
_DROP = re.compile(r"[\s\W_]+", re.UNICODE)
# 3-1号, 12－8, 43~45号, 43至45号: kept as 之 between the numbers (the parser tells a sub-number from a range).
_DASH = re.compile(r"(?<=\d)\s*(?:[-－‐‑–—~～之至到])\s*(?=\d)")
# Latin road words as pinyin, so an English name (Chengfu Road) and a pinyin one (Chéngfǔ Lù) share a form.
_LATIN_WORDS = {
    "road": "lu",
    "rd": "lu",
    "street": "jie",
    "st": "jie",
    "avenue": "dajie",
    "ave": "dajie",
    "east": "dong",
    "west": "xi",
    "north": "bei",
    "south": "nan",
    "middle": "zhong",
    "lane": "hutong",
    "no": "",
    "number": "",
}
_LATIN_WORD = re.compile(r"[a-z]+")
_DIGIT = re.compile(r"\d")


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
def _t2s_keys() -> tuple[frozenset[str], dict[str, tuple[str, ...]], frozenset[str]]:
    """The t2s dictionary keys that change a text: single characters, phrases by their first character,
    and those first characters."""
    chars: set[str] = set()
    phrases: dict[str, list[str]] = {}
    for group in _t2s()._dict_chain_data:
        for _, _, table in group:
            for key, value in table.items():
                if key == value:
                    continue
                if len(key) == 1:
                    chars.add(key)
                else:
                    phrases.setdefault(key[0], []).append(key)
    return frozenset(chars), {first: tuple(keys) for first, keys in phrases.items()}, frozenset(phrases)


def to_simplified(text: str) -> str:
    """Traditional → simplified Chinese (OpenCC t2s).

    The pure-Python OpenCC costs about 20 µs a call; a text that holds no changing key is returned as is,
    which is most of a gazetteer.
    """
    chars, phrases, starts = _t2s_keys()
    if chars.isdisjoint(text) and (
        starts.isdisjoint(text) or not any(p in text for ch in starts.intersection(text) for p in phrases[ch])
    ):
        return text
    return _t2s().convert(text)


class _AdminNames(NamedTuple):
    full: frozenset[str]  # every province, city and county in jionlp's dictionary: 北京市, 海淀区…
    names: frozenset[str]  # those and their short names: 北京, 海淀…
    heads: frozenset[str]  # the first two characters of each name (a fast first test)
    longest: int


@lru_cache(maxsize=1)
def _jionlp():
    """jionlp, imported once and quietly (it prints a banner to stdout, which would corrupt CLI output)."""
    import contextlib
    import io

    with contextlib.redirect_stdout(io.StringIO()):
        import jionlp
    return jionlp


@lru_cache(maxsize=1)
def _admin_names() -> _AdminNames:
    jionlp = _jionlp()

    full: set[str] = set()
    short: set[str] = set()

    def walk(level: dict) -> None:
        for key, value in level.items():
            if not key.startswith("_"):
                alias = value.get("_alias") or []
                full.add(key)
                short.update([alias] if isinstance(alias, str) else alias)
                walk(value)

    walk(jionlp.china_location_loader())
    names = full | short
    return _AdminNames(frozenset(full), frozenset(names), frozenset(n[:2] for n in names), max(map(len, names)))


def _admin_prefix_written(text: str) -> bool:
    """Cheap gate before jionlp (milliseconds a call): does the text begin with admin names, the last one
    written in full (北京市, 北京海淀区)? Only such a prefix is dropped: 昆明花园 is a compound, 苏州街 a street."""
    admin = _admin_names()
    if text[:2] not in admin.heads:
        return False
    seen, todo = {0}, [0]
    while todo:
        start = todo.pop()
        for end in range(start + 2, min(len(text), start + admin.longest) + 1):
            if text[start:end] in admin.names and end not in seen:
                if text[start:end] in admin.full:
                    return True
                seen.add(end)
                todo.append(end)
    return False


def _strip_admin(text: str) -> str:
    """Drop province/city/district prefixes that jionlp recognises; the town is kept, its suffix unified."""
    if not _ADMIN_HINT.search(text) or not _admin_prefix_written(text):
        return text
    # jionlp reads names, not house numbers: texts differing only in digits share one parse (and one cache
    # entry), which keeps a gazetteer of a million addresses to one parse per street or compound.
    cut, town = _admin_parse(_DIGIT.sub("0", text))
    detail = text[cut:]
    if town and detail.startswith(town):
        detail = strip_town_suffix(town) + detail[len(town) :]
    return detail


@lru_cache(maxsize=65536)
def _admin_parse(text: str) -> tuple[int, str | None]:
    """Length of the admin prefix jionlp finds in ``text`` (0 for none), and the town that follows it."""
    jionlp = _jionlp()

    parsed = jionlp.parse_location(text, town_village=True)
    detail = parsed.get("detail") or text
    prefix = text[: len(text) - len(detail)]
    # jionlp also reads bare names as counties (高碑店地区 → 高碑店市): drop only a prefix written as one.
    if not text.endswith(detail) or (prefix and not _ADMIN_HINT.search(prefix[-1])):
        return 0, None
    town = parsed.get("town")
    return len(prefix), (town if town and "0" not in town else None)


def strip_town_suffix(name: str) -> str:
    """The core of a street/town name: 王平地区 and 王平镇 both → 王平; a name that is only a suffix stays."""
    match = _TOWN.match(name) if name.endswith(_TOWN_ENDS) else None
    return match.group(1) if match else name


def clean(text: str) -> str:
    """Width, script, case, numerals and building words unified; spaces and punctuation removed."""
    text = unicodedata.normalize("NFKC", str(text))
    text = to_simplified(text).lower()
    if text.isascii() is False and any("\u00c0" <= ch <= "\u024f" for ch in text):  # pinyin tone marks
        text = "".join(ch for ch in unicodedata.normalize("NFKD", text) if not unicodedata.combining(ch))
    if re.search("[a-z]{2}", text):
        text = _LATIN_WORD.sub(lambda m: _LATIN_WORDS.get(m.group(0), m.group(0)), text)
    text = _DASH.sub("之", text)
    text = _DROP.sub("", text)
    if not _NUMERALS.isdisjoint(text):
        text = _CN_NUMBER.sub(lambda m: str(cn_to_int(m.group(1))), text)
    text = _BUILDING.sub("栋", text)
    return _INSIDE.sub("", text) if "栋" in text else text


def normalise(text: str | None) -> str:
    """The comparable form of an address or place name ('' for nothing usable)."""
    if text is None:
        return ""
    text = clean(text)
    if not text:
        return ""
    return strip_town_suffix(_strip_admin(text))


def normalise_many(texts: Iterable[str | None]) -> list[str]:
    """:func:`normalise` for many texts, each distinct text once (a gazetteer repeats names a lot)."""
    texts = list(texts)
    forms = {text: normalise(text) for text in dict.fromkeys(texts)}
    return [forms[text] for text in texts]


class Door(NamedTuple):
    """A door number as people write it, read from a normal form (:func:`normalise`).

    学院路丁11号 → road 学院路, prefix 丁, number 11; 志新西路3-1号 → number 3, sub 1; 成府路43-45号 → number 43,
    last 45 (a range: the second number larger and of the same parity); 12号院3号楼 → number 12, compound,
    rest 3栋 (the building inside the 号院).
    """

    road: str
    number: int
    prefix: str = ""
    sub: int | None = None
    last: int | None = None
    compound: bool = False
    rest: str = ""

    @property
    def numbers(self) -> range:
        """Every number the door covers: one, or each of a range on the same side (odd or even)."""
        return range(self.number, (self.last or self.number) + 1, 2)


_SUB_PREFIXES = "甲乙丙丁戊己庚辛"
_DOOR = re.compile(
    rf"^(?P<road>.*?[^\d之])??(?P<pre>[{_SUB_PREFIXES}])?(?P<num>\d{{1,5}})"
    r"(?:之(?P<num2>\d{1,5}))?(?P<post>号院|号|院)?(?P<rest>.*)$"
)


def parse_door(norm: str) -> Door | None:
    """The door number in a normal form, or None when it holds none (a name, or a building such as 巴蜀花园3栋)."""
    match = _DOOR.match(norm)
    if not match or not match["road"]:
        return None
    post, rest = match["post"] or "", match["rest"]
    if not post and rest:  # 3栋, 1层: not a door number
        return None
    number, second = int(match["num"]), match["num2"]
    sub = last = None
    if second is not None:
        other = int(second)
        if other > number and (other - number) % 2 == 0:
            last = other
        else:
            sub = other
    return Door(match["road"], number, match["pre"] or "", sub, last, post == "号院" or post == "院", rest)
