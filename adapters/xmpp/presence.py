"""Presence in (ADP-4): subscriptions, probes, members' availability, customers going offline.

Subscriptions and probes are answered from the durable roster (``roster``), never with
``unsubscribed``; our JIDs that name nothing answer ``item-not-found``. A member going
offline starts ``routing.offline_grace`` and holds their messages; back, they get them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from adapters.xmpp.convert import (
    StanzaOut,
    bare,
    domain,
    effective_show,
    presence_show,
    presence_state,
)
from bot.port import CommandError

SUBSCRIPTIONS = frozenset({"subscribe", "subscribed", "unsubscribe", "unsubscribed"})

if TYPE_CHECKING:
    from adapters.xmpp.config import XmppConfig
    from adapters.xmpp.contacts import Contacts
    from adapters.xmpp.customers import Customers
    from adapters.xmpp.outlet import Outlet
    from adapters.xmpp.roster import Roster
    from bot.port import Port


@dataclass(frozen=True)
class PresenceIn:
    """The fields of a ``<presence/>`` the adapter read."""

    frm: str
    to: str
    type: str
    show: str | None
    status: str = ""


class Presence:
    """Answers presence stanzas and maps members' XMPP availability to backline presence."""

    def __init__(
        self,
        port: Port,
        config: XmppConfig,
        me: str,
        *,
        outlet: Outlet,
        contacts: Contacts,
        customers: Customers,
        roster: Roster,
    ) -> None:
        self.port = port
        self.config = config
        self.client_mode = config.mode == "client"
        self.me = me
        self.outlet = outlet
        self.contacts = contacts
        self.customers = customers
        self.roster = roster
        self.resources: dict[str, dict[str, str]] = {}  # member JID -> resource -> show
        self.applied: dict[str, str] = {}  # member JID -> the show last applied

    def forget(self) -> None:
        """The session ended: what members' resources showed is relearned on the next one."""
        self.resources.clear()
        self.applied.clear()

    async def on_presence(self, pres: PresenceIn) -> None:
        """Subscriptions, probes, members' availability and customers going offline."""
        if bare(pres.frm) == self.me or (not self.client_mode and domain(pres.frm) == self.me):
            return  # our own presence: never answered (no loops)
        sender, ours = bare(pres.frm), bare(pres.to)
        if pres.type in SUBSCRIPTIONS or pres.type == "probe":
            await self.subscription(sender, ours, pres.type)
            return
        show = presence_show(pres.type, pres.show)
        if show is None:
            return
        if self.port.member(sender) is None:
            if ours != self.me:
                await self.customers.presence(sender, online=show != "unavailable")
            return
        if ours != self.me:
            return  # directed presence to an interaction contact: not their availability
        await self.member_presence(sender, pres.frm, show)

    async def subscription(self, jid: str, ours: str, kind: str) -> None:
        """Answer from the durable roster; our JIDs that name nothing say ``item-not-found``."""
        if not self.contacts.exists(ours):
            if kind in ("subscribe", "probe"):
                self.contacts.refuse(jid, ours)
            return
        if kind == "subscribe":
            await self.roster.set(ours, jid, sees_us=True)
            self.contacts.send_presence(jid, ours, "subscribed")
            self.contacts.answer_probe(jid, ours)
        elif kind == "unsubscribe":
            await self.roster.set(ours, jid, sees_us=False)
            self.contacts.send_presence(jid, ours, "unsubscribed")
        elif kind in ("subscribed", "unsubscribed"):
            await self.roster.set(ours, jid, we_see=kind == "subscribed")
        else:  # a probe: never answered "unsubscribed", which would revoke a member's
            self.contacts.answer_probe(jid, ours)

    async def member_presence(self, jid: str, full: str, show: str) -> None:
        """Map a member's XMPP availability to backline presence by the rule table."""
        resource = full.partition("/")[2]
        resources = self.resources.setdefault(jid, {})
        if show == "unavailable":
            resources.pop(resource, None)
        elif resource:
            resources[resource] = show
        now = effective_show(resources)
        if self.applied.get(jid) == now:
            return
        was = self.applied.get(jid)
        self.applied[jid] = now
        if now == "unavailable":
            self.outlet.offline.add(jid)
            await self.port.member_offline(jid, offline=True)
        elif was == "unavailable" or jid in self.outlet.offline or self.outlet.parked.waiting(jid):
            await self.outlet.release(jid)
            await self.port.member_offline(jid, offline=False)
        mapped = presence_state(now, self.config.presence_map())
        if mapped is None:
            return
        try:
            await self.port.presence(jid, *mapped)
        except CommandError as exc:
            self.outlet.emit(StanzaOut(jid, self.me, "chat", exc.message))
