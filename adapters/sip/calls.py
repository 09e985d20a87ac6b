"""The back-to-back user agent: the engine's voice interactions as SIP legs (ADP-5).

The engine owns the state; this module makes the legs follow it. ``sync`` reads each
touched call (``Port.voice``) and brings the dialogs in line: a ringing offer rings the
member's registered phone, a connected member without a leg is called, a customer whose
call is taken gets its ``200 OK``, parties no longer connected are hung up, and the media
``hears`` sets come from ``hearing``. Customers' INVITEs become arrivals, a BYE (or a 2xx
never ACKed) the party leaving. ``ringing`` rings members' phones (their ``accept`` and
``decline``); ``phone_actions`` turns what a phone does in its dialogs into the member's
commands (``hold``, ``resume``, ``consult``, ``transfer``), refused with a SIP error when
the rules refuse it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from adapters.sip.dialogs import Dialog, Dialogs, inbound
from adapters.sip.hearing import hearing
from adapters.sip.media import RtpPeer
from adapters.sip.media_api import Media
from adapters.sip.message import Message, address, response
from adapters.sip.phone_actions import PhoneActions
from adapters.sip.registrar import Registrar
from adapters.sip.ringing import Ringer
from adapters.sip.sdp import NotAcceptable, Remote, answer_direction, describe, parse_offer
from adapters.sip.transactions import ServerTransaction, Stack, tag
from adapters.sip.voicemail import Listener, Recorder
from bot.port import Address, CommandError, Port, VoiceCall, new_ref

log = logging.getLogger("backline.sip")
PLATFORM = "sip"
ENDED = ("wrapup", "closed", "ended")


class Calls:
    """Dialogs of customers and members' phones, kept in line with the engine."""

    def __init__(
        self,
        stack: Stack,
        port: Port,
        media: Media,
        registrar: Registrar,
        *,
        route: Callable[[str], str | None],
        recorder: Recorder,
    ) -> None:
        self.stack = stack
        self.route = route  # a dialled number → a backline target (the numbering plan)
        self.port = port
        self.voice = port.voice()
        self.media = media
        self.registrar = registrar
        self.dialogs = Dialogs()
        self.tracked: set[str] = set()  # interactions with legs
        self.customer_invites: dict[str, ServerTransaction] = {}  # by party, until answered
        self.rtp_ports: dict[str, int] = {}  # by media leg
        self.music: set[str] = set()  # legs hearing hold music
        self.mixed: dict[str, frozenset[str]] = {}  # by leg: the legs it was last told it hears
        self.last_refusal = ""  # the engine's reason for the last refused phone command
        self.recorder = recorder
        self.listener = Listener(port, media, self.command, self._spawn)
        self.phone = PhoneActions(self)
        self.ringer = Ringer(self)
        self._changes: set[str] = set()  # touched by commits, not applied yet
        self._wake: asyncio.Future[None] | None = None  # the idle worker, waiting for changes
        self._quiet = asyncio.Event()  # every change so far is applied
        self._quiet.set()
        self._tasks: set[asyncio.Future[Any]] = set()
        self._worker: asyncio.Task[None] | None = None

    # -- lifecycle ------------------------------------------------------------------------

    def start(self) -> None:
        """Start applying the engine's changes."""
        self._worker = asyncio.create_task(self._work(), name="sip-calls")
        self.media.on_dtmf(self._digit)

    async def stop(self) -> None:
        """Hang up every leg and stop."""
        for dialog in self.dialogs.all():
            if dialog.confirmed:
                self.stack.send(dialog.request(self.stack, "BYE"), dialog.peer)
        for task in [self._worker, *self._tasks]:
            if task is not None:
                task.cancel()

    def changed(self, touched: frozenset[str]) -> None:
        """A commit touched these interactions (called from ``send``; never blocks)."""
        if touched:
            self._changes |= touched
            self._quiet.clear()
            if self._wake is not None and not self._wake.done():
                self._wake.set_result(None)

    def held(self) -> dict[str, int]:
        """How much per-call state is kept now: all zero once every call is over."""
        return {
            "dialogs": len(self.dialogs),
            "dialog lookups": self.dialogs.indexed(),
            "calls followed": len(self.tracked),
            "callers not answered": len(self.customer_invites),
            "rtp legs": len(self.rtp_ports),
            "mixes": len(self.mixed),
            "legs on hold music": len(self.music),
            "phones ringing": len(self.ringer.ringing),
            "phone consultations": len(self.phone.consulting),
            "recordings": len(self.recorder.active),
            "voicemail sessions": len(self.listener.sessions),
            "tasks": len(self._tasks),
            "changes queued": len(self._changes),
        }

    async def settled(self) -> None:
        """Wait until every change so far has been applied (for tests and benchmarks)."""
        await self._quiet.wait()

    async def _work(self) -> None:
        """Apply the changes, all those waiting in one pass.

        ``sync`` reads the calls as they are now, so one pass over the union of the changes
        waiting does what a pass for each would.
        """
        loop = asyncio.get_running_loop()
        while True:
            if not self._changes:
                self._quiet.set()
                self._wake = loop.create_future()
                await self._wake
                self._wake = None
                continue
            touched, self._changes = frozenset(self._changes), set()
            try:
                await self.sync(touched)
            except Exception:
                log.exception("sip: applying a change failed ref=%s", new_ref())

    # -- the engine → the legs ----------------------------------------------------------

    async def sync(self, touched: frozenset[str] = frozenset()) -> None:
        """Bring every leg in line with the calls ``touched`` and those already tracked."""
        found = await self.voice.calls(touched | self.tracked)
        for iid, call in found.items():
            if call.live and iid in touched:
                self.tracked.add(iid)
                if call.parent:
                    self.tracked.add(call.parent)
        if missing := self.tracked - found.keys():  # a consultation's parent read the first time
            found.update(await self.voice.calls(missing))
        calls = {iid: found[iid] for iid in sorted(self.tracked) if iid in found}
        for call in calls.values():
            await self._customer(call)
        await self.phone.follow(calls)
        await self._members(list(calls.values()))
        self._mix(list(calls.values()))
        self.tracked -= {iid for iid, c in calls.items() if not c.live or c.state in ENDED}

    async def _customer(self, call: VoiceCall) -> None:
        """Answer the caller once a member is connected; hang up when the call is over."""
        if call.customer is None:
            return
        dialog = self.dialogs.of(call.customer)
        leg = call.leg(call.customer)
        over = not call.live or call.state in ENDED or leg is None or not leg.connected
        pending = self.customer_invites.get(call.customer)
        if over and pending is not None:
            del self.customer_invites[call.customer]
            pending.respond(self._refusal(pending.request, call, dialog))
            if dialog is not None:
                await self.close(dialog)
        elif over and dialog is not None and not self.recorder.recording(dialog):
            message = self.voice.left_message(call.iid) if dialog.answer else None
            if message is not None:  # sent to voicemail (TRF-6): the caller leaves a message
                self.recorder.start(dialog, message)
            else:
                await self.hang_up(dialog)
        elif pending is not None and dialog is not None and self._answered(call):
            del self.customer_invites[call.customer]
            self.answer(pending, dialog)
            if call.state == "recording":  # a call to vm:BOX: the message is the recording
                self.recorder.start(dialog, None)

    def _answered(self, call: VoiceCall) -> bool:
        if call.state == "recording":
            return True
        return call.state in ("active", "held") and any(
            leg.connected and leg.member for leg in call.legs
        )

    def _refusal(self, request: Message, call: VoiceCall, dialog: Dialog | None) -> Message:
        """486 when the member asked for is busy, 480 otherwise (nobody can take it)."""
        status = 480
        if call.target and call.target.startswith("@"):
            found = self.port.member_by_id(call.target[1:])
            status = 486 if found.presence.startswith("busy") else 480
        return response(request, status, to_tag=dialog.local_tag if dialog else tag())

    def answer(self, tx: ServerTransaction, dialog: Dialog) -> None:
        """Send the caller our 200 OK with SDP, retransmitted until the ACK (§13.3.1.4)."""
        ok = self.ok(tx.request, dialog)
        dialog.answer = ok
        tx.respond(ok)
        self._resend_later(dialog, self.stack.timers.t1, 0.0)

    def ok(self, request: Message, dialog: Dialog, remote: Remote | None = None) -> Message:
        """Our 200 OK to an INVITE in ``dialog``, with our SDP (answering ``remote``)."""
        ok = response(request, 200, to_tag=dialog.local_tag)
        ok.add("Contact", f"<sip:backline@{self.stack.host}:{self.stack.port}>")
        ok.add("Content-Type", "application/sdp")
        direction = answer_direction(remote.direction) if remote else "sendrecv"
        rtp = self.rtp_ports.get(dialog.leg, 0)
        ok.body = describe(self.stack.host, rtp, codecs=self._codecs(dialog), direction=direction)
        return ok

    def _codecs(self, dialog: Dialog) -> tuple[int, ...]:
        return (dialog.remote.payload_type,) if dialog.remote else (0, 8)

    def _resend_later(self, dialog: Dialog, interval: float, waited: float) -> None:
        """Check for the ACK of our 2xx in ``interval`` seconds (a timer, stopped by it)."""
        dialog.resend = self.stack.deadlines.start(
            interval, lambda: self._unacked(dialog, interval, waited)
        )

    def _stop_resending(self, dialog: Dialog) -> None:
        """Our 2xx was ACKed (or the leg is gone): no more retransmissions of it."""
        if dialog.resend is not None:
            self.stack.deadlines.stop(dialog.resend)
            dialog.resend = None

    def _unacked(self, dialog: Dialog, interval: float, waited: float) -> None:
        """No ACK yet: send the 2xx again (UDP), or after 64·T1 end the session with a BYE."""
        dialog.resend = None
        if dialog.confirmed or dialog.ended or dialog.answer is None:
            return
        waited += interval
        if waited >= 64 * self.stack.timers.t1:
            log.info("sip: no ACK for %s; hanging up", dialog.call_id)
            self._spawn(self._never_acked(dialog))
            return
        if dialog.peer.transport == "UDP":
            self.stack.send(dialog.answer, dialog.peer)
        self._resend_later(dialog, min(2 * interval, self.stack.timers.t2), waited)

    async def _never_acked(self, dialog: Dialog) -> None:
        await self.hang_up(dialog)
        await self._bye(dialog)  # and the engine hears that the party is gone

    async def _members(self, calls: list[VoiceCall]) -> None:
        """Ring offers, call connected members without a leg, hang up the others."""
        dialling = {c.owner for c in calls if _click_to_dial(c) and c.owner}
        rings = {
            (m, c.iid)
            for c in calls
            if c.live and c.state not in ENDED and (c.owner not in dialling or self._on(c.owner))
            for m in c.ringing
        }
        up = dialling | {
            leg.member
            for c in calls
            if c.live and c.state in ("active", "held")
            for leg in c.legs
            if leg.connected and leg.member
        }
        for member, ring in list(self.ringer.ringing.items()):
            if (member, ring.iid) not in rings and member not in up and not ring.answered:
                self.ringer.cancel(ring)
        for dialog in self.dialogs.all():  # first: a call that just ended frees the phone
            if not dialog.confirmed or not dialog.who.startswith("@"):
                continue
            phone = dialog.who[1:]
            busy = (
                dialog.referring
                or dialog.leg in self.listener.sessions
                or phone in self.ringer.ringing
            )
            if phone not in up and not busy:
                await self.hang_up(dialog)
        by_iid = {c.iid: c for c in calls}
        for member, iid in sorted(rings):  # ... for the waiting call offered to it now
            if member not in self.ringer.ringing and self.dialogs.of(f"@{member}") is None:
                self.ringer.ring(member, by_iid[iid], offer=True)
        for member in sorted(up):
            if member not in self.ringer.ringing and self.dialogs.of(f"@{member}") is None:
                call = next(c for c in calls if c.leg(f"@{member}"))
                self.ringer.ring(member, call, offer=False)

    def _on(self, member: str | None) -> bool:
        """Whether the member's phone is answered (a confirmed leg)."""
        dialog = self.dialogs.of(f"@{member}")
        return dialog is not None and dialog.confirmed

    def _mix(self, calls: list[VoiceCall]) -> None:
        """Tell the media side who hears whom, and who hears hold music."""
        plan = hearing(calls)
        legs: dict[str, list[str]] = {}
        for dialog in self.dialogs.all():
            if not (dialog.confirmed or dialog.answer is not None):
                continue
            if dialog.who.startswith("@") and dialog.remote and dialog.remote.on_hold:
                if self.mixed.get(dialog.leg) != frozenset():
                    self.media.hears(dialog.leg, ())  # the phone holds this leg: out of the mix
                    self.mixed[dialog.leg] = frozenset()
                continue
            legs.setdefault(dialog.who, []).append(dialog.leg)
        for who, names in legs.items():
            sources = [leg for heard in plan.hears.get(who, ()) for leg in legs.get(heard, [])]
            for name in names:
                if who in plan.music and name not in self.music:
                    self.media.play(name, "hold")
                    self.music.add(name)
                elif who not in plan.music and name in self.music:
                    self.media.stop_playing(name)
                    self.music.discard(name)
                heard = frozenset(sources)
                if self.mixed.get(name) != heard or name in self.recorder.active:
                    # told again only when it changed (a greeting also sets what it hears)
                    self.media.hears(name, heard)
                    self.mixed[name] = heard

    def connect(self, dialog: Dialog, body: bytes) -> bool:
        """Point the leg's RTP at what the peer's SDP says; False if it is unacceptable."""
        try:
            remote = parse_offer(body)
        except NotAcceptable:
            return False
        self.point(dialog, remote)
        return True

    def point(self, dialog: Dialog, remote: Remote) -> None:
        """Send the leg's RTP where ``remote`` (the peer's SDP, parsed) says."""
        dialog.remote = remote
        if remote.port:
            self.media.connect(dialog.leg, self.peer(remote))
        self.media.direction(
            dialog.leg,
            send=remote.direction in ("sendrecv", "recvonly"),
            receive=remote.direction in ("sendrecv", "sendonly"),
        )

    def peer(self, remote: Remote) -> RtpPeer:
        """The media side's ``RtpPeer`` for a remote description."""
        return RtpPeer(remote.host, remote.port, remote.payload_type, remote.dtmf_payload_type)

    async def hang_up(self, dialog: Dialog) -> None:
        """BYE a confirmed leg (or 487 one still being set up), then close its media."""
        if dialog.ended:
            return
        self.dialogs.drop(dialog)
        if dialog.confirmed or dialog.answer is not None:
            bye = dialog.request(self.stack, "BYE")  # its transaction runs on by itself:
            self.stack.request(bye, dialog.peer)  # no answer to it changes anything here
        await self.close(dialog)

    async def close(self, dialog: Dialog) -> None:
        """Forget the dialog and close its media (no signalling)."""
        self.dialogs.drop(dialog)
        self._stop_resending(dialog)
        self.music.discard(dialog.leg)
        self.mixed.pop(dialog.leg, None)
        if self.rtp_ports.pop(dialog.leg, None) is not None:
            await self.media.close_leg(dialog.leg)

    async def command(self, handle: str, text: str) -> str | None:
        """Run a member's command; its outcome (``ok``, ``refused``…), None if it failed."""
        try:
            reply = await self.port.command(handle, text)
        except Exception:
            log.exception("sip: %r from a phone failed ref=%s", text.split(" ", 1)[0], new_ref())
            return None
        if reply.outcome != "ok":
            log.info("sip: phone command %r refused: %s", text.split(" ", 1)[0], reply.text)
        self.last_refusal = reply.text if reply.outcome != "ok" else ""
        return reply.outcome

    # -- phones and trunks → the engine --------------------------------------------------

    async def customer_call(self, msg: Message, tx: ServerTransaction, target: str) -> None:
        """A caller's INVITE to ``target``: the engine offers it; the caller hears ringing."""
        try:
            remote = parse_offer(msg.body)
        except NotAcceptable as exc:
            tx.respond(response(msg, 488, str(exc), to_tag=tag()))
            return
        dialog = inbound(msg, tx.source)
        display, uri = address(msg.get("From"))
        caller = Address(PLATFORM, uri.split(";", 1)[0])
        self.rtp_ports[dialog.leg] = await self.media.open_leg(dialog.leg)
        self.point(dialog, remote)
        try:
            iid = await self.port.customer_arrived(
                caller, "voice", target, display=display or caller.address.split("@")[0]
            )
        except CommandError as exc:
            await self.close(dialog)
            tx.respond(response(msg, 480, str(exc)[:80], to_tag=dialog.local_tag))
            return
        call = self.voice.call(iid)
        dialog.iid = iid
        dialog.who = (call.customer if call else None) or ""
        self.dialogs.add(dialog)
        self.customer_invites[dialog.who] = tx
        if not tx.done:
            tx.respond(response(msg, 180, to_tag=dialog.local_tag))
        self.changed(frozenset({iid}))  # applied in order with every other change

    async def member_leg(
        self, msg: Message, tx: ServerTransaction, member_id: str
    ) -> Dialog | None:
        """The dialog of a member's phone calling in, with its RTP port open.

        None when its SDP offers nothing we can play: answered 488, nothing left open.
        """
        dialog = inbound(msg, tx.source)
        dialog.who = f"@{member_id}"
        self.rtp_ports[dialog.leg] = await self.media.open_leg(dialog.leg)
        if not self.connect(dialog, msg.body):
            await self.close(dialog)
            tx.respond(response(msg, 488, to_tag=dialog.local_tag))
            return None
        return dialog

    async def listen(self, msg: Message, tx: ServerTransaction, handle: str) -> None:
        """A member's phone dialled their voicemail: a session, driven by its digits."""
        dialog = await self.member_leg(msg, tx, handle)
        if dialog is None:
            return
        reply = await self.port.command(handle, "voicemail")
        if reply.outcome != "ok" or not reply.touched:
            await self.close(dialog)
            tx.respond(response(msg, 403, reply.text[:80], to_tag=dialog.local_tag))
            return
        dialog.iid = sorted(reply.touched)[0]
        self.dialogs.add(dialog)
        self.listener.open(dialog, handle, dialog.iid, locked="PIN" in reply.text)
        self.answer(tx, dialog)

    def _digit(self, leg: str, digit: str) -> None:
        self.listener.digit(leg, digit)

    def cancelled(self, tx: ServerTransaction) -> None:
        """The caller (or a consulting phone) gave up before the call was answered."""
        for who, pending in list(self.customer_invites.items()):
            if pending is tx:
                del self.customer_invites[who]
                dialog = self.dialogs.of(who)
                tx.respond(response(tx.request, 487, to_tag=dialog.local_tag if dialog else tag()))
                if dialog is not None:
                    self._spawn(self._caller_left(dialog))
        self.phone.cancelled(tx)

    async def _caller_left(self, dialog: Dialog) -> None:
        await self.close(dialog)
        _, uri = address(dialog.remote_uri)
        with contextlib.suppress(CommandError):  # the call had ended already
            await self.port.customer_left(Address(PLATFORM, uri.split(";", 1)[0]))

    def invited_again(self, msg: Message, tx: ServerTransaction) -> bool:
        """An INVITE we answered whose transaction is gone: the 2xx again, no new call.

        Its transaction absorbs retransmissions for 64·T1 after our 2xx (RFC 6026); this is
        for a peer that retransmits later still.
        """
        dialog = self.dialogs.invited(msg)
        if dialog is None:
            return False
        if dialog.answer is not None and not dialog.ended:
            tx.respond(dialog.answer)
        return True

    def acked(self, msg: Message) -> bool:
        """An ACK for a 2xx of ours; False when no dialog knows it."""
        dialog = self.dialogs.find(msg)
        if dialog is None:
            return False
        dialog.confirmed = True
        self._stop_resending(dialog)
        if msg.body and dialog.remote is None:
            self.connect(dialog, msg.body)
        return True

    def answered_again(self, msg: Message) -> bool:
        """A retransmitted 2xx to our INVITE: ACK it again."""
        dialog = self.dialogs.find(msg)
        if dialog is None or msg.cseq[1] != "INVITE":
            return False
        self.stack.send(dialog.ack(self.stack, msg.cseq[0]), dialog.peer)
        return True

    async def in_dialog(self, msg: Message, tx: ServerTransaction) -> None:
        """A request inside a dialog: BYE, re-INVITE, REFER…; 481 when the dialog is unknown."""
        dialog = self.dialogs.find(msg)
        if dialog is None:
            tx.respond(response(msg, 481))
            return
        if msg.cseq[0] <= dialog.remote_cseq and msg.method != "ACK":
            tx.respond(response(msg, 500, "CSeq out of order"))
            return
        dialog.remote_cseq = msg.cseq[0]
        if msg.method == "BYE":
            tx.respond(response(msg, 200))
            await self._bye(dialog)
        elif msg.method == "INVITE":
            await self.phone.reinvite(msg, tx, dialog)
        elif msg.method == "REFER":
            await self.phone.refer(msg, tx, dialog)
        elif msg.method in ("INFO", "UPDATE", "NOTIFY"):
            tx.respond(response(msg, 200))
        else:
            tx.respond(response(msg, 405))

    async def _bye(self, dialog: Dialog) -> None:
        """A party hung up (or never ACKed): the customer left, or the member ends their calls."""
        if self.recorder.recording(dialog):
            kept = await self.recorder.finish(dialog)
            await self.close(dialog)
            await self._caller_left(dialog)
            message = kept[0] if kept else None
            message = message if message is not None else self.voice.left_message(dialog.iid)
            if kept is not None and message is not None:
                await self.voice.recorded(message, str(kept[1]), kept[2])
            return
        await self.close(dialog)
        if not dialog.who.startswith("@"):
            await self._caller_left(dialog)
            return
        if dialog.leg in self.listener.sessions:
            await self.listener.close(dialog)
            return
        member = dialog.who[1:]
        handle = self.port.handle_of(member)
        if handle is None:
            return
        own = self.phone.call_of(dialog) if self.dialogs.mine(dialog.who) else None
        carried = [own] if own else sorted(self.tracked, reverse=True)  # consultations first
        for iid in carried:  # a phone with another leg up hangs up only this leg's call
            call = self.voice.call(iid)
            leg = call.leg(dialog.who) if call else None
            if call is None or leg is None or not leg.connected or call.state in ENDED:
                continue
            verb = "end" if call.kind == "consultation" or leg.role == "owner" else "leave"
            await self.command(handle, f"{verb} {iid}")

    # -- helpers ------------------------------------------------------------------------

    def spawn(self, work: Awaitable[Any]) -> asyncio.Future[Any]:
        """Run ``work`` in the background (failures are logged with a ref; stop cancels it)."""
        return self._spawn(work)

    def _spawn(self, work: Awaitable[Any]) -> asyncio.Future[Any]:
        task = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(self._finished)
        return task

    def _finished(self, task: asyncio.Future[Any]) -> None:
        """Background work ended: forget it; a failure is logged with a ref."""
        self._tasks.discard(task)
        if not task.cancelled() and (failure := task.exception()) is not None:
            log.error("sip: call work failed ref=%s", new_ref(), exc_info=failure)


def _click_to_dial(call: VoiceCall) -> bool:
    """A member's ``call TARGET`` still ringing: their own phone rings first (DIR-3)."""
    return (
        call.kind == "voice"
        and call.customer is None
        and call.live
        and call.state in ("queued", "offered")
    )
