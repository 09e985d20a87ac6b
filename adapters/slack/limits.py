"""Block Kit's limits, enforced on escaped text: cut on grapheme boundaries, never mid-entity.

Slack rejects a whole message (``invalid_blocks``) when one field is too long, so every field
is bounded here after escaping: a cut never splits a combining sequence, an emoji with its
modifiers or ZWJ joins, a flag's pair of regional indicators, an entity (``&amp;``) or a
``<…>`` control sequence backline wrote (``<@U…>``); a cut text ends in "…".
"""

from __future__ import annotations

import unicodedata
from typing import Any

HEADER = 150
SECTION = 3_000  # a section's text, a context element's text
FIELD = 2_000
BUTTON = 75  # a button's or an option's text
PLACEHOLDER = 150
LABEL = 2_000
OPTIONS = 100
MESSAGE_BLOCKS = 50
VIEW_BLOCKS = 100
MESSAGE_TEXT = 40_000
ELLIPSIS = "…"
ZWJ = "\u200d"

Block = dict[str, Any]


def _extends(char: str) -> bool:
    """Whether ``char`` belongs to the grapheme before it (no cut may fall before it)."""
    code = ord(char)
    return (
        unicodedata.category(char) in ("Mn", "Me", "Mc")
        or char in ("\u200c", ZWJ)
        or 0x1F3FB <= code <= 0x1F3FF  # skin tone modifiers
        or 0xE0020 <= code <= 0xE007F  # tag sequences (subdivision flags)
        or 0x1160 <= code <= 0x11FF  # Hangul medial vowels and final consonants
    )


def _regional(char: str) -> bool:
    return 0x1F1E6 <= ord(char) <= 0x1F1FF


def _joined(text: str, at: int) -> bool:
    """Whether the characters either side of ``at`` are one grapheme."""
    char, before = text[at], text[at - 1]
    if _extends(char) or before == ZWJ or (before, char) == ("\r", "\n"):
        return True
    if not (_regional(char) and _regional(before)):
        return False
    run = 0  # regional indicators pair up from the start of their run
    while at - 1 - run >= 0 and _regional(text[at - 1 - run]):
        run += 1
    return run % 2 == 1


def _step_back(text: str, at: int, graphemes: bool) -> int:
    """``at`` if a cut may fall there, else an earlier position to try."""
    if graphemes and _joined(text, at):
        return at - 1
    amp = text.rfind("&", max(0, at - 4), at)
    if amp >= 0 and ";" not in text[amp:at]:
        return amp
    opened = text.rfind("<", 0, at)
    if opened >= 0 and ">" not in text[opened:at]:
        return opened
    return at


def boundary(text: str, at: int, graphemes: bool = True) -> int:
    """The last position at or before ``at`` where ``text`` may be cut.

    ``graphemes`` False keeps only entities and control sequences whole: the way out of a
    single "grapheme" longer than the limit (a pile of combining marks).
    """
    at = max(0, min(at, len(text)))
    while 0 < at < len(text):
        earlier = _step_back(text, at, graphemes)
        if earlier == at:
            break
        at = earlier
    return at


def clip(text: str, limit: int) -> str:
    """``text`` if it fits in ``limit`` characters, else ``shorten(text, limit)``."""
    return text if len(text) <= limit else shorten(text, limit)


def shorten(text: str, limit: int) -> str:
    """The longest whole-grapheme prefix of ``text`` that fits in ``limit`` with its "…"."""
    room = limit - len(ELLIPSIS)
    return text[: _cut(text, room)] + ELLIPSIS


def _cut(text: str, at: int) -> int:
    """Where to cut ``text`` at or before ``at``: whole graphemes if at all possible."""
    return boundary(text, at) or boundary(text, at, graphemes=False)


def split(text: str, limit: int) -> list[str]:
    """``text`` in pieces of at most ``limit`` characters, at a line break where one is near."""
    pieces: list[str] = []
    while len(text) > limit:
        cut = _cut(text, limit) or limit  # only a limit shorter than an entity gets here
        newline = text.rfind("\n", limit // 2, cut)
        cut = newline + 1 if newline > 0 else cut
        pieces.append(text[:cut])
        text = text[cut:]
    return [*pieces, text] if text or not pieces else pieces


def fit_blocks(blocks: list[Block], most: int = MESSAGE_BLOCKS) -> list[Block]:
    """The blocks within Slack's limits; past ``most`` blocks the rest is counted, not shown."""
    fitted = [fit_block(block) for block in blocks]
    if len(fitted) <= most:
        return fitted
    hidden = len(fitted) - most + 1
    more = {"type": "mrkdwn", "text": f"{ELLIPSIS} and {hidden} more not shown"}
    return [*fitted[: most - 1], {"type": "context", "elements": [more]}]


def fit_block(block: Block) -> Block:
    """One block with each of its texts and lists within Slack's limits."""
    fitted = dict(block)
    kind = block.get("type")
    if kind == "header":
        fitted["text"] = _text(block["text"], HEADER)
    elif kind == "section":
        if "text" in block:
            fitted["text"] = _text(block["text"], SECTION)
        if "fields" in block:
            fitted["fields"] = [_text(f, FIELD) for f in block["fields"][:10]]
        if "accessory" in block:
            fitted["accessory"] = _element(block["accessory"])
    elif kind == "context":
        fitted["elements"] = [_element(e, SECTION) for e in block["elements"][:10]]
    elif kind == "actions":
        fitted["elements"] = [_element(e) for e in block["elements"][:25]]
    elif kind == "input":
        fitted["label"] = _text(block["label"], LABEL)
        fitted["element"] = _element(block["element"])
    return fitted


def _text(obj: Block, limit: int) -> Block:
    return {**obj, "text": clip(str(obj.get("text", "")), limit)}


def _element(element: Block, text_limit: int = BUTTON) -> Block:
    if element.get("type") in ("mrkdwn", "plain_text"):
        return _text(element, text_limit)
    fitted = dict(element)
    if "text" in element:
        fitted["text"] = _text(element["text"], BUTTON)
    if "placeholder" in element:
        fitted["placeholder"] = _text(element["placeholder"], PLACEHOLDER)
    if "options" in element:
        fitted["options"] = [_option(o) for o in element["options"][:OPTIONS]]
    if "initial_option" in element:
        fitted["initial_option"] = _option(element["initial_option"])
    return fitted


def _option(option: Block) -> Block:
    return {**option, "text": _text(option["text"], BUTTON)}
