"""The whole story over real XMPP (ADP-4, CON-2, CNF-3, CNF-4, INT-2).

A customer JID chats to ``support@backline.localhost``; alice accepts in the ``i1`` contact,
consults bob over IM in ``i2``, conferences chen, leaves; the customer never sees the
consultation. Every party's received stanzas are asserted.
"""

from __future__ import annotations

from tests.live.conftest import Live
from tests.support.prosody import COMPONENT, Client

BOT = COMPONENT
SUPPORT = f"support@{COMPONENT}"
I1, I2 = f"i1@{COMPONENT}", f"i2@{COMPONENT}"
SECRETS = ("TOKEN-CONSULT-BOB", "TOKEN-CONSULT-ALICE", "consult", "i2")


def from_(client: Client, jid: str) -> list[str]:
    return client.bodies(jid)


async def test_customer_chat_consult_conference_leave_adp_4_con_2(live: Live) -> None:
    """ADP-4 / CON-2 / CNF-4: the full story; the customer never receives consultation text."""
    alice = await live.user("alice")
    await live.ready("alice")
    ann = await live.customer()

    # INT-2: an outside JID opens a chat to the routing address; alice is offered i1.
    ann.say(SUPPORT, "hello I need help")
    offer = await alice.wait_body(I1, "New chat from")
    assert "via group:support" in offer.body
    await ann.wait_body(SUPPORT, "thanks for getting in touch")
    alice.say(I1, "accept")  # a bare accept in the interaction's contact
    await alice.wait_body(I1, "You have i1 chat")
    await ann.wait_body(SUPPORT, "Alice Anders joined.")

    bob, chen = await live.user("bob"), await live.user("chen")
    await live.ready("bob", "chen")

    ann.say(SUPPORT, "order 42 is late")
    await alice.wait_body(I1, "order 42 is late")
    alice.say(I1, "sorry, checking order 42")
    await ann.wait_body(SUPPORT, "Alice Anders: sorry, checking order 42")

    # CON-1: a consultation over IM has its own contact, shared only by alice and bob.
    alice.say(BOT, "consult @bob im")
    await alice.wait_body(BOT, "Consultation i2 (im) about i1")
    await bob.wait_body(I2, "asks you to consult")
    bob.say(I2, "/accept")
    await bob.wait_body(I2, "You joined i2 im consultation about i1")
    await alice.wait_body(I2, "@bob accepted i2")
    bob.say(I2, "it is lost, refund it TOKEN-CONSULT-BOB")
    await alice.wait_body(I2, "@bob: it is lost, refund it TOKEN-CONSULT-BOB")
    alice.say(I2, "thanks TOKEN-CONSULT-ALICE")
    await bob.wait_body(I2, "@alice: thanks TOKEN-CONSULT-ALICE")
    alice.say(I2, "/end")
    await bob.wait_body(I2, "ended i2")
    bob.say(I2, "done")
    alice.say(I2, "done")
    # the contact shows the consultation closed once both marked it done (ADP-4)
    await alice.wait_for(lambda r: r.kind == "presence" and r.frm == I2 and r.type == "unavailable")

    # CNF-1: conference chen into i1, from inside the i1 contact.
    alice.say(I1, "/conference @chen")
    await chen.wait_body(I1, "invites you to a conference on i1")
    chen.say(I1, "accept")
    await chen.wait_body(I1, "You joined the conference on i1")
    chen.say(I1, "hi Ann, chen here")
    await ann.wait_body(SUPPORT, "Chen Li: hi Ann, chen here")
    await alice.wait_body(I1, "@chen: hi Ann, chen here")

    # CNF-3 / CNF-4: alice leaves; the chat goes on with chen.
    mark_alice = alice.mark()
    alice.say(I1, "/leave")
    await alice.wait_body(I1, "You left i1.", after=mark_alice)
    await chen.wait_body(I1, "@chen now owns i1.")
    mark_alice = alice.mark()
    ann.say(SUPPORT, "thanks, bye for now")
    await chen.wait_body(I1, "thanks, bye for now")
    ann.say(SUPPORT, "bye")
    await chen.wait_body(I1, "left i1")
    assert [b for b in alice.bodies(I1)[mark_alice:] if "bye for now" in b] == []
    assert not any("bye for now" in r.body for r in alice.received[mark_alice:])
    await alice.wait_for(  # alice's i1 contact shows she is out of it
        lambda r: r.kind == "presence" and r.frm == I1 and r.type == "unavailable"
    )

    # What each party received.
    ann_msgs = ann.messages()
    assert ann_msgs, "the customer received nothing"
    assert {m.frm.split("/")[0] for m in ann_msgs} == {SUPPORT}  # only the routing address
    leaked = [m.body for m in ann_msgs if any(s in m.body for s in SECRETS)]
    assert leaked == [], f"the customer saw consultation content: {leaked}"  # CON-2
    assert not [r for r in ann.received if r.frm.startswith(("i1@", "i2@"))]
    assert "TOKEN-CONSULT-ALICE" not in " ".join(b.body for b in chen.messages())
    # bob only ever heard from the bot and i2; chen only from i1 and the bot
    assert {m.frm.split("/")[0] for m in bob.messages()} <= {BOT, I2}
    assert {m.frm.split("/")[0] for m in chen.messages()} <= {BOT, I1}
    # alice never got her own words echoed back (ADP-6)
    assert not [b for b in alice.bodies() if "sorry, checking order 42" in b]
    assert not [
        b
        for b in bob.bodies()
        if b.endswith("it is lost, refund it TOKEN-CONSULT-BOB") and not b.startswith("@alice")
    ]
    stored = {ix["id"]: ix for ix in live.state()["interactions"]}
    assert stored["i1"]["owner"] == "chen"
    assert not [p for p in stored["i2"]["parties"] if p["connected"]]
