"""The SIP adapter's media side: RTP legs, the 20 ms mixer, prompts, recording and DTMF.

backline terminates every call leg's RTP itself. The signalling side opens a leg per SDP
session, tells it where to send (``connect``, again on a re-INVITE) and in which direction,
and says which other legs each one hears; one clock mixes all legs every 20 ms in a single
numpy batch (G.711 by lookup tables, no ``audioop``).

API (all of it is ``MediaServer``'s; a bad request raises ``MediaError`` and changes nothing)::

    server = MediaServer(host="127.0.0.1", ports=(20000, 29999), hold_music=None,
                         realtime=True)       # the clock's thread at real-time priority
    await server.start()                      # starts the clock; binds nothing yet
    port = await server.open_leg("customer")  # an even UDP port for this leg's RTP
    server.connect("customer", RtpPeer("192.0.2.7", 4000, payload_type=0,
                                       dtmf_payload_type=101))
    server.direction("customer", send=True, receive=True)   # sendrecv/sendonly/recvonly/...
    server.hears("customer", {"agent"})       # replaces the set; itself is ignored
    server.play("customer", "hold")           # hold music (the WAV given, else a soft chime)
    server.play("customer", Path("greeting.wav"), loop=False)   # 8 kHz mono 16-bit WAV
    server.stop_playing("customer")           # back to the mix
    await server.play_once("agent", Path("whisper.wav"))      # returns when played out
    server.record("customer", Path("vm.wav")) # what the leg sends us, as 8 kHz mono WAV
    seconds = server.stop_recording("customer")
    server.on_dtmf(lambda leg, digit: ...)    # once per RFC 4733 key press
    server.stats("customer")                  # LegStats: packets in/out, late, lost, jitter
    await server.close_leg("customer")        # others stop hearing it
    await server.stop()                       # stops the clock, closes every leg

Who hears whom, in ``hears`` terms: a conference — each party hears all the others;
monitor — the supervisor hears agent and customer, nobody hears the supervisor; coach — the
agent also hears the supervisor; barge — everyone hears everyone; ``mute @x`` — x is taken
out of every other leg's set.

Behaviour the phones rely on: frames are 20 ms G.711 (160 samples, ``ptime`` 20; PCMU or
PCMA per leg, as negotiated); a leg whose mix is empty is sent comfort silence, never a gap;
each leg keeps one SSRC for its life, its sequence number grows by one per packet and its
timestamp by 160 per frame across prompt/mix switches, holds and re-INVITEs; a jitter buffer
(two frames) reorders late packets and plays lost ones as silence. RTP is symmetric (RFC
4961): a leg sends to the connected peer's address (``RtpPeer.host`` must be an IP address,
as in SDP ``c=``) and takes its packets, which locks it there; until then, a phone behind NAT
whose RTP comes from another address (three packets in a row, one SSRC, consecutive
sequence numbers) is latched to — sent to from then on, no other address accepted; an
address that sent a datagram that is not RTP is never latched to.
``direction(send=False)`` stops sending but the RTP clock runs on, so the stream resumes
with a marker bit and a timestamp that reflects the pause. ``play_once`` also returns when
the prompt is replaced, stopped or its leg closed; it needs a started server.
``MediaServer.ticks`` counts mixed frames and ``skipped`` the times the clock fell more than
200 ms behind (an overloaded host) and started again from now.

The clock (``MediaServer.clock``, a ``FrameClock``) is a thread of its own that sends every
leg's frame right on each 20 ms deadline and mixes the next one after; it asks the OS for
real-time priority (``SCHED_FIFO``, else a raised nice value, else none, quietly: its
``priority`` says which), so other processes on a busy host do not delay the frames;
``realtime=False`` turns that off. Callbacks (``on_dtmf``) and ``play_once`` still run in
the event loop's thread. It shares the interpreter's GIL with the rest of the process: a
loop thread busy in Python at a deadline delays the tick, so a host with heavy signalling
load is best served by a media server in a process of its own.
"""

from __future__ import annotations

from adapters.sip.media.legs import LegStats, MediaError, RtpPeer
from adapters.sip.media.prompts import PromptError
from adapters.sip.media.server import HOLD, MediaServer

__all__ = ["HOLD", "LegStats", "MediaError", "MediaServer", "PromptError", "RtpPeer"]
