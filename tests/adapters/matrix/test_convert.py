"""Pure Matrix conversions: texts → commands and customers' lines, Say → content (ADP-3,
ADP-6, CON-2)."""

from __future__ import annotations

import html
import re

from hypothesis import given
from hypothesis import strategies as st

from adapters.matrix.convert import (
    content,
    customer_text,
    desk_command,
    edit_of,
    for_customer,
    for_member,
    interaction_command,
    route_target,
)
from adapters.matrix.events import read_said
from bot.port import Priority, Say


def test_desk_commands_with_or_without_the_prefix_adp_3() -> None:
    """ADP-3: at the desk `!bl ready` and `ready` are the same command."""
    assert desk_command("!bl ready", "!bl") == "ready"
    assert desk_command("  !BL notready lunch ", "!bl") == "notready lunch"
    assert desk_command("ready", "!bl") == "ready"
    assert desk_command("!blast off", "!bl") == "!blast off"  # not the prefix


def test_interaction_room_text_is_said_unless_a_command_adp_3() -> None:
    """ADP-3: in i7's room text is `say i7 …`; `!bl CMD`, `!CMD` and bare accept act in i7."""
    assert interaction_command("i7", "hello there", "!bl").text == "say i7 hello there"
    assert interaction_command("i7", "i3 is not an id here", "!bl").text.startswith("say i7 i3")
    assert interaction_command("i7", "!bl consult @bob", "!bl").text == "consult @bob"
    assert interaction_command("i7", "!transfer", "!bl").text == "transfer"
    assert interaction_command("i7", "accept", "!bl").text == "accept"
    assert interaction_command("i7", "accept i7", "!bl").text == "accept"
    assert interaction_command("i7", "accept this please", "!bl").text.startswith("say i7")
    typed = interaction_command("i7", "!bl transfer", "!bl", edited=True)
    assert typed.text == "say i7 (edited) !bl transfer"  # an edit is never run
    assert typed.context == "i7"


def test_customers_lines_and_goodbye_int_2() -> None:
    """INT-2: a customer's `bye` hangs up; an edited line is marked, never a goodbye."""
    assert customer_text(" Bye ") == ("Bye", True)
    assert customer_text("bye", edited=True) == ("(edited) bye", False)
    assert route_target("support") == "group:support"
    assert route_target("rp-sales") == "rp:sales"


def test_nothing_private_or_a_notice_reaches_a_customer_con_2() -> None:
    """CON-2: consultation text and system notices are not rendered for customers."""
    assert for_customer(Say("customer:Ann", "secret", "i2", private=True)) is None
    assert for_customer(Say("customer:Ann", "note", notice=True)) is None
    assert for_customer(Say("customer:Ann", "hi", "i1")) == content("hi")


def test_system_messages_are_notices_talk_is_text_adp_3() -> None:
    """ADP-3: desk replies and system notices are m.notice; interaction talk is m.text."""
    assert for_member(Say("@alice", "You are ready."))["msgtype"] == "m.notice"
    assert for_member(Say("@alice", "Ann: hi", "i1"))["msgtype"] == "m.text"
    urgent = for_member(Say("@alice", "call me", notice=True, priority=Priority.URGENT))
    assert urgent["msgtype"] == "m.notice" and urgent["body"] == "(!!) call me"
    assert "<b>(!!)</b>" in urgent["formatted_body"]


@given(st.text(min_size=1, max_size=200))
def test_html_body_is_escaped_and_plain_body_is_the_text_adp_3(text: str) -> None:
    """ADP-3: the formatted body never carries markup from the text; the plain body is it."""
    shown = content(text)
    assert shown["body"] == text
    formatted = shown["formatted_body"]
    tags = re.findall(r"</?([a-z]+)", formatted)
    assert set(tags) <= {"code", "br"}
    plain = re.sub(r"<code>(.*?)</code>", r"`\1`", formatted.replace("<br>", "\n"))
    assert html.unescape(plain) == text  # nothing lost: code spans were the backticks


def event(content_: dict[str, object]) -> dict[str, object]:
    return {
        "type": "m.room.message",
        "room_id": "!r",
        "sender": "@a:x",
        "event_id": "$e",
    }.copy() | {"content": content_}


def test_edits_and_replies_are_read_as_their_new_words_adp_6() -> None:
    """ADP-6: an m.replace edit reads its m.new_content; a reply loses its quoted fallback."""
    edit = read_said(
        event(
            {
                "msgtype": "m.text",
                "body": "* fixed",
                "m.new_content": {"msgtype": "m.text", "body": "fixed"},
                "m.relates_to": {"rel_type": "m.replace", "event_id": "$old"},
            }
        )
    )
    assert edit is not None and (edit.body, edit.edited, edit.replaces) == ("fixed", True, "$old")
    reply = read_said(
        event(
            {
                "msgtype": "m.text",
                "body": "> <@b:x> the question\n> more\n\nthe answer",
                "m.relates_to": {"m.in_reply_to": {"event_id": "$q"}},
            }
        )
    )
    assert reply is not None and (reply.body, reply.reply_to) == ("the answer", "$q")
    assert read_said(event({"msgtype": "m.image", "body": "cat.png"})) is None
    assert read_said(event({"msgtype": "m.text", "body": "   "})) is None
    assert read_said(event({"msgtype": "m.text"})) is None


def test_a_correction_goes_out_as_an_m_replace_of_the_original_adp_6() -> None:
    body = for_member(Say("@alice", "Ann: (edited) <b>15</b> EUR", "i1"))
    edit = edit_of("$orig", body)
    assert edit["m.relates_to"] == {"rel_type": "m.replace", "event_id": "$orig"}
    new = edit["m.new_content"]
    assert new["body"] == "Ann: <b>15</b> EUR" and new["msgtype"] == "m.text"
    assert new["formatted_body"] == "Ann: &lt;b&gt;15&lt;/b&gt; EUR"  # still escaped
    assert edit["body"] == "* Ann: <b>15</b> EUR"  # what clients without edits show
