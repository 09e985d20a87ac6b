"""CON-3, TRF-3, CNF-2: the transcript a briefing shows is the log's, kept or not.

A live interaction keeps its short transcript with it, so a briefing reads no log; these
tests hold that copy to the log across a restart, a rolled-back command and a long chat.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.interaction import talk
from tests.support.console import RULES, Console

CHAT = """
@alice: ready
@bob: ready
sim chat Ann @alice hello I need help
@alice: accept
sim say Ann order 42 is late
@alice: say i1 sorry Ann, checking order 42
"""
SAID = [
    "  Ann: hello I need help",
    "  Ann: order 42 is late",
    "  @alice: sorry Ann, checking order 42",
]


def briefed(console: Console, who: str) -> list[str]:
    """The transcript lines of the last briefing ``who`` received."""
    lines = console.last(who).splitlines()
    return lines[lines.index("Transcript so far:") + 1 :]


async def test_a_transfer_after_a_restart_briefs_the_whole_transcript_trf_3(
    tmp_path: Path,
) -> None:
    """A restart keeps no transcript in memory: the briefing after it reads the log."""
    database = tmp_path / "backline.db"
    first = Console(RULES, database)
    await first.run(CHAT)
    assert first.core.engine.live["i1"].transcript is not None  # kept while it ran
    first.close()
    second = Console(RULES, database)
    try:
        assert second.core.engine.live["i1"].transcript is None
        await second.run(
            "@bob: ready\nsim say Ann are you there?\n@alice: transfer @bob\n@bob: accept"
        )
        assert briefed(second, "@bob") == [*SAID, "  Ann: are you there?"]
    finally:
        second.close()


async def test_a_rolled_back_line_is_in_no_later_briefing_con_3(tmp_path: Path) -> None:
    """A command that said something and then failed leaves no line behind, kept or logged."""
    console = Console(RULES, tmp_path / "backline.db")
    try:
        await console.run(CHAT)
        engine = console.core.engine

        async def say_then_fail() -> None:
            await engine.talk.say(engine.live["i1"], "@alice", "a line that never was")
            raise RuntimeError("the command fails after it spoke")

        with pytest.raises(RuntimeError):
            await console.core.act(say_then_fail)
        await console.run("@alice: transfer @bob\n@bob: accept")
        assert briefed(console, "@bob") == SAID
        assert [e.data["text"] for e in console.core.store.events(subject="i1", kind="said")] == [
            "hello I need help",
            "order 42 is late",
            "sorry Ann, checking order 42",
        ]
    finally:
        console.close()


async def test_a_long_chat_is_read_from_the_log_and_briefed_whole_trf_3(tmp_path: Path) -> None:
    """Past ``KEPT_LINES`` nothing is kept in memory, and the briefing still has every line."""
    console = Console(RULES, tmp_path / "backline.db")
    try:
        await console.run(CHAT)
        lines = [f"line {n}" for n in range(talk.KEPT_LINES)]
        await console.run("\n".join(f"sim say Ann {line}" for line in lines))
        assert console.core.engine.live["i1"].transcript is None
        await console.run("@alice: transfer @bob\n@bob: accept")
        assert briefed(console, "@bob") == [*SAID, *(f"  Ann: {line}" for line in lines)]
    finally:
        console.close()


async def test_muted_and_private_lines_stay_out_of_the_kept_transcript_cnf_2(
    tmp_path: Path,
) -> None:
    """A muted member's line and a consultation's lines are in neither copy; the kept one
    equals the log's at every step."""
    console = Console(RULES, tmp_path / "backline.db")
    try:
        await console.run(
            CHAT
            + """
            @chen: ready
            @alice: conference @bob
            @bob: accept
            @alice: mute @bob
            @bob: say MUTED-7d1
            @alice: unmute @bob
            @bob: say UNMUTED-8a2
            @alice: consult @chen
            @chen: accept
            @chen: say i2 PRIVATE-3c9
            """
        )
        engine = console.core.engine
        i1, i2 = engine.live["i1"], engine.live["i2"]
        assert i1.transcript == (*(line.strip() for line in SAID), "@bob: UNMUTED-8a2")
        assert i2.transcript == ()
        for ix in (i1, i2):
            assert ix.transcript == engine.talk.logged_transcript(ix)
    finally:
        console.close()
