"""The presence our JIDs show members (ADP-4).

The bot and the routing addresses are available; each interaction has a contact JID whose
presence is that interaction's state.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from adapters.xmpp.convert import PLATFORM, interaction_presence

if TYPE_CHECKING:
    from adapters.xmpp.connection import Connection
    from bot.core import Core


class Contacts:
    """Subscriptions to members, and what each of our JIDs last showed each member."""

    def __init__(self, core: Core, link: Connection, me: str) -> None:
        self.core = core
        self.link = link
        self.me = me
        self.shown: dict[str, dict[str, tuple[str, str | None, str]]] = {}
        self.subscribed: set[str] = set()

    def forget(self) -> None:
        """The session ended: subscriptions and shown presence start afresh on the next one."""
        self.subscribed.clear()
        self.shown.clear()

    def subscribe(self, jid: str) -> None:
        """Ask for a member's presence (once per session) and show ours (ADP-4)."""
        if jid in self.subscribed or not self.link.connected:
            return
        self.subscribed.add(jid)
        self.link.stream.send_presence(pto=jid, pfrom=self.me, ptype="subscribe")
        if not self.link.client_mode:
            self.send_presence(jid, self.me, "available", None, "backline")

    def show_interaction(self, jid: str, iid: str) -> None:
        """Interaction ``iid``'s contact JID shows its state as presence (ADP-4)."""
        ix = self.core.engine.live.get(iid)
        member = self.core.directory.identify(PLATFORM, jid)
        party = ix.party(f"@{member.id}") if ix is not None and member is not None else None
        if ix is None or (party is not None and not party.connected):
            view = interaction_presence(iid, "closed", live=False)
        else:
            view = interaction_presence(ix.label, ix.state, ix.live)
        seen = self.shown.setdefault(jid, {})
        if seen.get(iid) == view or (iid not in seen and view[0] == "unavailable"):
            return
        seen[iid] = view
        if view[0] == "unavailable":
            del seen[iid]
        self.send_presence(jid, f"{iid}@{self.me}", *view)

    def refresh_contacts(self, jid: str) -> None:
        """Re-show every interaction contact of ``jid`` (after a command may have changed it)."""
        for iid in list(self.shown.get(jid, {})):
            self.show_interaction(jid, iid)

    def answer_probe(self, jid: str, ours: str) -> None:
        """Tell a prober how one of our JIDs is (the bot, an interaction, an address)."""
        node = ours.partition("@")[0] if "@" in ours else ""
        if node.startswith("i") and node[1:].isdigit():
            self.shown.get(jid, {}).pop(node, None)
            self.show_interaction(jid, node)
        else:
            self.send_presence(jid, ours, "available", None, "backline")

    def send_presence(
        self, to: str, frm: str, ptype: str, show: str | None = None, status: str = ""
    ) -> None:
        """Send a presence from one of our JIDs (dropped while disconnected: it is a view)."""
        if not self.link.connected or self.link.stream is None:
            return
        pres = self.link.stream.make_presence(pto=to, pfrom=frm, pstatus=status or None)
        if ptype != "available":
            pres["type"] = ptype
        if show:
            pres["show"] = show
        pres.send()
