"""The address book: outside parties keyed by ``(platform, full address)``, durably.

Two customers whose names or local parts agree (``carol@a.test``, ``carol@b.test``) get
different party names, and a restart finds each one's address again, so replies reach the
right customer before they write again.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.port.types import Address
from bot.storage import Store

MAX_NAME = 40
_NOT_NAME = re.compile(r"[^\w.-]+")


@dataclass(frozen=True)
class Entry:
    """One outside party."""

    name: str  # the party name: ``customer:NAME``
    display: str
    address: Address


class AddressBook:
    """Reads and writes ``addresses`` inside the caller's transaction; caches lookups."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._by_name: dict[str, Entry] = {}
        self._by_address: dict[tuple[str, str], Entry] = {}
        self.dirty = False  # written in the open transaction
        self.reload()

    def reload(self) -> None:
        """Read the book (on start, and after a rolled-back transaction)."""
        self._by_name, self._by_address, self.dirty = {}, {}, False
        for platform, address, name, display, via in self.store.conn.execute(
            "SELECT platform, address, name, display, via FROM addresses"
        ):
            self._keep(Entry(name, display, Address(platform, address, via)))

    def _keep(self, entry: Entry) -> None:
        self._by_name[entry.name] = entry
        self._by_address[(entry.address.platform, entry.address.address)] = entry

    def name_of(self, address: Address, display: str, now: float) -> str:
        """The party name of ``address``, adding it (or its new ``via``) to the book."""
        known = self._by_address.get((address.platform, address.address))
        if known is not None:
            if address.via and address.via != known.address.via:
                self.store.conn.execute(
                    "UPDATE addresses SET via = ? WHERE platform = ? AND address = ?",
                    (address.via, address.platform, address.address),
                )
                self._keep(Entry(known.name, known.display, address))
                self.dirty = True
            return known.name
        name = self._free_name(display or address.address)
        self.store.conn.execute(
            "INSERT INTO addresses (platform, address, name, display, via, at)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (address.platform, address.address, name, display or name, address.via, now),
        )
        self._keep(Entry(name, display or name, address))
        self.dirty = True
        return name

    def find(self, address: Address) -> str | None:
        """The party name of a known address."""
        known = self._by_address.get((address.platform, address.address))
        return known.name if known else None

    def address_of(self, name: str) -> Address | None:
        """Where the customer ``name`` is."""
        entry = self._by_name.get(name)
        return entry.address if entry else None

    def _free_name(self, wanted: str) -> str:
        base = (
            _NOT_NAME.sub("-", wanted.split("@", maxsplit=1)[0]).strip("-.")[:MAX_NAME]
            or "customer"
        )
        name, n = base, 1
        while name in self._by_name:
            n += 1
            name = f"{base}{n}"
        return name
