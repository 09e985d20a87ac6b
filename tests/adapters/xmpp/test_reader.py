"""Messages read straight from the parsed XML, as the server sent them (ADP-4).

Each case is the element a component stream hands the adapter; what counts is what the
adapter then knows: who wrote to which address, the text, and the receipt, chat state,
correction or error condition it carried.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from adapters.xmpp import wire
from adapters.xmpp.connection import read_messages_directly
from adapters.xmpp.convert import MessageIn
from adapters.xmpp.reader import is_message, read_message

COMPONENT_NS = "jabber:component:accept"


def element(xml: str, ns: str = COMPONENT_NS) -> ET.Element:
    """A top-level stream element, namespaced as the stream's children are."""
    return ET.fromstring(xml.replace("<message", f"<message xmlns='{ns}'", 1))


@pytest.mark.parametrize("ns", ["jabber:client", COMPONENT_NS])
def test_a_chat_message_with_a_receipt_request_adp_4(ns: str) -> None:
    msg = element(
        "<message from='ann@localhost/phone' to='support@backline.localhost' type='chat'"
        " id='m1'><body>My order &amp; my bill</body>"
        "<request xmlns='urn:xmpp:receipts'/>"
        "<active xmlns='http://jabber.org/protocol/chatstates'/></message>",
        ns,
    )
    assert is_message(msg)
    assert read_message(msg) == MessageIn(
        "ann@localhost/phone",
        "support@backline.localhost",
        "chat",
        "My order & my bill",
        "m1",
        chat_state="active",
        receipt=True,
    )


def test_a_receipt_needs_an_id_to_answer_and_type_defaults_to_normal_adp_4() -> None:
    msg = read_message(
        element(
            "<message from='a@localhost/x' to='backline.localhost'><body>status</body>"
            "<request xmlns='urn:xmpp:receipts'/></message>"
        )
    )
    assert (msg.type, msg.body, msg.id, msg.receipt) == ("normal", "status", None, False)


def test_a_correction_names_the_message_it_replaces_adp_4() -> None:
    msg = read_message(
        element(
            "<message from='ann@localhost/x' to='support@backline.localhost' type='chat'"
            " id='m2'><body>15 EUR</body>"
            "<replace xmlns='urn:xmpp:message-correct:0' id='m1'/></message>"
        )
    )
    assert (msg.body, msg.replace, msg.chat_state) == ("15 EUR", "m1", None)


def test_a_bodiless_chat_state_adp_4() -> None:
    msg = read_message(
        element(
            "<message from='alice@localhost/x' to='i1@backline.localhost' type='chat'>"
            "<composing xmlns='http://jabber.org/protocol/chatstates'/></message>"
        )
    )
    assert (msg.body, msg.chat_state, msg.receipt) == (None, "composing", False)


def test_the_body_in_the_default_language_is_the_text_adp_4() -> None:
    msg = read_message(
        element(
            "<message from='bob@localhost/x' to='backline.localhost' type='chat'>"
            "<body xml:lang='es'>listo</body><body>ready</body></message>"
        )
    )
    assert msg.body == "ready"
    empty = read_message(element("<message from='b@localhost/x' to='x'><body/></message>"))
    assert empty.body is None


def test_an_error_carries_the_condition_the_server_wrote_adp_4() -> None:
    msg = read_message(
        element(
            "<message from='alice@localhost' to='i1@backline.localhost' type='error' id='k3'>"
            "<body>held?</body><error type='cancel'>"
            "<service-unavailable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>"
            "<text xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'>offline</text></error></message>"
        )
    )
    assert msg == MessageIn(
        "alice@localhost", "i1@backline.localhost", "error", None, "k3", "service-unavailable"
    )
    bare = read_message(element("<message from='x@localhost' to='y' type='error'/>"))
    assert (bare.type, bare.error) == ("error", "")


def test_what_we_write_reads_back_as_sent_adp_4() -> None:
    sent = wire.message(
        to="ann@localhost/x", frm="support@backline.localhost", mtype="chat",
        body="<15 EUR> & \"more\"", mid="n1", chat_state="active", corrects="m0",
    )  # fmt: skip
    msg = read_message(element(sent))
    assert (msg.to, msg.frm, msg.body) == (
        "ann@localhost/x",
        "support@backline.localhost",
        '<15 EUR> & "more"',
    )
    assert (msg.chat_state, msg.replace, msg.id) == ("active", "m0", "n1")


def test_receipts_and_chat_states_we_write_are_well_formed_adp_4() -> None:
    ack = element(wire.receipt(to="ann@localhost/x", frm="support@b.localhost", of='m"1'))
    received = ack.find("{urn:xmpp:receipts}received")
    assert received is not None and received.get("id") == 'm"1'
    assert ack.get("to") == "ann@localhost/x" and ack.find(f"{{{COMPONENT_NS}}}body") is None
    typing = read_message(element(wire.chat_state(to="a@l", frm="i1@b.l", state="composing")))
    assert (typing.type, typing.chat_state, typing.body) == ("chat", "composing", None)
    with pytest.raises(ValueError, match="not an XEP-0085 chat state"):
        wire.chat_state(to="a@l", frm="i1@b.l", state="<typing/>")


def test_only_messages_take_the_direct_path_adp_4() -> None:
    presence = ET.fromstring(f"<presence xmlns='{COMPONENT_NS}' from='a@localhost/x'/>")
    iq = ET.fromstring("<iq xmlns='jabber:client' type='get' id='1'/>")
    assert not is_message(presence) and not is_message(iq)


async def test_the_stream_hands_messages_over_and_keeps_the_rest_adp_4() -> None:
    """A real slixmpp component stream: messages come read, presences take slixmpp's path."""
    import slixmpp

    stream = slixmpp.ComponentXMPP("backline.localhost", "s3cret", "127.0.0.1", 5347)  # type: ignore[no-untyped-call]
    got: list[MessageIn] = []
    presences: list[str] = []
    stream.add_event_handler("presence", lambda pres: presences.append(str(pres["from"])))
    read_messages_directly(stream, got.append)
    hello = "<message from='ann@localhost/x' to='support@backline.localhost'><body>hi</body>"
    stream._spawn_event(element(hello + "</message>"))
    stream._spawn_event(ET.fromstring(f"<presence xmlns='{COMPONENT_NS}' from='a@localhost/x'/>"))
    assert got == [MessageIn("ann@localhost/x", "support@backline.localhost", "normal", "hi")]
    assert presences == ["a@localhost/x"]
