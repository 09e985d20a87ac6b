"""Pure parts added for issue 14: sizes, normalisation, corrections, chat states, errors (ADP-4)."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from hypothesis import given
from hypothesis import strategies as st

from adapters.xmpp.convert import (
    CustomerText,
    Ignore,
    MemberCommand,
    MessageIn,
    Typing,
    classify,
    normalized,
)
from adapters.xmpp.reader import error_condition
from adapters.xmpp.sizes import encoded, split_body

C = "backline.localhost"


def test_long_bodies_split_under_the_limit_and_keep_every_line_adp_4() -> None:
    body = "\n".join(f"L{n:03d} " + "x" * 4000 for n in range(140))
    parts = split_body(body, 65536)
    assert len(parts) >= 9
    assert all(encoded(p) <= 65536 - 1024 for p in parts)
    assert "\n".join(parts) == body
    assert split_body("short", 65536) == ["short"]
    one_line = "&" * 100_000  # escaping makes it five times larger
    cut = split_body(one_line, 8192)
    assert "".join(cut).replace("\n", "") == one_line
    assert all(encoded(p) <= 8192 - 1024 for p in cut)


def test_commands_are_folded_before_parsing_but_customer_text_is_not_adp_4() -> None:
    assert normalized("\uff53\uff54\uff41\uff54\uff55\uff53") == "status"
    assert normalized("sta\u200btus\u2060") == "status"
    got = classify(MessageIn("alice@localhost/x", C, "chat", "\ufeffready", "m1"), C)
    assert got == MemberCommand("alice@localhost", "ready", "alice@localhost/m1")
    said = classify(MessageIn("ann@localhost/x", f"support@{C}", "chat", "\uff48\uff49"), C)
    assert isinstance(said, CustomerText) and said.text == "\uff48\uff49"


def test_corrections_are_marked_and_never_run_as_commands_adp_4() -> None:
    fixed = MessageIn("ann@localhost/x", f"support@{C}", "chat", "15 EUR", "m2", replace="m1")
    assert classify(fixed, C) == CustomerText(
        "ann@localhost/x", f"support@{C}", "group:support", "(edited) 15 EUR", corrects="m1"
    )
    in_contact = MessageIn("alice@localhost/x", f"i1@{C}", "chat", "/end", "m3", replace="m2")
    command = classify(in_contact, C)
    assert isinstance(command, MemberCommand)
    assert command.text == "say i1 (edited) /end" and command.corrects == "m2"
    to_bot = MessageIn("alice@localhost/x", C, "chat", "ready", "m4", replace="m3")
    assert isinstance(classify(to_bot, C), Ignore)


def test_chat_states_to_relay_adp_4() -> None:
    def state(to: str, value: str | None) -> object:
        return classify(MessageIn("alice@localhost/x", to, "chat", None, chat_state=value), C)

    assert state(f"i1@{C}", "composing") == Typing("alice@localhost", "composing", "i1")
    assert state(f"support@{C}", "paused") == Typing("alice@localhost", "paused", None)
    assert isinstance(state(f"i1@{C}", "active"), Ignore)
    assert isinstance(state(C, "composing"), Ignore)
    assert isinstance(state(f"i1@{C}", None), Ignore)


def test_the_raw_error_condition_is_read_not_slixmpps_guess_adp_4() -> None:
    error = ET.fromstring(
        "<error xmlns='jabber:component:accept' type='cancel'>"
        "<service-unavailable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>"
        "<text xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'>offline</text></error>"
    )
    assert error_condition(error) == "service-unavailable"
    assert error_condition(None) == ""


@given(st.text(alphabet=st.sampled_from("&<>\r\x00\ud800\U0001f600\u00e9 a\n"), max_size=80))
def test_no_part_is_ever_over_the_limit_whatever_the_characters_adp_4(body: str) -> None:
    """Short bodies skip the encoding (five bytes a character at most), long ones split."""
    parts = split_body(body, 1280)  # 256 bytes for the body
    assert all(encoded(part) <= 256 for part in parts)
    assert "".join(parts).replace("\n", "") == body.replace("\n", "")
