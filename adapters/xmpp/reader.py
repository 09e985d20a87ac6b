"""Incoming messages read straight from the parsed XML (ADP-4), the hot path of the gateway.

slixmpp would wrap every ``<message/>`` in a stanza object, match it against each registered
handler and fire events for each extension a plugin knows (receipts, chat states,
corrections), all for the handful of fields ``MessageIn`` holds. So the connection hands
each message element here instead, and only this module reads it: the addresses, type, id,
body, the XEP-0085 chat state, the XEP-0184 receipt request, the XEP-0308 correction and, for
an error, the condition exactly as the server wrote it.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass

from adapters.xmpp.convert import MessageIn

STREAMS = ("jabber:client", "jabber:component:accept")  # a component's children may be either
MESSAGE_TAGS = frozenset(f"{{{ns}}}message" for ns in STREAMS)
BODIES = frozenset(f"{{{ns}}}body" for ns in STREAMS)
ERRORS = frozenset(f"{{{ns}}}error" for ns in STREAMS)
CHAT_STATES = "{http://jabber.org/protocol/chatstates}"
RECEIPT_REQUEST = "{urn:xmpp:receipts}request"
CORRECTION = "{urn:xmpp:message-correct:0}replace"
STANZA_ERRORS = "{urn:ietf:params:xml:ns:xmpp-stanzas}"
LANG = "{http://www.w3.org/XML/1998/namespace}lang"


def is_message(element: ET.Element) -> bool:
    """Whether a top-level stream element is a ``<message/>``."""
    return element.tag in MESSAGE_TAGS


def error_condition(error: ET.Element | None) -> str:
    """The condition element of a stanza ``<error/>`` as sent.

    slixmpp's component stream reports a server's ``service-unavailable`` under another
    condition, so the raw element is what counts.
    """
    for child in list(error) if error is not None else []:
        tag = str(child.tag)
        if tag.startswith(STANZA_ERRORS) and not tag.endswith("}text"):
            return tag.removeprefix(STANZA_ERRORS)
    return ""


@dataclass
class _Children:
    """What a message's children say, gathered in one pass over them."""

    body: ET.Element | None = None  # in the default language if there is one
    error: ET.Element | None = None
    chat_state: str | None = None
    replace: str | None = None
    receipt: bool = False

    def see(self, child: ET.Element) -> None:
        """Take note of one child element."""
        tag = child.tag
        if tag in BODIES:
            if self.body is None or (self.body.get(LANG) is not None and child.get(LANG) is None):
                self.body = child
        elif tag.startswith(CHAT_STATES):
            self.chat_state = tag.removeprefix(CHAT_STATES)
        elif tag == CORRECTION:
            self.replace = child.get("id")
        elif tag == RECEIPT_REQUEST:
            self.receipt = True
        elif tag in ERRORS and self.error is None:
            self.error = child


def read_message(element: ET.Element) -> MessageIn:
    """The fields of a ``<message/>`` element the adapter acts on."""
    mtype = element.get("type") or "normal"
    mid = element.get("id") or None
    frm, to = element.get("from", ""), element.get("to", "")
    found = _Children()
    for child in element:
        found.see(child)
    if mtype == "error":
        return MessageIn(frm, to, "error", None, mid, error_condition(found.error))
    return MessageIn(
        frm,
        to,
        mtype,
        (found.body.text or None) if found.body is not None else None,
        mid,
        replace=found.replace,
        chat_state=found.chat_state,
        receipt=mid is not None and found.receipt,
    )
