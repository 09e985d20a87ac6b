"""What a desk phone does becomes the member's command (ADP-5; INT-4, CON-1, CON-7, TRF-1, TRF-2).

- A re-INVITE whose SDP goes ``sendonly``/``inactive`` is ``hold`` of the call the dialog
  carries; ``sendrecv`` again is ``resume``.
- A new INVITE from the phone of a member on a call is ``consult TARGET voice`` about that
  call: the phone hears ringing until the consultant answers, then gets our 200; the
  consultation ending first (declined, not answered) ends the INVITE with ``480``.
- A ``REFER`` (RFC 3515) is a blind ``transfer now`` to the number in ``Refer-To``; with
  ``Replaces`` (RFC 3891) naming the member's consultation dialog it completes that
  consultation as a warm ``transfer``. A Replaces that names no dialog is answered ``481``,
  one naming someone else's dialog ``403``. Progress goes back as NOTIFY
  ``message/sipfrag``; the dialogs stay up until the final NOTIFY is answered.

Whatever the rules refuse is refused to the phone with a SIP error whose reason phrase is
the engine's, and nothing changes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from adapters.sip.dialogs import Dialog, replaces_of
from adapters.sip.message import Message, address, response, uri_user
from adapters.sip.sdp import NotAcceptable, parse_offer
from adapters.sip.transactions import ServerTransaction
from bot.port import VoiceCall

if TYPE_CHECKING:
    from adapters.sip.calls import Calls

TALKING = ("active", "held")


@dataclass
class Consulting:
    """A phone's INVITE that started a consultation, not answered yet."""

    tx: ServerTransaction
    dialog: Dialog


def reason(text: str) -> str:
    """The engine's words as a SIP reason phrase: one line, at most 80 characters."""
    return " ".join(text.split())[:80] or "refused"


class PhoneActions:
    """A member's phone acting on its calls: hold, resume, consult, transfer."""

    def __init__(self, calls: Calls) -> None:
        self.calls = calls
        self.consulting: dict[str, Consulting] = {}  # by consultation

    # -- hold and resume --------------------------------------------------------------

    async def reinvite(self, msg: Message, tx: ServerTransaction, dialog: Dialog) -> None:
        """A new offer in a dialog: a phone's hold (sendonly/inactive) or resume.

        A call already in that state (the consultation ended and resumed it) is just
        answered: the phone catches up with the engine.
        """
        calls = self.calls
        try:
            remote = parse_offer(msg.body) if msg.body else dialog.remote
        except NotAcceptable as exc:
            tx.respond(response(msg, 488, str(exc)))
            return
        if remote is None:
            tx.respond(response(msg, 488, "no SDP"))
            return
        was_held = dialog.remote.on_hold if dialog.remote else False
        call = self.call_of(dialog)
        found = calls.voice.call(call) if call else None
        already = found is not None and found.state == ("held" if remote.on_hold else "active")
        if dialog.who.startswith("@") and remote.on_hold != was_held and not already:
            handle = calls.port.handle_of(dialog.who[1:]) or ""
            verb = "hold" if remote.on_hold else "resume"
            outcome = await calls.command(handle, f"{verb} {call}" if call else verb)
            if outcome != "ok":
                tx.respond(response(msg, 403, reason(calls.last_refusal)))
                return
        if msg.body:
            calls.connect(dialog, msg.body)
        tx.respond(calls.ok(msg, dialog, remote))

    def call_of(self, dialog: Dialog) -> str | None:
        """The call this leg of the member carries: its own, else the customer call."""
        own = self.calls.voice.call(dialog.iid) if dialog.iid else None
        leg = own.leg(dialog.who) if own else None
        if own is not None and own.live and leg is not None and leg.connected:
            return own.iid
        for iid in sorted(self.calls.tracked):
            call = self.calls.voice.call(iid)
            leg = call.leg(dialog.who) if call else None
            if call and call.kind == "voice" and leg is not None and leg.connected:
                return iid
        return None

    # -- the desk phone's consultation -----------------------------------------------

    def parent_for(self, member: str) -> VoiceCall | None:
        """The customer call ``member`` is connected to, which a new INVITE consults about."""
        for iid in sorted(self.calls.tracked):
            call = self.calls.voice.call(iid)
            leg = call.leg(f"@{member}") if call else None
            if call and call.kind == "voice" and call.state in TALKING and leg and leg.connected:
                return call
        return None

    async def consult(self, msg: Message, tx: ServerTransaction, handle: str, target: str) -> bool:
        """The phone of a member on a call dialled ``target``: their ``consult``.

        False when the member is on no call (the INVITE is an ordinary call then).
        """
        calls = self.calls
        member = calls.port.member(handle)
        parent = self.parent_for(member.id) if member else None
        if member is None or parent is None:
            return False
        dialog = await calls.member_leg(msg, tx, member.id)
        if dialog is None:
            return True
        reply = await calls.port.command(handle, f"consult {target} voice", context=parent.iid)
        consultation = next(
            (
                iid
                for iid in sorted(reply.touched)
                if (c := calls.voice.call(iid)) and c.kind == "consultation" and c.live
            ),
            None,
        )
        if reply.outcome != "ok" or consultation is None:
            await calls.close(dialog)
            tx.respond(response(msg, 403, reason(reply.text), to_tag=dialog.local_tag))
            return True
        dialog.iid = consultation
        calls.dialogs.add(dialog)
        self.consulting[consultation] = Consulting(tx, dialog)
        if not tx.done:
            tx.respond(response(msg, 180, to_tag=dialog.local_tag))
        calls.changed(frozenset({consultation}))
        return True

    async def follow(self, calls: dict[str, VoiceCall]) -> None:
        """Answer a phone's consultation once the consultant is on; refuse it if it ended."""
        for iid, pending in list(self.consulting.items()):
            call = calls.get(iid) or self.calls.voice.call(iid)
            initiator = call.leg(pending.dialog.who) if call else None
            over = call is None or not call.live or call.state not in ("queued", "offered")
            if not over:
                continue
            del self.consulting[iid]
            if call is not None and call.state in TALKING and initiator and initiator.connected:
                self.calls.answer(pending.tx, pending.dialog)
            else:
                request = pending.tx.request
                pending.tx.respond(
                    response(request, 480, "consultation ended", to_tag=pending.dialog.local_tag)
                )
                await self.calls.close(pending.dialog)

    def cancelled(self, tx: ServerTransaction) -> None:
        """The phone gave up its consultation before the consultant answered: ``end`` it."""
        for iid, pending in list(self.consulting.items()):
            if pending.tx is tx:
                del self.consulting[iid]
                tx.respond(response(tx.request, 487, to_tag=pending.dialog.local_tag))
                self.calls.spawn(self._withdraw(pending.dialog, iid))

    async def _withdraw(self, dialog: Dialog, iid: str) -> None:
        await self.calls.close(dialog)
        handle = self.calls.port.handle_of(dialog.who[1:])
        if handle is not None:
            await self.calls.command(handle, f"end {iid}")

    # -- transfers --------------------------------------------------------------------

    async def refer(self, msg: Message, tx: ServerTransaction, dialog: Dialog) -> None:
        """A phone's REFER (RFC 3515): a blind transfer, or an attended one with Replaces."""
        calls = self.calls
        handle = calls.port.handle_of(dialog.who[1:]) if dialog.who.startswith("@") else None
        refer_to = address(msg.get("Refer-To"))[1]
        if handle is None or not refer_to:
            tx.respond(response(msg, 403 if handle is None else 400, "cannot transfer this leg"))
            return
        try:
            replaces = replaces_of(refer_to)
        except ValueError as exc:
            tx.respond(response(msg, 400, str(exc)))
            return
        held = [dialog]
        if replaces is not None:  # RFC 3891 §3: its to-tag is our tag, its from-tag theirs
            replaced = calls.dialogs.replaced(replaces)
            if replaced is None or replaced is dialog:
                tx.respond(response(msg, 481, "Replaces names no other dialog"))
                return
            if replaced.who != dialog.who:
                tx.respond(response(msg, 403, "Replaces names a dialog that is not yours"))
                return
            held.append(replaced)
            text = f"transfer {replaced.iid}"
        else:
            target = calls.route(uri_user(refer_to.partition("?")[0]))
            if target is None:
                tx.respond(response(msg, 404, "no such number"))
                return
            text = f"transfer now {target}"
        tx.respond(response(msg, 202))
        for leg in held:
            leg.referring = True  # kept until the final NOTIFY is answered
        try:
            await self.notify(dialog, "SIP/2.0 100 Trying", active=True)
            outcome = await calls.command(handle, text)
            final = "SIP/2.0 200 OK" if outcome == "ok" else "SIP/2.0 603 Declined"
            await self.notify(dialog, final, active=False)
        finally:
            for leg in held:
                leg.referring = False
            calls.changed(frozenset(leg.iid for leg in held))

    async def notify(self, dialog: Dialog, fragment: str, *, active: bool) -> None:
        """One NOTIFY of a REFER's implicit subscription."""
        stack = self.calls.stack
        state = "active;expires=60" if active else "terminated;reason=noresource"
        notify = dialog.request(
            stack,
            "NOTIFY",
            f"{fragment}\r\n".encode(),
            Event="refer",
            Subscription_State=state,
        )
        notify.set("Content-Type", "message/sipfrag;version=2.0")
        await stack.request(notify, dialog.peer)
