"""SDP offer/answer (RFC 3264, RFC 4566) for one audio stream: PCMU, PCMA, telephone-event.

``parse_offer`` reads a peer's session description into a ``Remote`` (where to send,
which codec, the DTMF payload, the direction); ``describe`` writes ours. An offer without
G.711 is ``NotAcceptable`` (a ``488``).
"""

from __future__ import annotations

import functools
import itertools
from dataclasses import dataclass

CODECS = {0: "PCMU", 8: "PCMA"}
DIRECTIONS = ("sendrecv", "sendonly", "recvonly", "inactive")
_versions = itertools.count(1)


class NotAcceptable(ValueError):
    """No common codec, or no audio stream: the offer is answered 488."""


@dataclass(frozen=True)
class Remote:
    """What a peer's SDP says about its audio."""

    host: str
    port: int
    payload_type: int  # 0 PCMU or 8 PCMA
    dtmf_payload_type: int | None
    direction: str = "sendrecv"

    @property
    def on_hold(self) -> bool:
        """The peer holds us (RFC 3264 §8.4: sendonly or inactive, or a zero address)."""
        return self.direction in ("sendonly", "inactive") or self.host == "0.0.0.0"


@dataclass
class _Reading:
    """What has been read of a description so far."""

    session_host: str = ""
    media_host: str = ""
    port: int | None = None
    formats: tuple[int, ...] = ()
    direction: str = "sendrecv"
    in_audio: bool = False

    def media(self, value: str) -> None:
        parts = value.split()
        self.in_audio = len(parts) >= 4 and parts[0] == "audio" and self.port is None
        if self.in_audio:
            if not parts[1].isdigit() or not all(p.isdigit() for p in parts[3:]):
                raise NotAcceptable("malformed m= line")
            self.port, self.formats = int(parts[1]), tuple(int(p) for p in parts[3:])

    def connection(self, value: str) -> None:
        host = value.rsplit(maxsplit=1)[-1] if len(value.split()) == 3 else ""
        if self.in_audio:
            self.media_host = host
        elif self.port is None:
            self.session_host = host


@functools.lru_cache(maxsize=256)
def parse_offer(body: bytes, prefer: tuple[int, ...] = (0, 8)) -> Remote:
    """The audio stream of a session description; ``NotAcceptable`` when none fits.

    A phone sends the same description call after call: the answer is remembered.
    """
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise NotAcceptable("SDP is not UTF-8") from None
    read = _Reading()
    rtpmap: dict[int, str] = {}
    for line in text.replace("\r\n", "\n").split("\n"):
        kind, _, value = line.partition("=")
        if kind == "m":
            read.media(value)
        elif kind == "c":
            read.connection(value)
        elif kind == "a" and (read.in_audio or read.port is None):
            number, _, name = value.removeprefix("rtpmap:").partition(" ")
            if value in DIRECTIONS:
                read.direction = value
            elif value.startswith("rtpmap:") and number.isdigit():
                rtpmap[int(number)] = name.lower()
    host, port = read.media_host or read.session_host, read.port
    if port is None or not host or not 0 <= port < 65536:
        raise NotAcceptable("no audio stream")
    codec = next((pt for pt in read.formats if pt in prefer), None)
    if codec is None:
        raise NotAcceptable("no common codec (PCMU or PCMA)")
    events = (pt for pt in read.formats if rtpmap.get(pt, "").startswith("telephone-event"))
    direction = "inactive" if port == 0 else read.direction
    return Remote(host, port, codec, next(events, None), direction)


def describe(
    host: str,
    port: int,
    *,
    codecs: tuple[int, ...] = (0, 8),
    dtmf: int | None = 101,
    direction: str = "sendrecv",
    session: int = 0,
) -> bytes:
    """Our session description: an offer (all ``codecs``) or an answer (the one chosen)."""
    version = next(_versions)
    formats = " ".join(str(pt) for pt in (*codecs, *([dtmf] if dtmf is not None else [])))
    lines = [
        "v=0",
        f"o=backline {session or version} {version} IN IP4 {host}",
        "s=backline",
        f"c=IN IP4 {host}",
        "t=0 0",
        f"m=audio {port} RTP/AVP {formats}",
    ]
    lines += [f"a=rtpmap:{pt} {CODECS[pt]}/8000" for pt in codecs]
    if dtmf is not None:
        lines += [f"a=rtpmap:{dtmf} telephone-event/8000", f"a=fmtp:{dtmf} 0-16"]
    lines += ["a=ptime:20", f"a={direction}"]
    return ("\r\n".join(lines) + "\r\n").encode()


def answer_direction(offered: str) -> str:
    """Our direction answering ``offered`` (RFC 3264 §6.1)."""
    return {"sendonly": "recvonly", "recvonly": "sendonly", "inactive": "inactive"}.get(
        offered, "sendrecv"
    )
