"""Voicemail on real phones: a transfer to a logged-off member records the caller's WAV,
the member plays it back with the DTMF menu after the PIN, and the subscribed phone's
message-waiting NOTIFYs follow the counts (MSG-4, MSG-5, TRF-6; RFC 3842, RFC 4733).
"""

from __future__ import annotations

from pathlib import Path

from bot.state import snapshot
from tests.adapters.sip.harness import PhoneSystem, password, phone_system
from tests.adapters.sip.lines import (
    AGENT_HZ,
    CUSTOMER_HZ,
    agent,
    connected,
    until,
)
from tests.adapters.sip.media.phone import Phone
from tests.support import tones
from tests.support.sipp import Sipp


def messages(system: PhoneSystem, box: str) -> list[dict[str, object]]:
    """The mailbox's messages as stored."""
    rows = system.core.store.conn.execute(
        "SELECT id, caller, media, duration, status FROM voicemails WHERE mailbox = ?", (box,)
    ).fetchall()
    return [
        dict(zip(("id", "caller", "media", "duration", "status"), r, strict=True)) for r in rows
    ]


async def test_a_transfer_to_a_logged_off_member_records_a_wav_heard_through_the_menu_msg_5(
    tmp_path: Path,
) -> None:
    """Acceptance 4: bob transfers Ann to alice (logged off) → Ann hears the greeting and
    her 440 Hz is recorded into alice's mailbox; alice's subscribed phone gets 0/0, then
    1/0; alice dials *97, keys 2345# and 1 → the message is played and MWI says 0/1."""
    async with phone_system(
        tmp_path, policy_edits=(("require_pin: false", "require_pin: true"),)
    ) as system:
        await system.type("alice", "mailbox pin 2345 alice")
        await system.type("alice", "logout")
        mwi = Sipp(tmp_path / "mwi")
        credentials = ("-au", "1001", "-ap", password("1001"))
        await mwi.start(
            "mwi_subscribe", system.target, "-inf", str(mwi.fields("1001")), *credentials
        )
        await until(lambda: bool(system.adapter.mwi.subscriptions))
        await system.type("bob", "ready")
        bob = await agent(system, tmp_path, "bob", AGENT_HZ)
        ann_phone = Phone(CUSTOMER_HZ)
        await ann_phone.open()
        ann = Sipp(tmp_path / "ann")
        fields = str(ann.fields(str(ann_phone.port)))
        await ann.start("caller_talks", system.target, "-s", "sales", "-inf", fields, "-d", "3000")
        await connected(system, bob)
        await until(lambda: system.adapter.calls.dialogs.of("customer:Ann") is not None)
        dialog = system.adapter.calls.dialogs.of("customer:Ann")
        assert dialog is not None
        await until(
            lambda: dialog.leg in system.adapter.calls.rtp_ports and dialog.answer is not None
        )
        ann_phone.send_to(system.adapter.calls.rtp_ports[dialog.leg])
        reply = await system.type("bob", "transfer @alice")
        assert "voicemail" in reply, reply
        assert (await ann.wait(15)).ok, ann.errors()
        await until(
            lambda: (
                bool(messages(system, "alice"))
                and messages(system, "alice")[0]["media"] is not None
            )
        )
        [left] = messages(system, "alice")
        assert left["caller"] == "Ann" and left["status"] == "new"
        recorded = tones.read_wav(Path(str(left["media"])))
        assert len(recorded) > 8000  # more than a second of Ann
        assert CUSTOMER_HZ in tones.heard(recorded, (CUSTOMER_HZ, AGENT_HZ))
        assert AGENT_HZ not in tones.heard(recorded, (CUSTOMER_HZ, AGENT_HZ))
        listen = Sipp(tmp_path / "listen")
        outcome = await listen.run(
            "listen_voicemail", system.target, "-inf", str(listen.fields("1001")), *credentials
        )
        assert outcome.ok, outcome.output + listen.errors()
        await until(lambda: messages(system, "alice")[0]["status"] == "old")
        texts = [e["text"] for e in system.events("command") if e["platform"] == "sip"]
        assert texts[-5:] == ["voicemail", "pin 2345", "next", "play", "end i2"], texts
        played = [e for e in system.core.store.events(kind="played")]
        assert played and played[0].actor == "alice"
        assert snapshot(system.core.store)["mailboxes"]["alice"]["old"] == 1
        subscribed = await mwi.wait(15)
        assert subscribed.ok, subscribed.output + mwi.errors()
        await bob.close()
        await ann_phone.close()
