"""SIP dialogs (RFC 3261 §12): who a call leg talks to and how to send in-dialog requests.

A ``Dialog`` is one leg: the customer's (we are its UAS) or a member's phone (we are its
UAC). It knows its tags, CSeq numbers, the peer's target and where to send, and builds
requests inside the dialog. ``Dialogs`` finds one by Call-ID and tags.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from urllib.parse import unquote

from adapters.sip.deadlines import Deadline
from adapters.sip.message import Message, address, params, uri_host
from adapters.sip.sdp import Remote
from adapters.sip.transactions import Stack, branch, tag
from adapters.sip.transport import Source

_legs = itertools.count(1)


@dataclass(eq=False)
class Dialog:
    """One call leg (see the module docstring)."""

    call_id: str
    local_tag: str
    local_uri: str  # our From (UAC) / To (UAS) URI, with the display name
    remote_uri: str
    peer: Source  # where requests go
    remote_target: str  # the peer's Contact URI
    who: str = ""  # the party: "customer:Ann" or "@alice"
    iid: str = ""  # the interaction it was set up for
    remote_tag: str = ""
    local_cseq: int = 1
    remote_cseq: int = 0
    inbound: bool = True  # the peer called us
    confirmed: bool = False  # 2xx sent/received (and, inbound, ACKed)
    ended: bool = False
    referring: bool = False  # a REFER from the peer is being carried out: keep the leg
    remote: Remote | None = None  # the peer's current SDP
    invite: Message | None = None  # the INVITE that set it up
    answer: Message | None = None  # our 2xx to it (retransmitted until the ACK)
    resend: Deadline | None = None  # the timer of the next retransmission of ``answer``
    leg: str = field(default_factory=lambda: f"leg{next(_legs)}")

    @property
    def key(self) -> tuple[str, str]:
        """How ``Dialogs`` finds it."""
        return self.call_id, self.local_tag

    def request(self, stack: Stack, method: str, body: bytes = b"", **headers: str) -> Message:
        """A new request inside the dialog (its own branch, the next CSeq)."""
        self.local_cseq += 1
        remote_tag = f";tag={self.remote_tag}" if self.remote_tag else ""
        msg = Message(method=method, uri=self.remote_target)
        msg.headers += [  # the names as ``Message.add`` spells them
            ("Via", stack.via(self.peer.transport)),
            ("Max-Forwards", "70"),
            ("From", f"{self.local_uri};tag={self.local_tag}"),
            ("To", f"{self.remote_uri}{remote_tag}"),
            ("Call-ID", self.call_id),
            ("CSeq", f"{self.local_cseq} {method}"),
            ("Contact", f"<sip:backline@{stack.host}:{stack.port}>"),
        ]
        for name, value in headers.items():
            msg.add(name.replace("_", "-"), value)
        if body:
            msg.add("Content-Type", "application/sdp" if method == "INVITE" else "text/plain")
        msg.body = body
        return msg

    def ack(self, stack: Stack, cseq: int) -> Message:
        """The ACK for a 2xx to our INVITE (§13.2.2.4): a new branch, the INVITE's CSeq."""
        msg = Message(method="ACK", uri=self.remote_target)
        msg.headers += [
            ("Via", f"SIP/2.0/{self.peer.transport} {stack.host}:{stack.port};branch={branch()}"),
            ("Max-Forwards", "70"),
            ("From", f"{self.local_uri};tag={self.local_tag}"),
            ("To", f"{self.remote_uri};tag={self.remote_tag}"),
            ("Call-ID", self.call_id),
            ("CSeq", f"{cseq} ACK"),
        ]
        return msg


def outbound(stack: Stack, target: str, to: Source, *, who: str, iid: str, caller: str) -> Dialog:
    """A dialog we start towards a phone at ``target`` (its registered Contact)."""
    display = caller.replace('"', "")
    return Dialog(
        call_id=f"{tag()}{tag()}@{stack.host}",
        local_tag=tag(),
        local_uri=f'"{display}" <sip:backline@{stack.host}:{stack.port}>',
        remote_uri=f"<{target}>",
        peer=to,
        remote_target=target,
        who=who,
        iid=iid,
        inbound=False,
        local_cseq=0,
    )


def inbound(msg: Message, source: Source) -> Dialog:
    """The dialog an INVITE sets up (we are the UAS); our tag is new."""
    contact = address(msg.get("Contact"))[1] or address(msg.get("From"))[1]
    return Dialog(
        call_id=msg.call_id,
        local_tag=tag(),
        local_uri=msg.get("To").split(";tag=")[0],
        remote_uri=msg.get("From").split(";tag=")[0],
        peer=source,
        remote_target=contact,
        remote_tag=msg.from_tag,
        remote_cseq=msg.cseq[0],
        invite=msg,
    )


def target_of(contact: str, fallback: Source) -> Source:
    """Where to send to a Contact URI (the REGISTER's source when it names no port)."""
    host, port = uri_host(contact)
    transport = params(f"<{contact}>").get("transport", fallback.transport).upper()
    if port is None or not host:
        return fallback
    stream = fallback.stream if transport == "TCP" else None
    return Source(host, port, "TCP" if transport == "TCP" and stream else "UDP", stream)


@dataclass(frozen=True)
class Replaces:
    """A ``Replaces`` header (RFC 3891): the dialog it names, as its recipient sees it."""

    call_id: str
    to_tag: str  # the recipient's (our) tag
    from_tag: str  # the other side's tag


def replaces_of(refer_to: str) -> Replaces | None:
    """The ``Replaces`` embedded in a Refer-To URI (``?Replaces=…``); None without one.

    Raises ``ValueError`` naming what is missing when it is malformed.
    """
    _, _, headers = refer_to.partition("?")
    for header in headers.split("&"):
        name, _, value = header.partition("=")
        if name.strip().lower() != "replaces":
            continue
        call_id, *fields = unquote(value).split(";")
        tags = dict(f.strip().partition("=")[::2] for f in fields)
        if not call_id.strip() or not tags.get("to-tag") or not tags.get("from-tag"):
            raise ValueError("Replaces needs a Call-ID, to-tag and from-tag")
        return Replaces(call_id.strip(), tags["to-tag"], tags["from-tag"])
    return None


class Dialogs:
    """Live dialogs by Call-ID and local tag, and by party."""

    def __init__(self) -> None:
        self._by_key: dict[tuple[str, str], Dialog] = {}
        self._by_invite: dict[tuple[str, str, int], Dialog] = {}  # inbound: the INVITE's ids
        self._by_who: dict[str, dict[tuple[str, str], Dialog]] = {}  # by party, oldest first

    def add(self, dialog: Dialog) -> None:
        """Track a dialog (its party ``who`` is known by now)."""
        self._by_key[dialog.key] = dialog
        self._by_who.setdefault(dialog.who, {})[dialog.key] = dialog
        if dialog.inbound and dialog.invite is not None:
            self._by_invite[_invite_key(dialog.invite)] = dialog

    def drop(self, dialog: Dialog) -> None:
        """Forget a dialog."""
        dialog.ended = True
        self._by_key.pop(dialog.key, None)
        party = self._by_who.get(dialog.who)
        if party is not None:
            party.pop(dialog.key, None)
            if not party:
                del self._by_who[dialog.who]
        if dialog.inbound and dialog.invite is not None:
            self._by_invite.pop(_invite_key(dialog.invite), None)

    def invited(self, msg: Message) -> Dialog | None:
        """The live dialog an INVITE without a To tag already set up (a retransmission)."""
        return self._by_invite.get(_invite_key(msg))

    def find(self, msg: Message) -> Dialog | None:
        """The dialog a request (our tag in To) or a response (our tag in From) belongs to."""
        local = msg.to_tag if msg.is_request else msg.from_tag
        return self._by_key.get((msg.call_id, local))

    def replaced(self, replaces: Replaces) -> Dialog | None:
        """The live dialog a Replaces names (our tag, then the peer's), if any."""
        found = self._by_key.get((replaces.call_id, replaces.to_tag))
        if found is None or found.ended or found.remote_tag != replaces.from_tag:
            return None
        return found

    def mine(self, who: str) -> list[Dialog]:
        """Every live dialog of party ``who`` (a phone with a consultation has two)."""
        return [d for d in self._by_who.get(who, {}).values() if not d.ended]

    def of(self, who: str) -> Dialog | None:
        """The live dialog of party ``who`` (its oldest, when it has two)."""
        return next((d for d in self._by_who.get(who, {}).values() if not d.ended), None)

    def all(self) -> list[Dialog]:
        """Every live dialog."""
        return list(self._by_key.values())

    def __len__(self) -> int:
        return len(self._by_key)

    def indexed(self) -> int:
        """Entries in the lookups by party and by INVITE (none once every dialog is gone)."""
        return len(self._by_who) + len(self._by_invite)


def _invite_key(msg: Message) -> tuple[str, str, int]:
    """Call-ID, From tag and CSeq: what a retransmitted INVITE repeats (§8.2.2.2)."""
    return msg.call_id, msg.from_tag, msg.cseq[0]
