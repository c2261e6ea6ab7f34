"""User-facing messages in the user's language: Chinese with English, Chinese only, or English (``GEOGRID_LANG``).

Call sites write the English message as a ``str.format`` template with named fields; its Chinese comes from
:data:`geogrid.messages_zh.ZH`, keyed by that English template. English stays the key so the code reads as
before and a template missing from the catalogue still gives a readable (English) message, never an error.

:func:`t` returns a :class:`Text`: a plain ``str`` (rendered for the chosen language) that also keeps both
languages, so a message can be embedded whole in another one (an import error's "file X, row 7: ...").
"""

from __future__ import annotations

import os
from collections.abc import Iterable

from geogrid.messages_zh import ZH

LANGS = ("zh-en", "zh", "en")


def normalise_lang(value: object) -> str:
    """``zh-en``, ``zh`` or ``en``; anything else gives the default ``zh-en`` (readable by everyone)."""
    lang = str(value).strip().lower().replace("_", "-")
    return lang if lang in LANGS else "zh-en"


class Text(str):
    """A rendered message that remembers its English (``en``) and Chinese (``zh``, None when untranslated)."""

    en: str
    zh: str | None

    def __new__(cls, en: str, zh: str | None = None) -> Text:
        obj = super().__new__(cls, render(en, zh))
        obj.en, obj.zh = en, zh
        return obj


def _lang() -> str:
    """``GEOGRID_LANG`` read straight from the environment, as the ``lang`` setting reads it: the help text is
    rendered at import, before (and without) the settings, and a message stays readable while another
    setting is unreadable."""
    return normalise_lang(os.environ.get("GEOGRID_LANG", "zh-en"))


def render(en: str, zh: str | None) -> str:
    """The text shown under ``GEOGRID_LANG``: ``zh-en`` gives ``中文 (English)``."""
    lang = _lang()
    if zh is None or lang == "en":
        return en
    return zh if lang == "zh" else f"{zh} ({en})"


def t(template: str, **values: object) -> Text:
    """The message ``template`` (English, ``{named}`` fields) filled with ``values`` in the chosen language.

    A list or tuple value is joined (", " in English, "、" in Chinese); a :class:`Text` value is used in the
    matching language.
    """
    en = _fill(template, values, "en") or template
    zh_template = ZH.get(template)
    return Text(en, _fill(zh_template, values, "zh") if zh_template else None)


def heading(template: str) -> str:
    """A table column heading: one language only (Chinese unless ``GEOGRID_LANG=en``), so columns stay narrow."""
    zh = ZH.get(template)
    return template if zh is None or _lang() == "en" else zh


def join(items: Iterable[object], en: str = ", ", zh: str = "、") -> Text:
    """Items joined with a separator per language (Texts contribute their own language)."""
    items = list(items)
    return Text(en.join(str(_in(i, "en")) for i in items), zh.join(str(_in(i, "zh")) for i in items))


def _in(value: object, lang: str) -> object:
    """``value`` as it reads in ``lang``: a Text's English or Chinese, a list joined, anything else as is."""
    if isinstance(value, list | tuple):
        value = join(value)
    if isinstance(value, Text):
        return value.zh if lang == "zh" and value.zh is not None else value.en
    return value


def _fill(template: str, values: dict[str, object], lang: str) -> str | None:
    """``template`` formatted in ``lang``; None when the template and the values do not fit (a bug, not a crash)."""
    try:
        return template.format(**{k: _in(v, lang) for k, v in values.items()})
    except (KeyError, IndexError, ValueError, TypeError, AttributeError):
        return None
