"""The presence our JIDs show members (ADP-4).

The bot and the routing addresses are available; each interaction has a contact JID whose
presence is that interaction's state, as the port's interaction view tells it.
"""

from __future__ import annotations

from collections.abc import Iterable, Set
from typing import TYPE_CHECKING

from adapters.xmpp.convert import (
    BOT_LOCALPARTS,
    INTERACTION,
    bare,
    domain,
    interaction_presence,
    localpart,
    routing_target,
)
from adapters.xmpp.wire import xml_safe

if TYPE_CHECKING:
    from adapters.xmpp.connection import Connection
    from adapters.xmpp.roster import Roster
    from bot.port import Port

Shown = tuple[str, str | None, str]  # (type, show, status)


class Contacts:
    """Subscriptions to members, and what each of our JIDs last showed each member."""

    def __init__(self, port: Port, link: Connection, me: str, roster: Roster) -> None:
        self.port = port
        self.link = link
        self.me = me
        self.roster = roster
        self.shown: dict[str, dict[str, Shown]] = {}  # member JID -> iid -> shown
        self.viewers: dict[str, dict[str, None]] = {}  # iid -> member JIDs shown it, in order
        self.subscribed: set[str] = set()

    def forget(self) -> None:
        """The session ended: subscriptions and shown presence start afresh on the next one."""
        self.subscribed.clear()
        self.shown.clear()
        self.viewers.clear()

    def subscribe(self, jid: str) -> None:
        """Ask for a member's presence (once per session) and show ours (ADP-4).

        A member already subscribed is answered by their server with their presence, so a
        restarted backline learns who is online at once.
        """
        if jid in self.subscribed or not self.link.connected:
            return
        self.subscribed.add(jid)
        self.send_presence(jid, self.me, "subscribe")
        if not self.link.client_mode:
            self.send_presence(jid, self.me, "available", None, "backline")
            if self.roster.we_see(self.me, jid):  # unsubscribed, a probe would deny our request
                self.send_presence(jid, self.me, "probe")  # their presence now

    def exists(self, ours: str) -> bool:
        """Whether one of our JIDs names something: the bot, an interaction, a known target."""
        if self.link.client_mode:
            return bare(ours) == self.me
        if domain(ours) != self.me:
            return False
        node = localpart(ours)
        if node in BOT_LOCALPARTS:
            return True
        if INTERACTION.match(node):
            return self.port.interaction_view(node, None) is not None
        target = routing_target(node)
        return target is not None and self.port.knows_target(target)

    def view(self, jid: str, iid: str) -> Shown:
        """How interaction ``iid`` looks to the member at ``jid`` now."""
        member = self.port.member(jid)
        now = self.port.interaction_state(iid, member.id if member else None)
        if now is None or now.left:
            return interaction_presence(iid, "closed", live=False)
        return interaction_presence(now.label, now.state, now.live)

    def show_interaction(self, jid: str, iid: str) -> None:
        """Interaction ``iid``'s contact JID shows its state as presence (ADP-4)."""
        view = self.view(jid, iid)
        seen = self.shown.setdefault(jid, {})
        if seen.get(iid) == view or (iid not in seen and view[0] == "unavailable"):
            return
        if view[0] == "unavailable":
            self._unseen(jid, iid)
        else:
            seen[iid] = view
            self.viewers.setdefault(iid, {})[jid] = None
        self.send_presence(jid, f"{iid}@{self.me}", *view)

    def _unseen(self, jid: str, iid: str) -> None:
        self.shown.get(jid, {}).pop(iid, None)
        viewers = self.viewers.get(iid)
        if viewers is not None:
            viewers.pop(jid, None)
            if not viewers:
                del self.viewers[iid]

    def refresh(self, touched: Iterable[str], done: Set[tuple[str, str]] = frozenset()) -> None:
        """Re-show the interactions a commit changed to every member who was shown them.

        ``done`` are the (member, interaction) pairs already shown for this commit.
        """
        for iid in touched:
            for jid in list(self.viewers.get(iid, ())):
                if (jid, iid) not in done:
                    self.show_interaction(jid, iid)

    def answer_probe(self, jid: str, ours: str) -> None:
        """Tell a prober how one of our JIDs is (the bot, an interaction, an address)."""
        node = ours.partition("@")[0] if "@" in ours else ""
        if node.startswith("i") and node[1:].isdigit():
            self._unseen(jid, node)
            self.show_interaction(jid, node)
        else:
            self.send_presence(jid, ours, "available", None, "backline")

    def send_presence(
        self, to: str, frm: str, ptype: str, show: str | None = None, status: str = ""
    ) -> None:
        """Send a presence from one of our JIDs (dropped while disconnected: it is a view)."""
        stream = self.link.stream
        if not self.link.connected or stream is None:
            return
        pres = stream.make_presence(pto=to, pfrom=frm, pstatus=xml_safe(status) or None)
        if ptype != "available":
            pres["type"] = ptype
        if show:
            pres["show"] = show
        pres.send()

    def refuse(self, to: str, frm: str, condition: str = "item-not-found") -> None:
        """Answer a presence for one of our JIDs that names nothing with a stanza error."""
        stream = self.link.stream
        if not self.link.connected or stream is None:
            return
        pres = stream.make_presence(pto=to, pfrom=frm, ptype="error")
        pres["error"]["type"] = "cancel"
        pres["error"]["condition"] = condition
        pres.send()
