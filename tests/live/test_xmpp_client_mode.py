"""Client mode: backline as an ordinary account where a component is not allowed (ADP-4)."""

from __future__ import annotations

from pathlib import Path

from adapters.xmpp.adapter import XmppAdapter
from adapters.xmpp.config import XmppConfig
from bot.clock import SystemClock
from bot.core import Core
from tests.live.conftest import Live
from tests.support.console import RULES
from tests.support.prosody import PASSWORD, Client, Prosody


async def test_client_mode_commands_and_customer_chat_adp_4(
    prosody: Prosody, tmp_path: Path
) -> None:
    """ADP-4: as bot@localhost, members type commands and strangers become customers."""
    bot = prosody.register("backlinebot")
    core = Core.open(RULES, tmp_path / "backline.db", SystemClock())
    config = XmppConfig(
        enabled=True, mode="client", jid=bot, secret=PASSWORD, port=prosody.c2s_port, plaintext=True
    )
    adapter = XmppAdapter(core, config)
    await adapter.start()
    live = Live(prosody, core, adapter)
    try:
        assert adapter.connected
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
    finally:
        for client in live.clients:
            await client.close()
        await adapter.stop()
        core.store.close()
