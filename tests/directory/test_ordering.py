"""DIR-1: search entries keep rowids in name order as members come, go and are renamed."""

from __future__ import annotations

from bot.directory.ordering import GAP, index_changes, name_key, order_key, spaced
from bot.directory.search import Entry


def entry(ref: str, name: str) -> Entry:
    return Entry(ref, "member", name, (ref[1:],))


def test_added_and_renamed_entries_land_between_their_neighbours() -> None:
    old = {e.ref: e for e in (entry("@a", "Ann"), entry("@c", "Cy"), entry("@e", "Eve"))}
    rowids = {e.ref: n for n, e in spaced(old.values())}
    new = {**old, "@b": entry("@b", "Bea"), "@e": entry("@e", "Abe"), "@z": entry("@z", "Zoe")}
    names = {e.ref: e.name for e in new.values()}
    changes = index_changes(old, new, rowids, lambda ref: name_key(names[ref], ref))
    assert changes is not None
    by_rowid = sorted(changes.rowids, key=changes.rowids.__getitem__)
    assert by_rowid == sorted(new, key=lambda ref: order_key(new[ref]))
    assert changes.rowids["@a"] == rowids["@a"] and changes.rowids["@c"] == rowids["@c"]
    assert changes.deleted == [rowids["@e"]]


def test_no_room_between_neighbours_asks_for_a_whole_index() -> None:
    old = {"@a": entry("@a", "Ann"), "@c": entry("@c", "Cy")}
    rowids = {"@a": GAP, "@c": GAP + 1}
    new = {**old, "@b": entry("@b", "Bea")}
    names = {e.ref: e.name for e in new.values()}
    assert index_changes(old, new, rowids, lambda ref: name_key(names[ref], ref)) is None
