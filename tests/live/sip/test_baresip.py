"""Real softphones on both ends: baresip calls in, baresip answers as alice (ADP-5).

The caller's baresip sends 440 Hz from a WAV; alice's baresip registers with digest,
answers automatically and sends 880 Hz; backline bridges them. What each phone decoded
(baresip's own call recording) holds the other's tone and not its own.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest

from tests.adapters.sip.harness import password, phone_system
from tests.adapters.sip.lines import AGENT_HZ, CUSTOMER_HZ, until
from tests.support import tones
from tests.support.baresip import Baresip, baresip_missing


@pytest.fixture(autouse=True)
def baresip_installed() -> None:
    """Skip without baresip, unless CI is set."""
    if baresip_missing():
        if os.environ.get("CI"):
            pytest.fail("baresip is not installed")
        pytest.skip("baresip is not installed")


class LoopbackBaresip(Baresip):
    """baresip whose SDP names the address it sends from (``net_interface 127.0.0.1``)."""

    def write_config(self) -> None:
        super().write_config()
        with (self.directory / "config").open("a", encoding="utf-8") as config:
            config.write(f"net_interface {self.host}\n")


def tone_file(path: Path, hz: float) -> Path:
    """Ten seconds of ``hz`` as an 8 kHz WAV."""
    tones.write_wav(path, tones.tone(hz, 10.0))
    return path


async def test_two_baresip_phones_hear_each_other_through_backline_adp_5(tmp_path: Path) -> None:
    """ADP-5: Ann's baresip dials sales; alice's registered baresip answers; each hears the
    other's tone."""
    async with phone_system(tmp_path) as system:
        await system.type("alice", "ready")
        alice = LoopbackBaresip(
            tmp_path / "alice",
            tone_file(tmp_path / "alice.wav", AGENT_HZ),
            user="1001",
            rtp_ports=(31100, 31198),
            auto_answer=True,
            registrar=system.target,
            password=password("1001"),
        )
        ann = LoopbackBaresip(
            tmp_path / "ann",
            tone_file(tmp_path / "ann.wav", CUSTOMER_HZ),
            user="ann",
            rtp_ports=(31200, 31298),
        )
        (tmp_path / "alice").mkdir()
        (tmp_path / "ann").mkdir()
        try:
            alice.start(seconds=30)
            await until(lambda: system.adapter.registrar.binding("1001") is not None, 15)
            ann.start(dial=f"sip:sales@{system.target}", seconds=30)
            await until(lambda: (c := system.adapter.port.voice().call("i1")) is not None
                        and c.state == "active", 15)  # fmt: skip
            await asyncio.sleep(3)
        finally:
            ann.stop()
            alice.stop()
        heard_by_ann = tones.read_wav(ann.heard())
        heard_by_alice = tones.read_wav(alice.heard())
        assert tones.heard_anywhere(heard_by_ann, (CUSTOMER_HZ, AGENT_HZ)) == {AGENT_HZ}
        assert tones.heard_anywhere(heard_by_alice, (CUSTOMER_HZ, AGENT_HZ)) == {CUSTOMER_HZ}
