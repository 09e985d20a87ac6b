"""ADP-5: the baresip harness against a real SIPp peer that echoes RTP (no backline SIP here).

``tests/support/baresip.py`` is what the signalling side's live tests use as a desk phone.
These tests prove it with real peers: baresip dials SIPp's built-in ``uas`` (``-rtp_echo``),
and SIPp's built-in ``uac`` calls an auto-answering baresip; either way the 440 Hz it sends
comes back through the echo and is what it heard.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.adapters.sip.media.sipp import Sipp
from tests.support import tones
from tests.support.baresip import Baresip, baresip_missing
from tests.support.prosody import env_in_ci

if (baresip_missing() or shutil.which("sipp") is None) and not env_in_ci():
    pytest.skip("baresip or sipp is not installed", allow_module_level=True)


@pytest.fixture
def phone(tmp_path: Path) -> Iterator[Baresip]:
    tone = tones.write_wav(tmp_path / "tone.wav", tones.tone(440, 10.0))
    baresip = Baresip(tmp_path / "baresip", tone, auto_answer=True)
    yield baresip
    baresip.stop()


def assert_heard_its_echo(phone: Baresip) -> None:
    heard = tones.read_wav(phone.heard())
    assert len(heard) >= tones.RATE, phone.log_text()[-2000:]
    assert tones.heard(heard[tones.RATE // 2 :], (440, 880)) == {440}
    assert tones.heard(tones.read_wav(phone.sent()), (440, 880)) == {440}


def test_baresip_dials_sipp_uas_and_hears_the_echo_adp_5(phone: Baresip, tmp_path: Path) -> None:
    sipp = Sipp(tmp_path, "-sn", "uas", "-rtp_echo")
    try:
        phone.start(dial=f"sip:echo@127.0.0.1:{sipp.port}", seconds=4)
        phone.wait_for_log("Call established", timeout=10)
        assert phone.wait(20) == 0
    finally:
        sipp.stop()
    assert_heard_its_echo(phone)


def test_sipp_uac_calls_an_auto_answering_baresip_adp_5(phone: Baresip, tmp_path: Path) -> None:
    phone.start(seconds=15)
    phone.wait_for_log("baresip is ready", timeout=10)
    target = f"127.0.0.1:{phone.sip_port}"
    sipp = Sipp(tmp_path, "-sn", "uac", target, "-s", phone.user, "-d", "3000", "-rtp_echo")
    try:
        assert sipp.process.wait(30) == 0, phone.log_text()[-2000:]
    finally:
        sipp.stop()
        phone.stop()
    assert_heard_its_echo(phone)
