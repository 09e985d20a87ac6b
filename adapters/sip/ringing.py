"""Ringing members' phones (ADP-5; INT-2, INT-3, DIR-3): our INVITE to a registered phone.

An offer rings the member's phone: its 200 is the member's ``accept``, a 486/600/603 their
``decline``; an offer withdrawn is CANCELled (a 200 racing the CANCEL is hung up). An
INVITE nobody answered (408: every datagram lost, or the phone away) rings again while the
engine still wants that phone. A connected member without a leg (click-to-dial, the
consultant of a warm transfer) is called the same way, without an accept.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from adapters.sip.dialogs import Dialog, outbound, target_of
from adapters.sip.message import Message, address
from adapters.sip.sdp import describe
from bot.port import VoiceCall

if TYPE_CHECKING:
    from adapters.sip.calls import Calls

log = logging.getLogger("backline.sip")
DECLINES = (486, 600, 603)


@dataclass
class Ringing:
    """An INVITE we sent to a member's phone, not answered yet."""

    dialog: Dialog
    member: str
    iid: str
    task: asyncio.Future[Any] | None = None
    cancelled: bool = False
    answered: bool = False  # the phone said 200: the member's accept is on its way


class Ringer:
    """The phones being rung now, one INVITE per member at a time."""

    def __init__(self, calls: Calls) -> None:
        self.calls = calls
        self.ringing: dict[str, Ringing] = {}  # by member id

    def ring(self, member: str, call: VoiceCall, *, offer: bool) -> None:
        """Call ``member``'s registered phone for ``call`` (``offer``: its 200 is their accept)."""
        calls = self.calls
        handle = calls.port.handle_of(member)
        binding = calls.registrar.binding(handle) if handle else None
        if handle is None or binding is None:
            return  # not on a phone now: the offer rings on chat only
        iid = call.iid
        log.info("sip: ringing @%s for %s", member, iid)
        name = call.customer.split(":", 1)[1] if call.customer else "backline"
        dialog = outbound(
            calls.stack,
            binding.contact,
            target_of(binding.contact, binding.source),
            who=f"@{member}",
            iid=iid,
            caller=name,
        )
        ring = Ringing(dialog, member, iid)
        self.ringing[member] = ring
        ring.task = calls.spawn(self._call_phone(ring, handle, offer=offer))

    async def _call_phone(self, ring: Ringing, handle: str, *, offer: bool) -> None:
        calls = self.calls
        dialog = ring.dialog
        rtp = await calls.media.open_leg(dialog.leg)
        calls.rtp_ports[dialog.leg] = rtp
        invite = dialog.request(calls.stack, "INVITE", describe(calls.stack.host, rtp))
        dialog.invite = invite
        calls.dialogs.add(dialog)
        final = await calls.stack.request(invite, dialog.peer)
        ring.answered = final.status < 300 and not ring.cancelled
        if final.status >= 300:
            log.info("sip: phone of @%s answered %d for %s", ring.member, final.status, ring.iid)
        if not ring.answered and self.ringing.get(ring.member) is ring:
            del self.ringing[ring.member]
        if final.status >= 300 or ring.cancelled:
            if 200 <= final.status < 300:  # answered as we cancelled: hang it up
                self.confirm(dialog, final)
                calls.stack.request(dialog.request(calls.stack, "BYE"), dialog.peer)
            await calls.close(dialog)
            if offer and final.status in DECLINES and not ring.cancelled:
                await calls.command(handle, f"decline {ring.iid}")
            elif final.status == 408 and not ring.cancelled:  # no answer came (lost datagrams)
                calls.changed(frozenset({ring.iid}))  # ring the phone again while it is wanted
            return
        self.confirm(dialog, final)
        try:
            if offer:
                outcome = await calls.command(handle, f"accept {ring.iid}")
                if outcome != "ok":
                    await calls.hang_up(dialog)
        finally:
            if self.ringing.get(ring.member) is ring:
                del self.ringing[ring.member]
            calls.changed(frozenset({ring.iid}))

    def confirm(self, dialog: Dialog, final: Message) -> None:
        """Our INVITE was answered: ACK it, learn the peer's tag, target and SDP."""
        dialog.remote_tag = final.to_tag
        contact = address(final.get("Contact"))[1]
        if contact:
            dialog.remote_target = contact
        dialog.confirmed = True
        stack = self.calls.stack
        stack.send(dialog.ack(stack, dialog.local_cseq), dialog.peer)
        self.calls.connect(dialog, final.body)

    def cancel(self, ring: Ringing) -> None:
        """The offer no longer rings this phone: CANCEL our INVITE."""
        calls = self.calls
        ring.cancelled = True
        del self.ringing[ring.member]
        calls.dialogs.drop(ring.dialog)  # the member may be rung again at once
        invite = ring.dialog.invite
        if invite is not None:
            calls.stack.cancel(invite, ring.dialog.peer)  # the INVITE's own answer follows
