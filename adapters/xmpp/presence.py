"""Presence in (ADP-4): subscriptions, probes, members' availability and customers leaving."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from adapters.xmpp.convert import (
    PLATFORM,
    Outgoing,
    bare,
    domain,
    effective_show,
    presence_command,
    presence_show,
)
from bot.directory.presence import PresenceState
from bot.dispatch.turn import Turn
from bot.events import Command

if TYPE_CHECKING:
    from adapters.xmpp.config import XmppConfig
    from adapters.xmpp.contacts import Contacts
    from adapters.xmpp.customers import Customers
    from adapters.xmpp.outlet import Outlet
    from bot.core import Core

PRESENCE_STATES = {
    "ready": PresenceState.READY,
    "notready": PresenceState.NOT_READY,
    "logout": PresenceState.LOGGED_OFF,
}


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
        core: Core,
        config: XmppConfig,
        me: str,
        *,
        outlet: Outlet,
        contacts: Contacts,
        customers: Customers,
    ) -> None:
        self.core = core
        self.config = config
        self.client_mode = config.mode == "client"
        self.me = me
        self.outlet = outlet
        self.contacts = contacts
        self.customers = customers
        self.resources: dict[str, dict[str, str]] = {}  # member JID -> resource -> show
        self.applied: dict[str, str] = {}  # member JID -> the show last applied

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
        member = self.core.directory.identify(PLATFORM, sender)
        if member is None:
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
        text = presence_command(now, self.config.presence_map())
        if text is None:
            return
        member = self.core.directory.identify(PLATFORM, jid)
        if member is not None:
            current = self.core.directory.presence(member.id).state
            if PRESENCE_STATES[text.split()[0]] == current and " " not in text:
                return

        async def refused(turn: Turn) -> None:
            if turn.outcome != "ok" and turn.reply:
                self.outlet.emit(Outgoing(jid, self.me, "chat", turn.reply))

        await self.core.handle(Command(PLATFORM, jid, text), refused)
