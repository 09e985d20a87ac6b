"""The gateway: internal IM between an XMPP member and a console member (ADP-6, IM-1, IM-2)."""

from __future__ import annotations

import asyncio
import io

from adapters.console.adapter import ConsoleAdapter
from bot.port import Port
from tests.live.conftest import Live
from tests.support.prosody import COMPONENT

BOT = COMPONENT


def console_lines(out: io.StringIO, who: str) -> list[str]:
    return [line for line in out.getvalue().splitlines() if line.startswith(f"[{who}]")]


async def test_im_between_xmpp_and_console_both_ways_no_echo_adp_6_im_1(live: Live) -> None:
    """ADP-6 / IM-1: alice (XMPP) and dana (console only) IM both ways, with names, no loops."""
    out = io.StringIO()
    console = ConsoleAdapter(Port(live.core, "console"), out, echo=False)
    live.core.delivery.attach(console)
    alice = await live.user("alice")
    await live.ready("alice")
    await console.type("dana", "ready")

    # XMPP → console: alice opens an IM to dana.
    alice.say(BOT, "im @dana hello dana FROM-XMPP-1")
    await alice.wait_body(BOT, "IM i1: Offered to @dana")
    await live.until(lambda: any("FROM-XMPP-1" in s for s in console_lines(out, "@dana")))
    await console.type("dana", "accept i1")
    await alice.wait_body(f"i1@{COMPONENT}", "@dana")  # dana joined, seen in alice's i1 contact
    await console.type("dana", "say i1 hi alice FROM-CONSOLE-1")
    got = await alice.wait_body(f"i1@{COMPONENT}", "FROM-CONSOLE-1")
    assert got.body == "@dana: hi alice FROM-CONSOLE-1"  # the sender's name travels
    alice.say(f"i1@{COMPONENT}", "how are you FROM-XMPP-2")
    await live.until(
        lambda: "[@dana] (i1) @alice: how are you FROM-XMPP-2" in console_lines(out, "@dana")
    )

    # console → XMPP: dana opens a second IM to alice; alice accepts in the new contact.
    await console.type("dana", "im @alice second thread FROM-CONSOLE-2")
    offer = await alice.wait_body(f"i2@{COMPONENT}", "FROM-CONSOLE-2")
    assert "@dana" in offer.body
    alice.say(f"i2@{COMPONENT}", "accept")
    await alice.wait_body(f"i2@{COMPONENT}", "You joined i2")
    alice.say(f"i2@{COMPONENT}", "yes FROM-XMPP-3")
    await live.until(lambda: any("FROM-XMPP-3" in s for s in console_lines(out, "@dana")))

    # No echo: alice never receives her own words; each relayed line arrives exactly once.
    bodies = alice.bodies()
    assert not [b for b in bodies if "FROM-XMPP-2" in b or "FROM-XMPP-3" in b]
    assert len([b for b in bodies if "FROM-CONSOLE-1" in b]) == 1
    assert len([s for s in console_lines(out, "@dana") if "FROM-XMPP-2" in s]) == 1
    # and nothing keeps bouncing around: the traffic stays quiet after the last line
    before = len(alice.received)
    await asyncio.sleep(0.3)
    assert len([r for r in alice.received[before:] if r.kind == "message"]) == 0
