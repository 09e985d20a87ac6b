"""Socket Mode against a local websocket stub: envelopes in, acks out (ADP-2)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from bot.core import Core
from tests.adapters.slack.driver import SlackDriver, payload
from tests.adapters.slack.stub import SlackStub


@pytest.fixture
async def socket_slack(core: Core, stub: SlackStub) -> AsyncIterator[SlackDriver]:
    driver = SlackDriver(core, stub, mode="socket", app_token="xapp-1-A0BACKLINE-1-abc123")
    await driver.start()
    yield driver
    await driver.stop()
    core.store.close()


async def until(check: object, seconds: float = 5.0) -> None:
    """Bounded polling: wait for ``check()`` to be true, at most ``seconds``."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while not check():  # type: ignore[operator]
        assert loop.time() < deadline, "timed out"
        await asyncio.sleep(0.01)


async def test_socket_mode_slash_command_is_acked_and_answered_adp_2(
    socket_slack: SlackDriver,
) -> None:
    """ADP-2: with mode=socket the app connects (apps.connections.open → websocket), acks the
    envelope of a `/bl ready` and answers through its response_url."""
    stub = socket_slack.stub
    assert stub.called("apps.connections.open")
    form = {**payload("slash_command"), "response_url": stub.response_url("sock")}
    await stub.socket_out.put(
        {
            "envelope_id": "57d6a792-4d35-4d0b-b6aa-3361493e1caf",
            "payload": form,
            "type": "slash_commands",
            "accepts_response_payload": True,
        }
    )
    await until(lambda: any(m.get("envelope_id") for m in stub.socket_in))
    assert stub.socket_in[0]["envelope_id"] == "57d6a792-4d35-4d0b-b6aa-3361493e1caf"
    await until(lambda: bool(stub.responses))
    assert stub.responses[0]["text"] == "You are ready."
    assert socket_slack.core.directory.presence("alice").describe() == "ready"
