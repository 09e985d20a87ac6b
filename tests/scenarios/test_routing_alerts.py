"""MSG-2: a routing fallback raises a system message for the group's supervisors."""

from __future__ import annotations

from bot.state import snapshot
from tests.support.console import Console


async def test_a_fallback_to_voicemail_alerts_the_supervisors_msg_2(console: Console) -> None:
    await console.run("sim call Carl group:support\ntick 29s")
    assert console.received("@sam", since_mark=False) == []
    await console.run("tick 1s")
    text = (
        "i1 voice with Carl waited 30s in group:support with nobody available; "
        "it went to voicemail."
    )
    voicemail = (
        "New voicemail in support from Carl (30s); support: 1 new, 0 old. "
        "`voicemail support` to listen."
    )
    assert console.received("@sam", since_mark=False) == [
        f"New message #1 (routing): {text}",
        f"New message #5 (voicemail): {voicemail}",  # MSG-4: sam reads the support box
    ]
    assert [m["text"] for m in snapshot(console.core.store)["inbox"]["sam"]] == [voicemail, text]
    assert console.received("@sky", since_mark=False) == []


async def test_a_fallback_to_another_group_names_it_msg_2(console: Console) -> None:
    await console.run("sim chat Ann group:billing hello\ntick 30s")
    inbox = snapshot(console.core.store)["inbox"]
    assert [m["text"] for m in inbox["sky"]] == [
        "i1 chat with Ann waited 30s in group:billing with nobody available; "
        "it went to group:support."
    ]
    assert "sam" not in inbox
