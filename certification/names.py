"""A person's name typed by a relative (issue 13 item 12).

The name goes into an official SMS to the pensioner ("{helper}（女儿）为您代办了…"),
so free text there could carry a phishing line ("请速回电 1xx…", a link). Only a short
name made of Chinese characters (with the middle dot of minority names, 买买提·艾力) or
of Latin letters (with single spaces, hyphens or apostrophes between parts) is accepted.
"""

from __future__ import annotations

import re
import unicodedata

MAX_CHINESE = 15  # long minority names with a middle dot, e.g. 阿卜杜热西提·阿卜杜拉 (11)
MAX_LATIN = 30

_HAN = r"[\u3400-\u4dbf\u4e00-\u9fff]"
_CHINESE = re.compile(rf"{_HAN}+(?:[·•]{_HAN}+){{0,2}}")
_LATIN = re.compile(r"[A-Za-z]+(?:[ '\-][A-Za-z]+){0,4}")


def normalize(name: str) -> str:
    # Full-width letters and spaces become plain ones; the dot variants become one.
    text = unicodedata.normalize("NFKC", name or "").strip()
    return re.sub(r"\s+", " ", text).replace("•", "·").replace("・", "·")


def is_valid(name: str) -> bool:
    text = normalize(name)
    if _CHINESE.fullmatch(text):
        return len(text) <= MAX_CHINESE
    if _LATIN.fullmatch(text):
        return 2 <= len(text) <= MAX_LATIN
    return False


def for_sms(name: str, fallback: str) -> str:
    """The name if it is a valid one, else the neutral fallback ("您的亲属")."""
    return normalize(name) if is_valid(name) else fallback


MAX_RELATIONSHIP = 6  # 儿子, 女儿, 外孙女, 儿媳妇 …


def relationship_for_sms(relationship: str) -> str:
    """A kinship word (a few Chinese characters) as typed; anything else reads as the neutral 亲属.
    The web form offers a fixed list; the API takes free text."""
    text = normalize(relationship)
    return text if re.fullmatch(rf"{_HAN}{{1,{MAX_RELATIONSHIP}}}", text) else "亲属"
