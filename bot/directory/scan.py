"""Search without the index: the same tiers, read from memory while the index is built.

A first start answers as soon as the members are known; the full-text index is written
after, by a worker. Until it is done, ``find`` asks this: the index's three tiers worked
out over every entry in rowid (name) order, matching as the index matches. Exact keys are
the lowercased name, id and handles; a prefix is the start of a word as FTS5's
``unicode61 remove_diacritics 2`` tokenizer cuts and folds words; "contains" is a
case-insensitive substring of the indexed words, as the trigram tokenizer finds one.

It costs tens of milliseconds a query at 100,000 members, against well under one for
the index, for the few seconds the build takes.
"""

from __future__ import annotations

import bisect
import itertools
import re
import unicodedata
from collections.abc import Iterator, Sequence

from bot.directory.search import TRIGRAM_MIN, Entry, key_rows, tokens

_TOKEN = re.compile(r"[^\W_]+")  # letters and digits: unicode61's token characters


def fold(text: str) -> str:
    """Lowercase, without diacritics, as ``unicode61 remove_diacritics 2`` folds a token."""
    lowered = text.lower()
    if lowered.isascii():
        return lowered
    split = unicodedata.normalize("NFD", lowered)
    marks: dict[str, str | int | None] = {c: None for c in set(split) if unicodedata.combining(c)}
    return split.translate(str.maketrans(marks)) if marks else split


_SEPARATORS = re.compile(r"(?:[^\w\x00]|_)+")  # what unicode61 cuts words at, \x00 kept


def word_lines(texts: list[str]) -> list[str]:
    """Each text's folded words, each after a space: `` ada lovelace ada``.

    All texts are folded and cut in one pass over one string (100,000 of them at C speed).
    """
    if not texts:
        return []
    joined = _SEPARATORS.sub(" ", fold(Joined.SEP.join(texts)))
    return (" " + joined.replace(Joined.SEP, Joined.SEP + " ")).split(Joined.SEP)


def word_line(text: str) -> str:
    """One text's folded words, each after a space."""
    return word_lines([text])[0]


def lowered(texts: list[str]) -> list[str]:
    """Each text lowercased (in one call for all of them)."""
    return Joined.SEP.join(texts).lower().split(Joined.SEP) if texts else []


class Joined:
    """Many values in one string, so one ``str.find`` looks through all of them at C speed."""

    SEP = "\x00"

    def __init__(self, values: list[str]) -> None:
        self.values = values
        self.text = ""
        self.ends: list[int] = []  # where each value's separator ends
        self._join()

    def _join(self) -> None:
        self.text = "".join(value + self.SEP for value in self.values)
        self.ends = list(itertools.accumulate(len(value) + 1 for value in self.values))

    def replace(self, position: int, value: str) -> None:
        """Change one value (the whole string is joined again: a rare change)."""
        self.values[position] = value
        self._join()

    def hits(self, needle: str) -> Iterator[int]:
        """The position of each value that contains ``needle``, in order."""
        if not needle or self.SEP in needle:
            return
        text, ends = self.text, self.ends
        at = text.find(needle)
        while at >= 0:
            position = bisect.bisect_right(ends, at)
            yield position
            at = text.find(needle, ends[position])


class MemoryScan:
    """Every entry's exact keys, folded words and lowercased text, in rowid order."""

    def __init__(self, rows: Sequence[tuple[int, Entry]]) -> None:
        self.entries = [entry for _, entry in rows]
        self.refs = [entry.ref for entry in self.entries]
        self.positions = {ref: position for position, ref in enumerate(self.refs)}
        words = [entry.words for entry in self.entries]
        self.lines = Joined(word_lines(words))
        self.texts = Joined(lowered(words))
        self.keys: dict[str, list[int]] = {}
        keys = [key for entry in self.entries for key in (entry.name, *entry.keys)]
        owners = [n for n, entry in enumerate(self.entries) for _ in range(1 + len(entry.keys))]
        for key, position in zip(lowered(keys), owners, strict=True):
            self.keys.setdefault(key, []).append(position)

    def replace(self, entry: Entry) -> None:
        """Search ``entry`` as it is now (a member linked to a new handle)."""
        position = self.positions.get(entry.ref)
        if position is None:
            return
        for key, _ in key_rows(position, self.entries[position]):
            self.keys[key].remove(position)
        for key, _ in key_rows(position, entry):
            self.keys.setdefault(key, []).append(position)
        self.entries[position] = entry
        self.lines.replace(position, word_line(entry.words))
        self.texts.replace(position, entry.words.lower())

    def exact(self, text: str, limit: int) -> list[str]:
        """Refs whose name, id or handle equals ``text``, once per key that does."""
        found = sorted(self.keys.get(text.strip().lower(), ()))
        return [self.refs[n] for n in found[:limit]]

    def prefix(self, text: str, limit: int) -> list[str]:
        """Refs where every query word starts some word of the entry, alphabetical.

        A query word the tokenizer cuts in several (``o_brien``) is a phrase: its parts
        in a row, the last one a prefix, as FTS5 reads ``"o_brien"*``.
        """
        phrases = [" " + " ".join(_TOKEN.findall(fold(word))) for word in tokens(text)]
        phrases = sorted({p for p in phrases if p != " "}, key=len, reverse=True)
        if not phrases:
            return []
        lines = self.lines.values
        found = (n for n in self.lines.hits(phrases[0]) if all(p in lines[n] for p in phrases))
        return [self.refs[n] for n in itertools.islice(found, limit)]

    def contains(self, text: str, limit: int) -> list[str]:
        """Refs whose indexed text contains ``text`` anywhere (3+ characters)."""
        query = text.strip().lower()
        if len(query) < TRIGRAM_MIN:
            return []
        return [self.refs[n] for n in itertools.islice(self.texts.hits(query), limit)]
