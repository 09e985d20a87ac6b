"""Search without the index: the same tiers, read from memory while the index is built.

A first start answers as soon as the members are known; the full-text index is written
after, by a worker. Until it is done, ``find`` asks this: the index's three tiers worked
out over every entry in rowid (name) order, matching as the index matches. Exact keys are
the lowercased name, id and handles; a prefix is the start of a word as FTS5's
``unicode61 remove_diacritics 2`` tokenizer cuts and folds words; "contains" is a
case-insensitive substring of the indexed words, as the trigram tokenizer finds one.

It is made from the whole ``EntryTable`` before a large first start answers, so ``find``
never waits for the worker that writes the index. It costs a few milliseconds a query
at 100,000 members, against well under one for the index, for the few seconds the build
takes.
"""

from __future__ import annotations

import bisect
import itertools
import operator
import re
import unicodedata
from collections.abc import Iterator

from bot.directory.search import TRIGRAM_MIN, Entry, entry_words, tokens
from bot.directory.table import EntryTable, lowered

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
# The same for ASCII text, at C speed: letters and digits (and \x00) kept, all else a space.
_ASCII_WORDS = bytes(c if chr(c).isalnum() or c == 0 else 0x20 for c in range(128)) + bytes(128)
_SPACES = re.compile(b"  +")


def word_lines(texts: list[str]) -> list[str]:
    """Each text's folded words, each after a space: `` ada lovelace ada``.

    All texts are folded and cut in one pass over one string (100,000 of them at C speed).
    """
    if not texts:
        return []
    folded = fold(Joined.SEP.join(texts))
    if folded.isascii():
        cut = _SPACES.sub(b" ", folded.encode("ascii").translate(_ASCII_WORDS))
        joined = cut.decode("ascii")
    else:
        joined = _SEPARATORS.sub(" ", folded)
    lines = (" " + joined.replace(Joined.SEP, Joined.SEP + " ")).split(Joined.SEP)
    return lines if len(lines) == len(texts) else list(map(word_line, texts))


def word_line(text: str) -> str:
    """One text's folded words, each after a space (a NUL in it cuts words, as unicode61's)."""
    return " " + _SEPARATORS.sub(" ", fold(text.replace(Joined.SEP, " ")))


class Joined:
    """Many values in one string, so one ``str.find`` looks through all of them at C speed."""

    SEP = "\x00"

    def __init__(self, values: list[str]) -> None:
        self.values = values
        self.text = ""
        self.ends: list[int] = []  # where each value's separator ends
        self._join()

    def _join(self) -> None:
        self.text = self.SEP.join(self.values) + self.SEP if self.values else ""
        lengths = itertools.accumulate(map(len, self.values))  # each value's end, less its SEPs
        self.ends = list(map(operator.add, lengths, itertools.count(1)))

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


KEY = "\x01"  # between an entry's exact keys (never in a name, id or handle)


def key_line(name: str, keys: tuple[str, ...]) -> str:
    """An entry's exact keys, each between two ``KEY`` marks (not yet lowercased)."""
    return KEY + KEY.join((name, *keys)) + KEY


def _marks(line: str) -> int:
    """How many marks a key line holds (one more than its keys, unless a key holds one)."""
    return line.count(KEY) + line.count(Joined.SEP)


class MemoryScan:
    """Every entry's exact keys, folded words and lowercased text, in rowid order.

    Made from a whole ``EntryTable`` at C speed (joins, one lowercasing, one translation
    of every word) in about a tenth of a second at 100,000 entries.
    """

    def __init__(self, table: EntryTable) -> None:
        self.refs = list(table.refs)
        self.positions = dict(zip(self.refs, range(len(self.refs)), strict=True))
        self.lines = Joined(word_lines(table.words))
        self.texts = Joined(lowered(table.words))
        lines = list(map(key_line, table.names, table.keys))
        # A key holding a mark itself (a linked handle might) is looked up one by one.
        self.odd: dict[int, tuple[str, ...]] = {}
        if sum(map(len, table.keys)) + 3 * len(lines) != _marks(Joined.SEP.join(lines)) + 1:
            for n, line in enumerate(lines):
                if _marks(line) != len(table.keys[n]) + 2:
                    self.odd[n] = tuple(map(str.lower, (table.names[n], *table.keys[n])))
                    lines[n] = ""
        self.keys = Joined(lowered(lines))

    def replace(self, entry: Entry) -> None:
        """Search ``entry`` as it is now (a member linked to a new handle)."""
        position = self.positions.get(entry.ref)
        if position is None:
            return
        words = entry_words(entry.name, entry.keys)
        line = key_line(entry.name, entry.keys)
        self.odd.pop(position, None)
        if _marks(line) != len(entry.keys) + 2:
            self.odd[position] = tuple(map(str.lower, (entry.name, *entry.keys)))
            line = ""
        self.keys.replace(position, line.lower())
        self.lines.replace(position, word_line(words))
        self.texts.replace(position, words.lower())

    def exact(self, text: str, limit: int) -> list[str]:
        """Refs whose name, id or handle equals ``text``, once per key that does."""
        query = text.strip().lower()
        found: list[int] = []
        if KEY not in query and Joined.SEP not in query:
            for n in self.keys.hits(KEY + query + KEY):
                found += [n] * self.keys.values[n].split(KEY).count(query)
                if len(found) >= limit and not self.odd:
                    break
        for n, keys in self.odd.items():
            found += [n] * keys.count(query)
        return [self.refs[n] for n in sorted(found)[:limit]]

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
