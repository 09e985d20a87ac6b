"""The SIP adapter (ADP-5): a registrar and back-to-back user agent behind the port ``sip``.

``transactions`` carries messages (UDP and TCP, timers A to K, 400 for malformed input,
floods bounded per source), ``registrar`` authenticates phones, ``numbering`` turns a
dialled number into a backline target and ``calls`` keeps the legs in line with the
engine. This module answers what arrives outside a dialog and hands the rest on: a
customer's call, or a member's phone (authenticated, also from a trunk address it
registered from) dialling while on a call, which is their consultation.
"""

from __future__ import annotations

import logging
from pathlib import Path

from adapters.sip import numbering
from adapters.sip.calls import PLATFORM, Calls
from adapters.sip.config import SipConfig
from adapters.sip.media import MediaServer
from adapters.sip.media_api import Media
from adapters.sip.message import Message, response, uri_user
from adapters.sip.mwi import Mwi
from adapters.sip.registrar import Digest, Registrar
from adapters.sip.transactions import ServerTransaction, Stack, Timers, tag
from adapters.sip.transport import Budget, Source
from adapters.sip.voicemail import Recorder, write_tone
from bot.port import Batch, Port

log = logging.getLogger("backline.sip")
ALLOW = "INVITE, ACK, BYE, CANCEL, OPTIONS, REGISTER, REFER, NOTIFY, SUBSCRIBE, INFO, UPDATE"
IN_DIALOG = ("BYE", "REFER", "NOTIFY", "INFO", "UPDATE", "PRACK")


class SipAdapter:
    """Phones and trunks on SIP, behind the port ``sip``."""

    name = PLATFORM
    reaches_everyone = False

    def __init__(
        self,
        port: Port,
        config: SipConfig,
        *,
        media: Media | None = None,
        timers: Timers | None = None,
    ) -> None:
        self.port = port
        self.config = config
        self.plan = numbering.load(Path(config.numbering) if config.numbering else None)
        self.trunks = config.trunk_hosts()
        self.stack = Stack(
            self,
            host=config.host,
            timers=timers,
            budget=Budget(rate=config.rate, burst=2 * config.rate),
        )
        self.digest = Digest(config.realm, config.credentials())
        self.registrar = Registrar(self.digest)
        music = Path(config.hold_music) if config.hold_music else None
        self.media: Media = media or MediaServer(
            config.host,
            (config.rtp_low, config.rtp_high),
            hold_music=music,
            realtime=config.media_realtime,
        )
        recordings = Path(config.voicemail_dir)
        greeting = (
            Path(config.greeting) if config.greeting else write_tone(recordings / "greeting.wav")
        )
        self.recorder = Recorder(port, self.media, recordings, greeting)
        self.calls = Calls(
            self.stack, port, self.media, self.registrar, route=self.route, recorder=self.recorder
        )
        self.mwi = Mwi(self.stack, port, self.digest)

    @property
    def sip_port(self) -> int:
        """The UDP (and TCP) port bound."""
        return self.stack.port

    def health(self) -> str:
        """``up`` once listening."""
        return "up" if self.stack.port else "connecting"

    def held(self) -> dict[str, int]:
        """The per-call state kept now, by kind (calls, dialogs, transactions, timers…)."""
        return self.calls.held() | self.stack.held()

    async def start(self) -> None:
        """Start the media clock, bind SIP and start following the engine."""
        await self.media.start()
        await self.stack.start(self.config.port)
        self.calls.start()
        log.info("sip: listening on %s:%d (udp, tcp)", self.config.host, self.stack.port)

    async def stop(self) -> None:
        """Hang up, unbind, stop the media."""
        await self.calls.stop()
        await self.stack.stop()
        await self.media.stop()

    async def send(self, batch: Batch) -> None:
        """Follow a commit: the legs of the calls it touched (phones show no chat text)."""
        self.calls.changed(batch.touched)
        if self.mwi.subscriptions and batch.touched:
            self.calls.spawn(self.mwi.changed())  # NOTIFYs never hold up delivery

    # -- the transaction user -------------------------------------------------------------

    async def request(self, msg: Message, tx: ServerTransaction) -> None:
        """A new request outside a retransmission."""
        method = msg.method
        if method == "SUBSCRIBE":
            await self.mwi.subscribe(msg, tx)
        elif msg.to_tag and method not in ("OPTIONS", "REGISTER"):
            await self.calls.in_dialog(msg, tx)
        elif method == "OPTIONS":
            ok = response(msg, 200, to_tag=tag())
            ok.add("Allow", ALLOW)
            ok.add("Accept", "application/sdp")
            tx.respond(ok)
        elif method == "REGISTER":
            answer, _ = self.registrar.register(msg, tx.source)
            tx.respond(answer)
        elif method == "INVITE":
            await self.invite(msg, tx)
        elif method in IN_DIALOG:
            tx.respond(response(msg, 481))
        else:
            tx.respond(response(msg, 405, to_tag=tag()))

    async def invite(self, msg: Message, tx: ServerTransaction) -> None:
        """A new call: from a trunk peer, or from a member's authenticated phone."""
        if self.calls.invited_again(msg, tx):
            return
        target = self.route(uri_user(msg.uri))
        if target == "voicemail":  # a member's own mailbox: always their credentials
            user = self.digest.user(msg)
            if user is None or self.port.member(user) is None:
                tx.respond(self.digest.challenge(msg))
                return
            await self.calls.listen(msg, tx, user)
            return
        phone = tx.source.host not in self.trunks or self.registrar.phone_at(tx.source) is not None
        user = self.digest.user(msg) if phone else None
        if phone and user is None:
            tx.respond(self.digest.challenge(msg))
            return
        if user is not None and self.port.member(user) is None:
            tx.respond(response(msg, 403, "not a member's phone", to_tag=tag()))
            return
        if target is None:
            tx.respond(response(msg, 404, to_tag=tag()))
            return
        if user is not None and await self.calls.phone.consult(msg, tx, user, target):
            return  # a member on a call dialled a colleague: their consultation
        if target.startswith("@") and (status := self._unavailable(target[1:])):
            tx.respond(response(msg, status, to_tag=tag()))
            return
        await self.calls.customer_call(msg, tx, target)

    def route(self, number: str) -> str | None:
        """A dialled number's target by the numbering plan (``extension``: that member)."""
        target = self.plan.route(number)
        if target == "extension":
            member = self.port.voice().member_at(number)
            return f"@{member}" if member else None
        return target

    def _unavailable(self, member_id: str) -> int | None:
        """486 for a member on a call, 480 for one not ready or logged off (their presence)."""
        presence = self.port.member_by_id(member_id).presence
        if presence == "busy":
            return 486
        return None if presence == "ready" else 480

    def cancelled(self, tx: ServerTransaction) -> None:
        """A CANCEL for a call not answered yet."""
        self.calls.cancelled(tx)

    def stray(self, msg: Message, source: Source) -> None:
        """An ACK for our 2xx, or a retransmitted 2xx to our INVITE."""
        if msg.is_request:
            self.calls.acked(msg)
        elif 200 <= msg.status < 300:
            self.calls.answered_again(msg)
