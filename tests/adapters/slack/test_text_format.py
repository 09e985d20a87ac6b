"""Slack's text format, as properties: escaped out, decoded in, bounded on graphemes (ADP-2).

For any customer text and name, nothing backline posts holds a ``<`` that is not a mention it
wrote itself, nor an ``&`` that is not an entity; decoding what it encoded gives the text
back; every cut keeps whole graphemes and entities; and every payload passes the checks the
stub makes as Slack would.
"""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from adapters.slack.cards import card_blocks, home_blocks
from adapters.slack.convert import message_args
from adapters.slack.limits import clip, split
from adapters.slack.mrkdwn import decode, escape, to_slack
from bot.port import HomeView, InteractionView, Priority, Say
from tests.adapters.slack.check import assert_safe, names, problems, users

# Graphemes a cut must keep whole: combining sequences, ZWJ families, flags, skin tones,
# keycaps, and the characters Slack treats as control ones.
GRAPHEMES = [
    "a",
    " ",
    "\n",
    "<",
    ">",
    "&",
    "e\u0301",
    "\U0001f469\u200d\U0001f469\u200d\U0001f467",
    "\U0001f1eb\U0001f1f7",
    "\U0001f44d\U0001f3fd",
    "1\ufe0f\u20e3",
    "\ud55c",
]
INJECTED = ["@bob", "<!channel>", "<@U0BOB>", "<https://evil.example|https://bank.example>"]
texts = st.text(alphabet=st.characters(codec="utf-8"), max_size=300) | st.lists(
    st.sampled_from(GRAPHEMES + INJECTED), max_size=80
).map("".join)


@given(texts)
def test_decode_undoes_encode_adp_2(text: str) -> None:
    """ADP-2: decode(encode(x)) == x, with and without mentions."""
    assert decode(escape(text), names) == text
    assert decode(to_slack(text, users), names) == text


@given(texts)
def test_encoded_text_holds_no_control_sequence_adp_2(text: str) -> None:
    """ADP-2: for any text, only members' mentions remain as ``<…>``; ``&`` only as entity."""
    assert_safe(to_slack(text, users))


@given(texts, texts, st.lists(st.tuples(texts, texts), max_size=4), st.booleans())
def test_cards_and_messages_are_escaped_and_valid_for_any_customer_adp_2(
    name: str, text: str, case: list[tuple[str, str]], notice: bool
) -> None:
    """ADP-2: a card, a message and a notice for any customer name, text and case data are
    escaped everywhere and pass Slack's checks."""
    view = InteractionView(
        "i1",
        "chat",
        f"i1 chat with {name}",
        "offered",
        customer=name,
        case=tuple(case),
        parties=(f"{name} (customer)", "@bob (agent)"),
        offered=True,
        offer_expires=1700000000.0,
        possible=frozenset({"accept"}),
        gone=text,
    )
    blocks = card_blocks(view, users)
    assert_safe(blocks)
    assert problems("chat.postMessage", {"text": "card", "blocks": blocks}) == []
    for args in message_args("D1", Say("@alice", f"{name}: {text}", notice=notice), users):
        assert_safe(args)
        assert problems("chat.postMessage", args) == []


@given(texts, st.lists(texts, max_size=120))
def test_the_home_tab_is_escaped_and_valid_for_any_messages_adp_2(
    name: str, lines: list[str]
) -> None:
    """ADP-2: any member name and any number of messages give a valid, escaped Home tab."""
    home = HomeView(
        name=name,
        presence="ready",
        reasons=("lunch", name),
        messages=tuple((Priority.HIGH, line, "new") for line in lines),
        interactions=tuple(f"`i{n}` chat with {line}" for n, line in enumerate(lines)),
    )
    view = home_blocks(home, users)
    assert_safe(view)
    assert problems("views.publish", {"user_id": "U0ALICE", "view": view}) == []


@given(st.lists(st.sampled_from(GRAPHEMES), max_size=200), st.integers(8, 60))
def test_a_cut_keeps_whole_graphemes_and_entities_adp_2(clusters: list[str], limit: int) -> None:
    """ADP-2: a clipped text is whole escaped graphemes plus "…", within the limit (limits
    here, like Slack's, are longer than any one grapheme)."""
    escaped = [escape(c) for c in clusters]
    text = "".join(escaped)
    clipped = clip(text, limit)
    assert len(clipped) <= limit
    if clipped != text:
        kept = clipped.removesuffix("…")
        whole = ["".join(escaped[:n]) for n in range(len(escaped) + 1)]
        assert kept in whole, (kept, text)


def test_a_grapheme_longer_than_the_limit_is_cut_between_its_marks_adp_2() -> None:
    """ADP-2: a pile of combining marks longer than the field still fits (cut inside it)."""
    zalgo = "Z" + "\u0301" * 200 + " &amp;"
    assert clip(zalgo, 75) == zalgo[:74] + "…"
    assert clip("&lt;" * 3, 3) == "…"  # never half an entity


@given(texts, st.integers(8, 400))
def test_split_pieces_fit_and_join_back_adp_2(text: str, limit: int) -> None:
    """ADP-2: long text goes in pieces that each fit and together are the whole text."""
    pieces = split(escape(text), limit)
    assert "".join(pieces) == escape(text)
    assert all(len(piece) <= limit for piece in pieces)


def test_inbound_decoding_examples_adp_2() -> None:
    """ADP-2: entities, mentions, links, channels and specials as the member typed them."""
    assert decode("Q&amp;A: 2 &lt; 3 &amp;lt;", names) == "Q&A: 2 < 3 &lt;"
    assert decode("consult <@U0BOB>", names) == "consult @bob"
    assert decode("consult <@U0BOB|bob>", names) == "consult @bob"
    assert decode("ask <@U0NEW|newbie>", names) == "ask @newbie"
    assert decode("see <https://x.example/a?b=1&amp;c=2|the doc>", names) == (
        "see the doc (https://x.example/a?b=1&c=2)"
    )
    assert decode("<https://x.example>", names) == "https://x.example"
    assert decode("<mailto:a@b.example|a@b.example>", names) == "a@b.example"
    assert decode("in <#C123|support> <!here>", names) == "in #support @here"


def test_outbound_mentions_only_for_members_on_slack_adp_2() -> None:
    """ADP-2: ``@bob`` becomes a mention; ``@chen`` (no Slack id), e-mail and escaped stay."""
    assert to_slack("ask @bob or @chen", users) == "ask <@U0BOB> or @chen"
    assert to_slack("mail x@bob.example", users) == "mail x@bob.example"
    assert to_slack("<@bob>", users) == "&lt;@bob&gt;"
    assert json.dumps(to_slack("a & b", users)) == '"a &amp; b"'
