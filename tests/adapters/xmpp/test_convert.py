"""Pure XMPP conversions: stanzas → member commands, Say → stanzas (ADP-4, ADP-6, CON-2)."""

from __future__ import annotations

import pytest

from adapters.xmpp import PLUGIN
from adapters.xmpp.config import XmppConfig
from adapters.xmpp.convert import (
    Bounce,
    CustomerText,
    Ignore,
    MemberCommand,
    MessageIn,
    Refuse,
    classify,
    effective_show,
    interaction_presence,
    presence_show,
    presence_state,
    routing_address,
    routing_target,
    to_customer,
    to_member,
)
from adapters.xmpp.customers import customer_address
from bot.config import Config, ConfigError, load_config
from bot.port import Address, PresenceState, Priority, Say

C = "backline.localhost"


def msg(to: str, body: str | None, *, frm: str = "alice@localhost/phone", **kw: str) -> MessageIn:
    return MessageIn(frm, to, kw.pop("type", "chat"), body, kw.pop("id", "s1"), **kw)


def test_commands_to_the_bot_use_the_console_grammar_adp_4() -> None:
    """ADP-4: the bot JID (bare or bot@) takes commands; the stanza id is the dedupe key."""
    for to in (C, f"bot@{C}", f"bot@{C}/x"):
        assert classify(msg(to, " ready "), C) == MemberCommand(
            "alice@localhost", "ready", "alice@localhost/s1"
        )


@pytest.mark.parametrize(
    ("body", "text"),
    [
        ("hello there", "say i7 hello there"),
        ("i3 is not an id here", "say i7 i3 is not an id here"),
        ("/leave", "leave"),
        ("/conference @chen", "conference @chen"),
        ("accept", "accept"),
        ("Decline i7", "decline"),
        ("done", "done"),
        ("accept the refund", "say i7 accept the refund"),
    ],
)
def test_text_in_an_interaction_contact_is_said_there_adp_4(body: str, text: str) -> None:
    """ADP-4: text to i7@ is ``say`` in i7; ``/CMD`` and bare accept/decline/done act on i7."""
    result = classify(msg(f"i7@{C}", body), C)
    assert result == MemberCommand("alice@localhost", text, "alice@localhost/s1", "i7")


def test_routing_addresses_open_customer_chats_int_2() -> None:
    """INT-2: any other address is a routing address; ``bye`` ends the chat."""
    assert routing_target("support") == "group:support"
    assert routing_target("rp-sales") == "rp:sales"
    assert routing_target("queue-overflow") == "queue:overflow"
    assert routing_target("skill-spanish") == "skill:spanish"
    assert routing_target("i12") is None and routing_target("bot") is None
    assert routing_address("rp:sales", C) == f"rp-sales@{C}"
    assert routing_address("group:support", C) == f"support@{C}"
    got = classify(msg(f"rp-sales@{C}", "hi", frm="ann@example.org/web"), C)
    assert got == CustomerText("ann@example.org/web", f"rp-sales@{C}", "rp:sales", "hi")
    bye = classify(msg(f"support@{C}", "Bye", frm="ann@example.org/web"), C)
    assert isinstance(bye, CustomerText) and bye.bye


def test_customers_are_keyed_by_bare_jid_not_by_local_part_int_2() -> None:
    """INT-2: the address book key is the bare JID (lower-cased); ``via`` is not identity."""
    a = customer_address("Carol@A.test/web", f"support@{C}/x")
    assert a == Address("xmpp", "carol@a.test", f"support@{C}")
    assert customer_address("carol@b.test").address != a.address


def test_malformed_and_notice_stanzas_adp_4_adp_6() -> None:
    """ADP-4 / ADP-6: group chats and oversized bodies are refused; echoes and notices ignored."""
    assert isinstance(classify(msg(C, "x", type="groupchat"), C), Refuse)
    too_long = classify(msg(C, "x" * 4001), C)
    assert isinstance(too_long, Refuse) and too_long.condition == "not-acceptable"
    assert isinstance(classify(msg(C, None), C), Ignore)  # chat state / receipt
    assert isinstance(classify(msg(C, "x", type="headline"), C), Ignore)
    assert isinstance(classify(msg(C, "x", frm=f"i1@{C}"), C), Ignore)  # never our own (no loops)
    assert isinstance(classify(msg(f"support@{C}", "   "), C), Ignore)
    bounce = classify(msg(f"i1@{C}", None, type="error", error="service-unavailable"), C)
    assert bounce == Bounce("alice@localhost", "s1", "service-unavailable")


def test_presence_rule_table_adp_4_dir_5() -> None:
    """ADP-4 / DIR-5: the default rule table and the effective show over resources."""
    rules = XmppConfig().presence_map()
    assert presence_show(None, None) == "available"
    assert presence_show("away", "away") == "away"  # slixmpp reports show as type
    assert presence_show("unavailable", None) == "unavailable"
    assert presence_show("subscribe", None) is None
    ready, not_ready = (PresenceState.READY, None), (PresenceState.NOT_READY, None)
    assert [presence_state(s, rules) for s in ("available", "chat", "away", "xa", "dnd")] == [
        ready,
        ready,
        not_ready,
        not_ready,
        not_ready,
    ]
    assert presence_state("unavailable", rules) == (PresenceState.LOGGED_OFF, None)
    custom = XmppConfig(presence_dnd="not_ready:meeting", presence_away="ignore").presence_map()
    assert presence_state("dnd", custom) == (PresenceState.NOT_READY, "meeting")
    assert presence_state("away", custom) is None
    assert effective_show({"phone": "away", "desk": "available"}) == "available"
    assert effective_show({}) == "unavailable"


def test_say_becomes_chat_headline_or_nothing_con_2_msg_3() -> None:
    """CON-2 / MSG-3: interaction text comes from its contact, notices are headlines, and
    nothing private ever becomes a customer stanza."""
    j = "alice@localhost"
    plain = to_member(Say("@alice", "You are ready."), j, C)
    assert (plain.frm, plain.type, plain.body) == (C, "chat", "You are ready.")
    in_ix = to_member(Say("@alice", "Ann: hi", interaction="i1"), j, C)
    assert (in_ix.frm, in_ix.type) == (f"i1@{C}", "chat")
    client = to_member(Say("@alice", "Ann: hi", interaction="i1"), j, "bot@x.org", client=True)
    assert (client.frm, client.body) == ("bot@x.org", "(i1) Ann: hi")
    notice = to_member(Say("@alice", "xmpp is down", priority=Priority.HIGH, notice=True), j, C)
    assert (notice.type, notice.body, notice.subject) == (
        "headline",
        "(!) xmpp is down",
        "backline: high",
    )
    ann = "ann@example.org/web"
    assert (
        to_customer(Say("customer:Ann", "secret", "i1", private=True), ann, f"support@{C}") is None
    )
    out = to_customer(Say("customer:Ann", "Alice: hi", "i1"), ann, f"support@{C}")
    assert out is not None and (out.to, out.frm) == (ann, f"support@{C}")


def test_interaction_state_as_contact_presence_adp_4() -> None:
    """ADP-4: an interaction's contact JID shows its state."""
    assert interaction_presence("i1 chat with Ann", "active", True) == (
        "available",
        None,
        "i1 chat with Ann — active",
    )
    assert interaction_presence("i1 voice with Ann", "held", True)[1] == "away"
    assert interaction_presence("i2", "offered", True)[1] == "chat"
    assert interaction_presence("i2", "closed", False)[0] == "unavailable"


def xmpp_env(**values: str) -> dict[str, str]:
    return {f"BACKLINE_XMPP_{k.upper()}": v for k, v in values.items()}


def load(env: dict[str, str]) -> Config:
    return load_config(None, env, {"xmpp": PLUGIN})


def test_config_refuses_example_secrets_and_bad_rules_adp_4() -> None:
    """ADP-4: settings are validated with the others; example secrets refuse to start."""
    assert XmppConfig(secret="s3cr3t-for-real").problems() == []
    for example in ("", "change-me", "changeme", "secret"):
        with pytest.raises(ConfigError, match=r"xmpp\.secret.*example value"):
            load(xmpp_env(enabled="true", secret=example))
    assert "xmpp.secret" in " ".join(XmppConfig(secret="ChangeMe").problems())
    bad = XmppConfig(jid="bot@x.org", secret="s3cr3t-ok", presence_xa="sleepy")
    text = " ".join(bad.problems())
    assert "without '@'" in text and "xmpp.presence_xa" in text
    assert "account like bot@" in " ".join(XmppConfig(mode="client", secret="x1").problems())
    with pytest.raises(ConfigError) as raised:
        load(xmpp_env(enabled="true", secret="s3cr3t-ok", mode="bosh", port="70000"))
    found = "\n".join(raised.value.problems)
    assert "'xmpp.mode'" in found and "'xmpp.port'" in found  # every problem, at once
    # a disabled adapter's placeholders do not matter
    assert not load(xmpp_env(secret="change-me")).xmpp.enabled


def test_env_vars_configure_xmpp_ops_1() -> None:
    """OPS-1: BACKLINE_XMPP_* settings reach the adapter's config."""
    config = load(xmpp_env(enabled="true", secret="s3cr3t-ok", port="5399", presence_dnd="ignore"))
    assert config.xmpp.enabled and config.xmpp.port == 5399
    assert config.xmpp.presence_map()["dnd"] == "ignore"
    assert config.xmpp.problems() == []
