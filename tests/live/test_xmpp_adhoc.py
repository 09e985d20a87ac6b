"""Issue 14, acceptance 2: ad-hoc commands (XEP-0050) listed and run through forms (ADP-4).

A slixmpp client lists the bot's commands (per role: admins also see ``broadcast``) and runs
``consult`` and ``transfer`` by filling in their data forms; each runs as the typed command
would, so the colleague's client receives the offer and the store shows the outcome.
"""

from __future__ import annotations

from typing import Any

from tests.live.conftest import Live
from tests.support.prosody import COMPONENT, Client

SUPPORT = f"support@{COMPONENT}"
I1, I2 = f"i1@{COMPONENT}", f"i2@{COMPONENT}"


async def commands(client: Client) -> dict[str, str]:
    """The commands the bot lists for ``client``: node → name."""
    iq = await client.xmpp.plugin["xep_0050"].get_commands(jid=COMPONENT, timeout=5)
    return {item[1]: item[2] for item in iq["disco_items"]["items"]}


async def run(client: Client, node: str, values: dict[str, str]) -> tuple[Any, Any]:
    """Execute ``node``, fill its form with ``values``, complete it; (form, result)."""
    adhoc = client.xmpp.plugin["xep_0050"]
    first = await adhoc.send_command(COMPONENT, node, timeout=5)
    form = first["command"]["form"]
    submit = client.xmpp.plugin["xep_0004"].make_form(ftype="submit")
    for var, value in values.items():
        submit.add_field(var=var, value=value)
    done = await adhoc.send_command(
        COMPONENT,
        node,
        action="complete",
        payload=submit,
        sessionid=first["command"]["sessionid"],
        timeout=5,
    )
    return form, done


async def test_commands_listed_per_role_and_consult_transfer_run_through_forms_adp_4(
    live: Live,
) -> None:
    """Acceptance 2: list, then consult @bob (im) and transfer to @bob, all by forms."""
    alice, bob, sam = await live.user("alice"), await live.user("bob"), await live.user("sam")
    await live.ready("alice", "bob")
    assert set(await commands(alice)) == {"consult", "transfer", "notready"}
    assert set(await commands(sam)) == {"consult", "transfer", "notready", "broadcast"}

    ann = await live.accepted_chat(alice, "my parcel is lost")

    form, done = await run(alice, "consult", {"interaction": "i1", "target": "@bob", "type": "im"})
    fields = form.get_fields()
    assert {"interaction", "target", "type"} <= set(fields)
    assert fields["interaction"]["type"] == "list-single"
    assert "i1" in [o["value"] for o in fields["interaction"]["options"]]
    assert {o["value"] for o in fields["type"]["options"]} == {"im", "chat", "voice"}
    assert done["command"]["status"] == "completed"
    assert "Consultation i2 (im) about i1" in str(done["command"]["notes"])
    await bob.wait_body(I2, "asks you to consult")
    bob.say(I2, "accept")
    await alice.wait_body(I2, "@bob accepted i2")
    alice.say(I2, "/end")
    await bob.wait_body(I2, "ended i2")

    _, moved = await run(alice, "transfer", {"interaction": "i1", "target": "@bob"})
    assert "Transferring i1" in str(moved["command"]["notes"])
    await bob.wait_body(I1, "transfers", timeout=5.0)
    bob.say(I1, "accept")
    await ann.wait_body(SUPPORT, "You are now with Bob Baker.")
    stored = {ix["id"]: ix for ix in live.state()["interactions"]}
    assert stored["i1"]["owner"] == "bob"
    assert stored["i2"]["kind"] == "consultation"

    _, refused = await run(alice, "notready", {"reason": "lunch"})
    assert "error" not in str(refused["command"]["notes"]), refused
    assert live.presence("alice") == "not_ready"
    # bob is no admin: running broadcast anyway is refused by the command itself
    adhoc = bob.xmpp.plugin["xep_0050"]
    start = await adhoc.send_command(COMPONENT, "broadcast", timeout=5)
    assert start["command"]["status"] == "completed"
    assert "may not run broadcast" in str(start["command"]["notes"])
