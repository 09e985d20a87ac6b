"""Nothing a member does in Slack vanishes: edits, files, broadcasts, strangers, forms (ADP-2,
ADP-6, CON-2).

Each test shows what the other side (a console customer, a member only on XMPP) or the
sender received.
"""

from __future__ import annotations

from bot.port import Port
from tests.adapters.slack.driver import USERS, Recorder, SlackDriver, desk, group_dm
from tests.adapters.slack.stub import Fault

FILE = {
    "id": "F0REPORT",
    "name": "report.pdf",
    "title": "report.pdf",
    "permalink": "https://backline-test.slack.com/files/U0ALICE/F0REPORT/report.pdf",
}


async def chat_for_alice(slack: SlackDriver) -> str:
    """Ann's chat, accepted by alice; the ts of its card in her desk."""
    await slack.slash("alice", "ready")
    await slack.customer_arrives("Ann", "@alice", "hello")
    await slack.click("alice", desk("alice"), "i1", "Accept")
    return slack.stub.card(desk("alice"), "i1").ts


def ann(slack: SlackDriver) -> list[str]:
    return slack.customers.received("customer:Ann")


async def test_an_edit_reaches_the_customer_as_an_edited_message_adp_6(slack: SlackDriver) -> None:
    """ADP-6: alice edits her reply; Ann (console: no edits there) gets "(edited) …" once; a
    re-render with the same text (a link unfurling) sends nothing."""
    thread = await chat_for_alice(slack)
    await slack.write("alice", desk("alice"), "your order ships monday", thread)
    before = "your order ships monday"
    assert await slack.edit("alice", desk("alice"), before, "ships TUESDAY", thread) == 200
    assert "(i1) Alice Anders: (edited) ships TUESDAY" in ann(slack)
    await slack.edit("alice", desk("alice"), "ships TUESDAY", "ships TUESDAY", thread)
    assert sum("TUESDAY" in line for line in ann(slack)) == 1


async def test_an_edit_in_an_im_edits_the_reply_the_colleague_got_adp_6(
    slack: SlackDriver,
) -> None:
    """ADP-6: alice and bob IM on Slack; alice edits her line: bob's copy of it is edited in
    place (chat.update, unmarked), no second line appears; a second edit edits it again."""
    await slack.slash("bob", "ready")
    await slack.slash("alice", "im @bob lunch?")
    await slack.click("bob", desk("bob"), "i1", "Accept")
    alices = slack.stub.card(desk("alice"), "i1").ts
    bobs = slack.stub.card(desk("bob"), "i1").ts
    await slack.write("alice", desk("alice"), "see you at 12", alices)
    (line,) = [m for m in slack.stub.messages.values() if "see you at 12" in m.text]
    assert line.channel == desk("bob") and line.thread_ts == bobs
    await slack.edit("alice", desk("alice"), "see you at 12", "see you at 13", alices)
    assert line.text.endswith("see you at 13") and "(edited)" not in line.text
    assert line.edits == 1
    await slack.edit("alice", desk("alice"), "see you at 13", "see you at 14", alices)
    assert line.text.endswith("see you at 14") and line.edits == 2
    shown = slack.stub.thread(desk("bob"), bobs)
    assert [t for t in shown if "see you at" in t] == [line.shown]


async def test_an_edited_command_is_not_run_again_and_says_so_adp_2(slack: SlackDriver) -> None:
    """ADP-2: editing `!hold` in a thread does not hold again; alice is told."""
    thread = await chat_for_alice(slack)
    await slack.edit("alice", desk("alice"), "!hold", "!end", thread)
    assert slack.port.interaction_view("i1", None).state == "active"  # type: ignore[union-attr]
    assert any("not run again" in t for t in slack.stub.thread(desk("alice"), thread))


async def test_a_file_to_a_customer_is_not_sent_and_the_sender_is_told_con_2(
    slack: SlackDriver,
) -> None:
    """ADP-2: a file in a customer's chat: its text goes, the file cannot (Slack's links are
    for the workspace); alice is told in the thread which file was not sent."""
    thread = await chat_for_alice(slack)
    await slack.write(
        "alice", desk("alice"), "see attached", thread, subtype="file_share", files=[FILE]
    )
    assert "(i1) Alice Anders: see attached" in ann(slack)
    assert not any("report.pdf" in line for line in ann(slack))
    told = slack.stub.thread(desk("alice"), thread)
    assert any("report.pdf not sent" in t for t in told)


async def test_a_file_in_a_consultation_reaches_xmpp_as_a_named_link_adp_6(
    slack: SlackDriver,
) -> None:
    """ADP-6: alice shares a file in her consultation with chen (only on XMPP): chen gets its
    name and link; Ann gets nothing of it."""
    xmpp, chen = Recorder("xmpp"), Port(slack.core, "xmpp")
    slack.core.delivery.attach(xmpp)
    await chen.command("chen@localhost", "ready")
    await chat_for_alice(slack)
    await slack.slash("alice", "consult @chen")
    await chen.command("chen@localhost", "accept i2")
    await slack.settle()
    card = slack.stub.card(desk("alice"), "i2")
    await slack.write("alice", desk("alice"), "", card.ts, subtype="file_share", files=[FILE])
    assert any(f"report.pdf: {FILE['permalink']}" in line for line in xmpp.received)
    assert not any("report.pdf" in line for line in ann(slack))


async def test_an_xmpp_correction_edits_the_slack_reply_and_slack_edits_reach_xmpp_adp_6(
    slack: SlackDriver,
) -> None:
    """ADP-6: chen (XMPP) corrects his line: alice's copy on Slack is edited in place; alice
    edits hers: chen's adapter is told it is a correction of the message it relayed."""
    xmpp, chen = Recorder("xmpp"), Port(slack.core, "xmpp")
    slack.core.delivery.attach(xmpp)
    await slack.slash("alice", "ready")
    await chen.command("chen@localhost", "im @alice the 50 EUR refund")
    await slack.settle()
    await slack.click("alice", desk("alice"), "i1", "Accept")
    await chen.command("chen@localhost", "say i1 it was 50 EUR", origin="m1")
    await slack.settle()
    (line,) = [m for m in slack.stub.messages.values() if "it was 50 EUR" in m.text]
    await chen.command(
        "chen@localhost", "say i1 (edited) it was 15 EUR", origin="m2", corrects="m1"
    )
    await slack.settle()
    assert line.text.endswith("it was 15 EUR") and "(edited)" not in line.text
    assert not [m for m in slack.stub.messages.values() if m is not line and "15 EUR" in m.text]

    thread = slack.stub.card(desk("alice"), "i1").ts
    await slack.write("alice", desk("alice"), "refund sent", thread)
    await slack.edit("alice", desk("alice"), "refund sent", "refund sent today", thread)
    sent, fixed = [r for r in xmpp.relays if "refund sent" in r[1]]
    assert sent[0] == "chen@localhost" and fixed[0] == "chen@localhost"
    assert sent[2] is not None and sent[2].corrects is None
    assert fixed[1].endswith("(edited) refund sent today")
    assert fixed[2] is not None and fixed[2].corrects == sent[2].origin  # edits the original


async def test_a_reply_also_sent_to_the_channel_is_a_reply_adp_2(slack: SlackDriver) -> None:
    """ADP-2: "Also send to channel" (`thread_broadcast`) reaches Ann like any reply."""
    thread = await chat_for_alice(slack)
    await slack.write("alice", desk("alice"), "broadcast reply", thread, subtype="thread_broadcast")
    assert "(i1) Alice Anders: broadcast reply" in ann(slack)


async def test_a_dm_from_someone_not_in_the_directory_is_answered_adp_2(
    slack: SlackDriver,
) -> None:
    """ADP-2: a Slack user backline does not know writes to it: the answer says so and how
    to be linked, in the DM they wrote in."""
    body = slack.message_event("alice", "DU0STRANGER", "ready", None)
    body["event"]["user"] = "U0STRANGER"
    assert (await slack.post_event(body))[0] == 200
    await slack.settle()
    (answer,) = slack.stub.top("DU0STRANGER")
    assert "don't know who U0STRANGER" in answer.shown and "`link`" in answer.shown


async def test_a_form_slack_cannot_open_is_explained_in_the_thread_adp_2(
    slack: SlackDriver,
) -> None:
    """ADP-2: `views.open` refused (the trigger expired): alice is told how to go on."""
    thread = await chat_for_alice(slack)
    slack.stub.faults.append(Fault("views.open", error="expired_trigger_id"))
    await slack.click("alice", desk("alice"), "i1", "Consult")
    told = slack.stub.thread(desk("alice"), thread)
    assert any("could not open the consult form (expired_trigger_id)" in t for t in told)
    assert any("`!consult TARGET`" in t for t in told)


async def test_the_target_form_says_what_is_wrong_and_stays_open_adp_2(slack: SlackDriver) -> None:
    """ADP-2: an empty form, an unknown target and a Slack user not in the directory are
    answered in the ack (`response_action: errors`); picking bob consults him."""
    await slack.slash("bob", "ready")
    thread = await chat_for_alice(slack)
    _, empty = await slack.submit_modal("alice", "consult", "i1")
    assert empty["response_action"] == "errors" and "member" in empty["errors"]
    _, unknown = await slack.submit_modal("alice", "consult", "i1", typed="@nobody")
    assert unknown["response_action"] == "errors" and "nobody" in unknown["errors"]["target"]
    _, stranger = await slack.submit_modal("alice", "consult", "i1", picked="U0STRANGER")
    assert "directory" in stranger["errors"]["member"]
    assert not any("nobody" in t for t in slack.stub.thread(desk("alice"), thread))  # shown once
    status, picked = await slack.submit_modal("alice", "consult", "i1", picked=USERS["bob"])
    assert status == 200 and picked == {}
    assert "Accept" in str(slack.stub.card(group_dm("alice", "bob"), "i2").blocks)
