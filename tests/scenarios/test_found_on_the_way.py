"""Smaller things a contact centre notices (INT-4, CON-5, CON-7, TRF-4, CNF-2, DIR-6)."""

from __future__ import annotations

from bot.port.plugin import discover
from tests.scenarios.wording import bad_wording
from tests.support.console import Console
from tests.support.state import stored


async def test_refusals_name_commands_not_machine_triggers_int_4(console: Console) -> None:
    """INT-4: a refusal lists commands a member can type (`say`), never `talk`/`supervise`."""
    await console.run("@alice: ready\nsim call Carl @alice\n@alice: accept\n@alice: resume")
    refusal = console.last("@alice")
    assert refusal.startswith(
        "Can't resume i1 voice with Carl: it is active. Possible now: `hold`, `consult`, "
        "`transfer`, `conference`, `say`, `leave`, `end`."
    )
    assert "`talk`" not in refusal and "`supervise`" not in refusal


async def test_list_drops_items_marked_done_and_says_with_whom_int_1(console: Console) -> None:
    """INT-1: done items leave `list`; an IM and an internal call say with whom."""
    await console.run(
        "@alice: ready\n@bob: ready\nsim chat Ann @alice hi\n@alice: accept\n@alice: end\n"
        "@alice: done\n@alice: im @bob lunch?\n@bob: accept\n@chen: ready\n@alice: call @chen"
    )
    console.mark()
    await console.run("@alice: list")
    assert console.received("@alice") == [
        "Your interactions:",
        "  i2 im with @bob — active, you own it",
        "  i3 internal call with @chen — offered, you own it (current)",
    ]


async def test_consultant_is_told_when_the_customer_hangs_up_con_5(console: Console) -> None:
    """CON-5: Ann hangs up while bob consults; bob hears it, and i2 goes on."""
    await console.run(
        "@alice: ready\n@bob: ready\nsim chat Ann @alice hi\n@alice: accept\n"
        "@alice: consult @bob\n@bob: accept"
    )
    console.mark()
    await console.run("sim hangup Ann")
    assert console.received("@bob") == [
        "(i2) Ann hung up; i1 has ended. i2 goes on until it is ended."
    ]
    assert stored(console, "i2")["state"] == "active"


async def test_a_withdrawn_transfer_offer_tells_its_target_trf_4(console: Console) -> None:
    """TRF-4: Carl hangs up while the transfer rings bob; bob is told it was withdrawn."""
    await console.run(
        "@alice: ready\n@bob: ready\nsim call Carl @alice\n@alice: accept\n@alice: transfer @bob"
    )
    console.mark()
    await console.run("sim hangup Carl\n@bob: accept i1")
    withdrawn, accept = console.received("@bob")
    assert withdrawn == "(i1) i1 voice with Carl ended, so its offer to you is withdrawn."
    assert accept.endswith(")") and "(ref " in accept  # refused: there is nothing to take
    assert stored(console, "i1")["owner"] == "alice"


async def test_text_said_while_muted_is_not_in_a_later_joiners_transcript_cnf_2(
    console: Console,
) -> None:
    """CNF-2: nobody heard bob while muted, so chen's briefing does not show it either."""
    await console.run(
        "@alice: ready\n@bob: ready\n@chen: ready\nsim chat Ann @alice hi\n@alice: accept\n"
        "@alice: conference @bob\n@bob: accept\n@alice: mute @bob\n@bob: say MUTED-1x\n"
        "@alice: unmute @bob\n@bob: say HEARD-2y"
    )
    console.mark()
    await console.run("@alice: conference @chen\n@chen: accept")
    briefing = console.received("@chen")
    assert "  @bob: HEARD-2y" in briefing
    assert not [line for line in briefing if "MUTED-1x" in line]
    assert not [
        line for line in console.received("customer:Ann", since_mark=False) if "MUTED" in line
    ]


async def test_link_accepts_only_platforms_with_an_adapter_dir_6(console: Console) -> None:
    """DIR-6: `link @bob fax 123` names the platforms there are adapters for; nothing stored."""
    await console.run("@sam: link @bob fax 123\n@sam: link @bob matrix @bob:localhost")
    refused, linked = console.received("@sam")
    platforms = ", ".join(name for name in discover() if name != "console")
    assert "slack" in platforms and "xmpp" in platforms
    assert refused.startswith(
        f"'fax' is not a platform backline has an adapter for; use one of: {platforms}."
    )
    assert linked == "Linked matrix account '@bob:localhost' to @bob."


def test_the_wording_check_catches_handles_target_ids_and_system_words_int_2() -> None:
    """INT-2: the check every scenario runs (tests/scenarios/conftest.py) flags what it must."""
    transcript = [
        "[customer:Ann] (i1) Nobody in group:billing answered; trying group:support.",
        "[customer:Ann] (i1) You are now with @eli.",
        "[customer:Ann] (i1) The voice has ended.",
        "[customer:Ann] (i1) Your message was left in vm:dana.",
        "[customer:Ann] (i1) Bob Baker joined.",
        "[customer:Ann] (i1) Please hold, we are finding someone for you.",
        "[@eli] (i1) New chat from Ann via group:billing",
    ]
    assert bad_wording(transcript) == [
        "Nobody in group:billing answered; trying group:support.",
        "You are now with @eli.",
        "The voice has ended.",
        "Your message was left in vm:dana.",
    ]
