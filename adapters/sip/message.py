"""SIP messages (RFC 3261 §7): parse strictly, serialize canonically.

``parse`` raises ``SipError`` naming what is wrong, so a transport can answer 400 with the
reason (or drop a datagram that is not SIP at all). Header names are kept canonical
(compact forms expanded), values as written; ``Content-Length`` is checked against the body.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from typing import Final

MAX_MESSAGE = 65535  # bytes: a UDP datagram; TCP messages are held to the same bound
MAX_HEADERS = 120
COMPACT = {
    "i": "Call-ID",
    "m": "Contact",
    "e": "Content-Encoding",
    "l": "Content-Length",
    "c": "Content-Type",
    "f": "From",
    "s": "Subject",
    "k": "Supported",
    "t": "To",
    "v": "Via",
    "o": "Event",
    "r": "Refer-To",
    "b": "Referred-By",
    "u": "Allow-Events",
}
CANONICAL = {
    name.lower(): name
    for name in (
        "Call-ID",
        "CSeq",
        "WWW-Authenticate",
        "Proxy-Authenticate",
        "Max-Forwards",
        "Retry-After",
        "Subscription-State",
        "Record-Route",
        "Content-Length",
        "Content-Type",
        "User-Agent",
        "Min-Expires",
        "Refer-To",
        "Referred-By",
        "Allow-Events",
        "Messages-Waiting",
    )
}
REQUIRED = ("Via", "From", "To", "Call-ID", "CSeq")
REASONS = {
    100: "Trying",
    180: "Ringing",
    183: "Session Progress",
    200: "OK",
    202: "Accepted",
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    408: "Request Timeout",
    415: "Unsupported Media Type",
    420: "Bad Extension",
    423: "Interval Too Brief",
    480: "Temporarily Unavailable",
    481: "Call/Transaction Does Not Exist",
    482: "Loop Detected",
    483: "Too Many Hops",
    486: "Busy Here",
    487: "Request Terminated",
    488: "Not Acceptable Here",
    489: "Bad Event",
    491: "Request Pending",
    500: "Server Internal Error",
    501: "Not Implemented",
    503: "Service Unavailable",
    603: "Decline",
}
_TOKEN = re.compile(r"^[A-Za-z0-9.!%*_+`'~-]+$")
_REQUEST_LINE = re.compile(r"^([A-Za-z0-9.!%*_+`'~-]+) (\S+) SIP/2\.0$")
_STATUS_LINE = re.compile(r"^SIP/2\.0 ([1-6][0-9][0-9]) ?(.*)$")
_CSEQ = re.compile(r"^\s*(\d{1,10})\s+([A-Za-z0-9.!%*_+`'~-]+)\s*$")
_URI = re.compile(r"^(sips?|tel):[^\s<>]+$", re.IGNORECASE)
_PARAM = re.compile(r";\s*([A-Za-z0-9.!%*_+`'~-]+)(?:\s*=\s*(\"[^\"]*\"|[^;,\s]*))?")
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f]")
"""Control characters other than tab (not allowed in a start line)."""
_NAME_ADDR = re.compile(r'^\s*(?:"((?:[^"\\]|\\.)*)"|([^<"]*?))\s*<([^>]+)>(.*)$')


class SipError(ValueError):
    """A message that is not valid SIP; ``str`` says what is wrong (the 400 reason)."""


@dataclass(slots=True)
class Message:
    """A request (``method`` set) or a response (``status`` set), with ordered headers."""

    method: str = ""
    uri: str = ""
    status: int = 0
    reason: str = ""
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""
    _first: dict[str, str] | None = field(default=None, init=False, repr=False, compare=False)
    """The first value of each header by canonical name (built on the first ``get``)."""

    @property
    def is_request(self) -> bool:
        """A request, not a response."""
        return bool(self.method)

    def get(self, name: str, default: str = "") -> str:
        """The first value of header ``name`` (any spelling, compact forms included)."""
        first = self._first
        if first is None:
            first = self._first = {}
            for n, v in self.headers:
                first.setdefault(n, v)
        found = first.get(name)  # the keys are canonical: a canonical name is found at once
        return found if found is not None else first.get(canonical(name), default)

    def all(self, name: str) -> list[str]:
        """Every value of header ``name``, comma-separated lists split (RFC 3261 §7.3.1)."""
        want = canonical(name)
        values: list[str] = []
        for n, v in self.headers:
            if n == want:
                values.extend(split_list(v))
        return values

    def set(self, name: str, value: str) -> None:
        """Replace every ``name`` header by one (added at the end when absent)."""
        want = canonical(name)
        kept = [(n, v) for n, v in self.headers if n != want]
        index = next((i for i, (n, _) in enumerate(self.headers) if n == want), len(kept))
        kept.insert(min(index, len(kept)), (want, value))
        self.headers = kept
        self._first = None

    def add(self, name: str, value: str) -> None:
        """Add a header at the end."""
        want = canonical(name)
        self.headers.append((want, value))
        if self._first is not None:
            self._first.setdefault(want, value)

    def remove(self, name: str) -> None:
        """Remove every ``name`` header."""
        want = canonical(name)
        self.headers = [(n, v) for n, v in self.headers if n != want]
        self._first = None

    @property
    def call_id(self) -> str:
        """The Call-ID."""
        return self.get("Call-ID")

    @property
    def cseq(self) -> tuple[int, str]:
        """``(number, method)`` of the CSeq."""
        return _cseq(self.get("CSeq"))

    @property
    def branch(self) -> str:
        """The top Via's branch parameter."""
        return _param(self.get("Via"), "branch")

    @property
    def from_tag(self) -> str:
        """The From tag."""
        return _param(self.get("From"), "tag")

    @property
    def to_tag(self) -> str:
        """The To tag ('' outside a dialog)."""
        return _param(self.get("To"), "tag")

    def encode(self) -> bytes:
        """The message on the wire, with a correct Content-Length."""
        first = (
            f"{self.method} {self.uri} SIP/2.0"
            if self.is_request
            else f"SIP/2.0 {self.status} {self.reason or REASONS.get(self.status, 'Unknown')}"
        )
        lines = [first]
        lines += [f"{n}: {v}" for n, v in self.headers if n != "Content-Length"]
        lines.append(f"Content-Length: {len(self.body)}")
        return ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8") + self.body


@functools.lru_cache(maxsize=512)
def canonical(name: str) -> str:
    """A header name as written in messages we send: ``call-id`` → ``Call-ID``, ``v`` → ``Via``."""
    low = name.strip().lower()
    if low in COMPACT:
        return COMPACT[low]
    if low in CANONICAL:
        return CANONICAL[low]
    return "-".join(part.capitalize() for part in low.split("-"))


def split_list(value: str) -> list[str]:
    """A comma-separated header value split outside quotes and angle brackets."""
    parts: list[str] = []
    depth, quoted, start = 0, False, 0
    for i, ch in enumerate(value):
        if ch == '"' and (i == 0 or value[i - 1] != "\\"):
            quoted = not quoted
        elif not quoted and ch == "<":
            depth += 1
        elif not quoted and ch == ">":
            depth = max(0, depth - 1)
        elif ch == "," and not quoted and depth == 0:
            parts.append(value[start:i].strip())
            start = i + 1
    parts.append(value[start:].strip())
    return [p for p in parts if p]


def params(value: str) -> dict[str, str]:
    """The ``;name=value`` parameters after a header's address (or after its token)."""
    if ">" in value:
        value = value[value.rindex(">") + 1 :]
    elif ";" in value:
        value = value[value.index(";") :]
    else:
        return {}
    return {k.lower(): v.strip('"') for k, v in _PARAM.findall(value)}


_CACHED_VALUE: Final = 256
"""Header values up to this long have their CSeq and parameters remembered (most are)."""


_PARAM_VALUE = re.compile(r"[^;,\s]*")
"""An unquoted parameter value, as ``_PARAM`` reads it."""


@functools.lru_cache(maxsize=2048)
def _cached_param(value: str, name: str) -> str:
    return _one_param(value, name)


def _param(value: str, name: str) -> str:
    """One parameter of a header value ('' when absent), such as a Via branch or a tag."""
    if len(value) > _CACHED_VALUE:
        return _one_param(value, name)
    return _cached_param(value, name)


def _one_param(value: str, name: str) -> str:
    """``params(value).get(name, "")``, without reading every parameter in the usual case.

    That case: ``;name=`` written once, lower case, unquoted, after the address, and no
    parameter with spaces around it; anything else is read by ``params``.
    """
    key = f";{name}="
    at = value.find(key)
    if at != -1 and at > value.rfind(">") and "; " not in value and ";\t" not in value:
        start = at + len(key)
        found = _PARAM_VALUE.match(value, start)
        written = value[start : found.end()] if found else ""
        if '"' not in written and value.lower().count(key) == 1:
            return written
    return params(value).get(name, "")


@functools.lru_cache(maxsize=1024)
def _cseq(value: str) -> tuple[int, str]:
    """``(number, METHOD)`` of a CSeq value; ``SipError`` when it is malformed."""
    found = _CSEQ.match(value)
    if found is None:
        raise SipError("malformed CSeq")
    number, method = found.groups()
    return int(number), method.upper()


@functools.lru_cache(maxsize=2048)
def _party_uri_ok(value: str) -> bool:
    """Whether a From or To value holds a SIP (or tel) URI."""
    return _URI.match(address(value)[1]) is not None


@functools.lru_cache(maxsize=2048)
def address(value: str) -> tuple[str, str]:
    """``(display name, URI)`` of a From/To/Contact value (name-addr or addr-spec)."""
    plain = "\n" not in value and "\\" not in value  # no escapes, no line ends: no regex
    found = _plain_address(value) if plain else None
    return found if found is not None else _address(value)


def _plain_address(value: str) -> tuple[str, str] | None:
    """``address`` of ``[display] <uri>`` or ``"display" <uri>``; None for any other form."""
    start = len(value) - len(value.lstrip())
    if value.startswith('"', start):
        close = value.find('"', start + 1)
        if close == -1:
            return None
        display, rest = value[start + 1 : close], value[close + 1 :]
        opening = close + 1 + len(rest) - len(rest.lstrip())
        if not value.startswith("<", opening):
            return None
    else:
        opening = value.find("<")
        if opening == -1 or '"' in value[:opening]:
            return None
        display = value[:opening]
    closing = value.find(">", opening + 1)
    if closing <= opening + 1:
        return None
    return display.strip(), value[opening + 1 : closing].strip()


def _address(value: str) -> tuple[str, str]:
    """``address`` by the full grammar (quoted pairs and all)."""
    m = _NAME_ADDR.match(value)
    if m:
        display = (m.group(1) if m.group(1) is not None else m.group(2) or "").strip()
        return display, m.group(3).strip()
    return "", value.split(";", 1)[0].strip()


def uri_user(uri: str) -> str:
    """The user part of ``sip:user@host;params`` ('' when there is none)."""
    rest = uri.split(":", 1)[1] if ":" in uri else uri
    rest = rest.split(";", 1)[0].split("?", 1)[0]
    return rest.rsplit("@", 1)[0] if "@" in rest else ""


def uri_host(uri: str) -> tuple[str, int | None]:
    """``(host, port)`` of a SIP URI (``port`` None when not written)."""
    rest = uri.split(":", 1)[1] if ":" in uri else uri
    rest = rest.split(";", 1)[0].split("?", 1)[0]
    hostport = rest.rsplit("@", 1)[-1]
    if hostport.startswith("["):
        host, _, tail = hostport[1:].partition("]")
        port = tail.removeprefix(":")
    else:
        host, _, port = hostport.partition(":")
    return host, int(port) if port.isdigit() and 0 < int(port) < 65536 else None


def parse(data: bytes) -> Message:
    """One SIP message; ``SipError`` with the reason when it is malformed."""
    if len(data) > MAX_MESSAGE:
        raise SipError("message too large")
    head, sep, body = data.partition(b"\r\n\r\n")
    if not sep:
        head, sep, body = data.partition(b"\n\n")
        if not sep:
            raise SipError("no blank line after the headers")
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError:
        raise SipError("headers are not UTF-8") from None
    text = text.lstrip("\r\n").replace("\r\n", "\n")
    lines = text.split("\n")
    if "\n " in text or "\n\t" in text:
        lines = _unfold(lines)
    if not lines[0]:
        raise SipError("empty start line")
    msg = _start(lines[0])
    if len(lines) - 1 > MAX_HEADERS:
        raise SipError("too many headers")
    headers = msg.headers
    first: dict[str, str] = {}
    for line in lines[1:]:
        raw, colon, value = line.partition(":")
        name = _header_name(raw) if colon else ""
        if not name:
            raise SipError(f"malformed header line {line[:40]!r}")
        value = value.strip()
        headers.append((name, value))
        first.setdefault(name, value)
    _check(msg, first, body)
    msg._first = first
    return msg


@functools.lru_cache(maxsize=1024)
def _header_name(raw: str) -> str:
    """The canonical name of a header line's name part ('' when it is not a token)."""
    name = raw.strip()
    return canonical(name) if _TOKEN.match(name) else ""


def _unfold(lines: list[str]) -> list[str]:
    out: list[str] = []
    for line in lines:
        if line[:1] in (" ", "\t") and out:
            out[-1] += " " + line.strip()
        else:
            out.append(line)
    return out


def _start(line: str) -> Message:
    method, uri, status, reason = _start_line(line)
    return Message(method=method, uri=uri, status=status, reason=reason)


@functools.lru_cache(maxsize=1024)
def _start_line(line: str) -> tuple[str, str, int, str]:
    """``(method, Request-URI, status, reason)`` of a start line (most repeat: cached)."""
    if _CONTROL.search(line):
        raise SipError("control character in the start line")
    status = _STATUS_LINE.match(line)
    if status:
        return "", "", int(status.group(1)), status.group(2)
    request = _REQUEST_LINE.match(line)
    if not request:
        raise SipError("malformed start line")
    method, uri = request.groups()
    if not _URI.match(uri):
        raise SipError(f"malformed Request-URI {uri[:40]!r}")
    return method.upper(), uri, 0, ""


def _check(msg: Message, first: dict[str, str], body: bytes) -> None:
    """``first``: the first value of each header, by canonical name."""
    for name in REQUIRED:
        if not first.get(name):
            raise SipError(f"missing {name} header")
    number, method = _cseq(first["CSeq"])
    if number >= 2**31:
        raise SipError("malformed CSeq")
    if msg.is_request and method != msg.method:
        raise SipError("CSeq method does not match the request")
    if not first["Via"][:8].upper() == "SIP/2.0/":
        raise SipError("malformed Via")
    for name in ("From", "To"):
        if not _party_uri_ok(first[name]):
            raise SipError(f"malformed {name} URI")
    length = first.get("Content-Length")
    if length:
        if not length.isdigit():
            raise SipError("malformed Content-Length")
        if int(length) > len(body):
            raise SipError("body shorter than Content-Length")
        body = body[: int(length)]
    max_forwards = first.get("Max-Forwards")
    if max_forwards and not max_forwards.isdigit():
        raise SipError("malformed Max-Forwards")
    msg.body = body


def response(request: Message, status: int, reason: str = "", *, to_tag: str = "") -> Message:
    """A response to ``request`` (RFC 3261 §8.2.6): Via, From, To, Call-ID, CSeq copied."""
    out = Message(status=status, reason=reason or REASONS.get(status, ""))
    for name, value in request.headers:
        if name in ("Via", "From", "Call-ID", "CSeq", "Record-Route"):
            out.headers.append((name, value))
        elif name == "To":
            tagged = to_tag and "tag=" not in value.split(">")[-1] and status != 100
            out.headers.append((name, f"{value};tag={to_tag}" if tagged else value))
    return out
