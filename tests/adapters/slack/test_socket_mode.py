"""Socket Mode against a local websocket stub: envelopes in, acks out (ADP-2)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.adapters.slack.driver import SlackDriver, payload
from tests.adapters.slack.stub import SlackStub


@pytest.fixture
async def socket_slack(tmp_path: Path, stub: SlackStub) -> AsyncIterator[SlackDriver]:
    driver = SlackDriver(
        tmp_path / "backline.db", stub, mode="socket", app_token="xapp-1-A0BACKLINE-1-abc123"
    )
    await driver.start()
    yield driver
    await driver.stop()


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
    envelope of a `/bl ready` only once the command is stored, and answers through its
    response_url."""
    stub, store = socket_slack.stub, socket_slack.core.store
    stored_at_ack: list[int] = []
    stub.on_socket_in.append(lambda _: stored_at_ack.append(len(store.events(kind="command"))))
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
    assert stored_at_ack[0] == 1  # committed before the ack went out
    await until(lambda: bool(stub.responses))
    assert stub.responses[0]["text"] == "You are ready."
    assert socket_slack.presence("alice") == "ready"
