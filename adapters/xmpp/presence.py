"""Presence in (ADP-4): subscriptions, probes, members' availability and customers leaving."""

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

if TYPE_CHECKING:
    from adapters.xmpp.config import XmppConfig
    from adapters.xmpp.contacts import Contacts
    from adapters.xmpp.customers import Customers
    from adapters.xmpp.outlet import Outlet
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
    ) -> None:
        self.port = port
        self.config = config
        self.client_mode = config.mode == "client"
        self.me = me
        self.outlet = outlet
        self.contacts = contacts
        self.customers = customers
        self.resources: dict[str, dict[str, str]] = {}  # member JID -> resource -> show
        self.applied: dict[str, str] = {}  # member JID -> the show last applied

    def forget(self) -> None:
        """The session ended: what members' resources showed is relearned on the next one."""
        self.resources.clear()
        self.applied.clear()

    async def on_presence(self, pres: PresenceIn) -> None:
        """Subscriptions, probes, members' availability and customers leaving."""
        if bare(pres.frm) == self.me or (not self.client_mode and domain(pres.frm) == self.me):
            return  # our own presence: never answered (no loops)
        sender = bare(pres.frm)
        if pres.type == "subscribe":
            self.contacts.send_presence(sender, bare(pres.to), "subscribed")
            return
        if pres.type == "probe":
            self.contacts.answer_probe(sender, bare(pres.to))
            return
        show = presence_show(pres.type, pres.show)
        if show is None:
            return
        if self.port.member(sender) is None:
            if show == "unavailable" and bare(pres.to) != self.me:
                await self.customers.gone(sender)
            return
        if bare(pres.to) != self.me:
            return  # directed presence to an interaction contact: not their availability
        await self.member_presence(sender, pres.frm, show)

    async def member_presence(self, jid: str, full: str, show: str) -> None:
        """Map a member's XMPP availability to backline presence by the rule table."""
        resource = full.partition("/")[2]
        resources = self.resources.setdefault(jid, {})
        if show == "unavailable":
            resources.pop(resource, None)
        elif resource:
            resources[resource] = show
        now = effective_show(resources)
        if now != "unavailable":
            self.outlet.unpark(jid)
        if self.applied.get(jid) == now:
            return
        self.applied[jid] = now
        mapped = presence_state(now, self.config.presence_map())
        if mapped is None:
            return
        try:
            await self.port.presence(jid, *mapped)
        except CommandError as exc:
            self.outlet.emit(StanzaOut(jid, self.me, "chat", exc.message))
