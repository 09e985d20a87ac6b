"""Client mode: backline as an ordinary account where a component is not allowed (ADP-4)."""

from __future__ import annotations

from pathlib import Path

from adapters.xmpp import XmppConfig
from tests.live.conftest import Live, start_backline, stop_backline
from tests.support.prosody import PASSWORD, Client, Prosody


async def test_client_mode_commands_and_customer_chat_adp_4(
    prosody: Prosody, tmp_path: Path
) -> None:
    """ADP-4: as bot@localhost, members type commands and strangers become customers."""
    bot = prosody.register("backlinebot")
    config = XmppConfig(
        enabled=True, mode="client", jid=bot, secret=PASSWORD, port=prosody.c2s_port, plaintext=True
    )
    core, adapter = await start_backline(prosody, tmp_path / "backline.db", config)
    live = Live(prosody, core, adapter)
    try:
        alice = await live.user("alice")
        await live.ready("alice")
        mark = alice.mark()
        alice.say(bot, "status")
        await alice.wait_body(bot, "You are ready", after=mark)
        customer: Client = await live.customer()
        customer.say(bot, "hello from a client-mode customer")
        offer = await alice.wait_body(bot, "(i1) New chat from")
        assert "via group:support" in offer.body
        alice.say(bot, "accept i1")
        await customer.wait_body(bot, "Alice Anders joined.")
        alice.say(bot, "say i1 how can I help?")
        await customer.wait_body(bot, "Alice Anders: how can I help?")
        (stored,) = live.state()["interactions"]
        assert (stored["id"], stored["owner"], stored["state"]) == ("i1", "alice", "active")
    finally:
        for client in live.clients:
            await client.close()
        await stop_backline(core, adapter)
