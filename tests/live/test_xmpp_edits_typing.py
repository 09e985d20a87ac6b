"""Issue 14, acceptance 3: corrections (XEP-0308) and chat states (XEP-0085) (ADP-4, ADP-6).

In a customer story a correction arrives as a correction: a ``<replace/>`` of the message
the other side was sent for the original, unmarked, so clients show one edited line (and
nobody gets an unmarked second copy); typing shows on the other side, and typing in a
consultation never reaches the customer. Across platforms, an XMPP member's correction
reaches a console colleague marked "(edited)", and her typing reaches an adapter that shows
typing.
"""

from __future__ import annotations

import asyncio
import io
import re
from typing import Any

from adapters.console.adapter import ConsoleAdapter
from bot.port import ChatState, Port
from tests.live.conftest import Live
from tests.support.prosody import COMPONENT, Client, Received

BOT = COMPONENT
SUPPORT = f"support@{COMPONENT}"
I1, I2 = f"i1@{COMPONENT}", f"i2@{COMPONENT}"
STATES = "http://jabber.org/protocol/chatstates"


def typing(client: Client, to: str, state: str = "composing") -> None:
    msg = client.xmpp.make_message(mto=to, mtype="chat")
    msg["chat_state"] = state
    msg.send()


def correct(client: Client, to: str, original: Any, body: str) -> None:
    msg = client.xmpp.make_message(mto=to, mbody=body, mtype="chat")
    msg["replace"]["id"] = original["id"]
    msg.send()


def message_id(received: Received) -> str:
    """The id of a received message stanza."""
    found = re.match(r"<message [^>]*\bid=['\"]([^'\"]+)['\"]", received.xml)
    assert found, received.xml
    return found.group(1)


def corrected_id(received: Received) -> str | None:
    """The id a received message corrects (XEP-0308), if it is a correction."""
    found = re.search(r"<replace [^>]*id=['\"]([^'\"]+)['\"]", received.xml)
    return found.group(1) if found else None


def state_from(frm: str, state: str) -> Any:
    return lambda r: (
        r.kind == "message"
        and not r.body
        and r.frm.split("/")[0] == frm
        and f"<{state} " in r.xml
        and STATES in r.xml
    )


class TypingConsole(ConsoleAdapter):
    """A console that also records the chat states it is given (a platform that shows typing)."""

    def __init__(self, port: Port, out: io.StringIO) -> None:
        super().__init__(port, out, echo=False)
        self.states: list[ChatState] = []

    async def send_chat_states(self, states: list[ChatState]) -> None:
        self.states.extend(states)


async def test_corrections_and_typing_in_a_customer_story_adp_4(live: Live) -> None:
    """Acceptance 3: "50 EUR" corrected to "15 EUR"; typing both ways; consult typing private."""
    alice, bob = await live.user("alice"), await live.user("bob")
    await live.ready("alice", "bob")
    ann = await live.accepted_chat(alice, "refund please")

    typing(ann, SUPPORT)
    await alice.wait_for(state_from(I1, "composing"))
    first = ann.say(SUPPORT, "it was 50 EUR")
    seen = await alice.wait_body(I1, "it was 50 EUR")
    correct(ann, SUPPORT, first, "it was 15 EUR")
    fixed = await alice.wait_body(I1, "15 EUR")
    assert fixed.body.endswith(": it was 15 EUR") and "(edited)" not in fixed.body
    assert corrected_id(fixed) == message_id(seen)  # the line alice saw is edited, not repeated
    assert [b for b in alice.bodies(I1) if "15 EUR" in b] == [fixed.body]
    correct(ann, SUPPORT, first, "it was 16 EUR")  # a second correction edits the same line
    again = await alice.wait_body(I1, "16 EUR")
    assert corrected_id(again) == message_id(seen)

    mark = ann.mark()
    typing(alice, I1)
    await ann.wait_for(state_from(SUPPORT, "composing"), after=mark)
    typing(alice, I1, "paused")
    await ann.wait_for(state_from(SUPPORT, "paused"), after=mark)
    mine = alice.say(I1, "refunding 51 EUR")
    sent = await ann.wait_body(SUPPORT, "refunding 51 EUR")
    correct(alice, I1, mine, "refunding 15 EUR")
    got = await ann.wait_body(SUPPORT, "15 EUR", after=mark)
    assert got.body == "Alice Anders: refunding 15 EUR"
    assert corrected_id(got) == message_id(sent)

    alice.say(BOT, "consult @bob im")
    await bob.wait_body(I2, "asks you to consult")
    bob.say(I2, "accept")
    await alice.wait_body(I2, "@bob accepted i2")
    mark = ann.mark()
    typing(alice, I2)
    await bob.wait_for(state_from(I2, "composing"))
    typing(bob, I2)
    await alice.wait_for(state_from(I2, "composing"))
    await asyncio.sleep(0.2)
    leaked: list[Received] = [r for r in ann.received[mark:] if STATES in r.xml]
    assert leaked == []  # consultation typing never reaches the customer
    rows = live.core.store.conn.execute("SELECT count(*) FROM events WHERE kind = 'said'")
    assert rows.fetchone()[0] == 6  # typing is never stored: only the six lines said


async def test_correction_and_typing_across_platforms_in_an_im_adp_6(live: Live) -> None:
    """Acceptance 3: alice (XMPP) and dana (console) — a marked correction, typing relayed."""
    out = io.StringIO()
    console = TypingConsole(Port(live.core, "console"), out)
    live.core.delivery.attach(console)
    alice = await live.user("alice")
    await live.ready("alice")
    await console.type("dana", "ready")
    alice.say(BOT, "im @dana lunch at 1?")
    await live.until(lambda: "lunch at 1?" in out.getvalue())
    await console.type("dana", "accept i1")
    await alice.wait_body(I1, "@dana")
    first = alice.say(I1, "see you at 12")
    await live.until(lambda: "see you at 12" in out.getvalue())
    correct(alice, I1, first, "see you at 13")
    await live.until(lambda: "(edited) see you at 13" in out.getvalue())
    lines = [line for line in out.getvalue().splitlines() if line.startswith("[@dana]")]
    assert [line for line in lines if "see you at 13" in line] == [
        "[@dana] (i1) @alice: (edited) see you at 13"
    ]
    typing(alice, I1)
    await live.until(lambda: any(s.to == "@dana" for s in console.states))
    assert [(s.state, s.interaction) for s in console.states if s.to == "@dana"] == [
        ("composing", "i1")
    ]
    told = await live.port.chat_state("alice@localhost", "paused", "i1")
    assert told == 1
    live.core.delivery.detach(console)
