"""Outgoing stanzas as XML text: always well-formed, whatever the text (ADP-4)."""

from __future__ import annotations

from xml.etree import ElementTree

from hypothesis import given
from hypothesis import strategies as st

from adapters.xmpp import wire

CLIENT = "{jabber:client}"


def parsed(xml: str) -> ElementTree.Element:
    return ElementTree.fromstring(xml.replace("<message ", '<message xmlns="jabber:client" ', 1))


@given(body=st.text(), subject=st.text(), to=st.text(min_size=1))
def test_any_text_makes_a_well_formed_message_adp_4(body: str, subject: str, to: str) -> None:
    xml = wire.message(to=to, frm="i1@b.example", mtype="chat", body=body, mid="x", subject=subject)
    element = parsed(xml)  # raises on anything a server would call not-well-formed
    assert element.get("to") == wire.xml_safe(to)
    assert element.findtext(f"{CLIENT}body") == wire.xml_safe(body)
    assert element.findtext(f"{CLIENT}subject") == wire.xml_safe(subject)


def test_a_correction_names_the_message_it_replaces_adp_6() -> None:
    xml = wire.message(
        to="ann@a.example", frm="support@b.example", mtype="chat", body="15 EUR", mid="n2",
        chat_state="active", corrects='o"1',
    )  # fmt: skip
    element = parsed(xml)
    replace = element.find("{urn:xmpp:message-correct:0}replace")
    assert replace is not None and replace.get("id") == 'o"1'
    assert element.find("{http://jabber.org/protocol/chatstates}active") is not None
    assert element.get("id") == "n2" and element.findtext(f"{CLIENT}body") == "15 EUR"


def test_forbidden_characters_become_the_replacement_character_adp_4() -> None:
    assert wire.xml_safe("a\x00b\x0bc\ud800d\ufffe\tok\n") == "a\ufffdb\ufffdc\ufffdd\ufffd\tok\n"
    assert wire.text("<b>&</b>") == "&lt;b&gt;&amp;&lt;/b&gt;"


def test_plain_text_is_written_as_it_is_and_only_that_adp_4() -> None:
    """Every character either needs nothing or gets the full treatment, never in between."""
    specials = [chr(c) for c in range(0x100)] + [
        "\ud800",
        "\udfff",
        "\ufffe",
        "\uffff",
        "\U0001f600",
    ]
    for char in specials:
        for value in (char, f"ping {char} pong"):
            assert wire.text(value) == wire.xml_safe(value).translate(wire._TEXT), repr(value)
            assert wire.attr(value) == wire.xml_safe(value).translate(wire._ATTR), repr(value)
    assert wire.attr("bob@localhost/phone") == "bob@localhost/phone"
    assert wire.attr('a"b') == "a&quot;b" and wire.text("a\rb") == "a&#13;b"
