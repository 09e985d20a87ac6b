"""Pure conversions for Slack: payloads in → ``Typed``; ``Say`` out → Web API arguments.

Like bolt's ``to_bolt_request``/``to_http_response``: total functions, no I/O. Anything a
payload lacks becomes ``None`` ("not a command"), never an exception. Text is decoded on
the way in and escaped on the way out (``mrkdwn``), then bounded (``limits``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from adapters.slack.limits import MESSAGE_BLOCKS, MESSAGE_TEXT, SECTION, clip, shorten, split
from adapters.slack.mrkdwn import Names, Users, decode, to_slack, unescape
from bot.port import Priority, Say

PLATFORM = "slack"
# Card buttons that are a command on their own: action_id → command verb.
VERBS = {
    "bl_accept": "accept",
    "bl_decline": "decline",
    "bl_hold": "hold",
    "bl_resume": "resume",
    "bl_end": "end",
    "bl_done": "done",
    "bl_leave": "leave",
    "bl_warm_transfer": "transfer",
    "bl_warm_conference": "conference",
}
# Buttons aimed at someone else: they open a modal that asks for the target.
TARGETED = {"bl_transfer": "transfer", "bl_consult": "consult", "bl_conference": "conference"}
# Supervisor buttons: the value names the agent.
SUPERVISE = {"bl_coach": "coach", "bl_barge": "barge", "bl_monitor": "monitor"}
TARGET_CALLBACK = "bl_target"
THREAD_COMMAND_PREFIX = "!"
COLOURS = {
    Priority.LOW: "#9e9e9e",
    Priority.NORMAL: "#2eb67d",
    Priority.HIGH: "#ecb22e",
    Priority.URGENT: "#e01e5a",
}
EMOJI = {
    Priority.LOW: ":white_circle:",
    Priority.NORMAL: ":large_green_circle:",
    Priority.HIGH: ":large_orange_circle:",
    Priority.URGENT: ":red_circle:",
}


@dataclass(frozen=True)
class Typed:
    """A command a Slack user gave: typed, clicked or submitted; ``key`` dedupes retries.

    ``context`` is the interaction it was given in (a card's thread or buttons).
    """

    user: str
    text: str
    key: str | None = None
    context: str | None = None
    origin: str | None = None  # the message's ts, when it was written in a thread
    corrects: str | None = None  # the ts of the message an edit corrects


@dataclass(frozen=True)
class OpenTarget:
    """A button that needs a target first: open the target modal (``views.open``)."""

    user: str
    verb: str
    interaction: str
    trigger_id: str


def from_slash(form: Mapping[str, Any], names: Names) -> Typed | None:
    """``/bl TEXT`` → the same command the console takes; the trigger id dedupes retries."""
    user, trigger = form.get("user_id"), form.get("trigger_id")
    if not isinstance(user, str) or not isinstance(trigger, str):
        return None
    text = decode(str(form.get("text") or ""), names).strip() or "help"
    return Typed(user, text, key=f"slack:slash:{trigger}")


def from_action(body: Mapping[str, Any]) -> Typed | OpenTarget | None:
    """A ``block_actions`` click → a command in the card's interaction, or a modal to open."""
    user = dig(body, "user", "id")
    actions = body.get("actions")
    if not isinstance(user, str) or not isinstance(actions, list) or not actions:
        return None
    action = actions[0]
    if not isinstance(action, Mapping):
        return None
    action_id, value = action.get("action_id"), action.get("value")
    key = f"slack:action:{body.get('trigger_id')}:{action.get('action_ts')}"
    if action_id == "bl_presence":
        chosen = dig(action, "selected_option", "value")  # escaped, as the Home tab sent it
        return Typed(user, unescape(chosen), key=key) if isinstance(chosen, str) else None
    if not isinstance(value, str) or not value:
        return None
    if action_id in VERBS:
        return Typed(user, f"{VERBS[action_id]} {value}", key=key, context=value)
    if action_id in SUPERVISE:
        return Typed(user, f"{SUPERVISE[action_id]} @{value}", key=key)
    if action_id in TARGETED and isinstance(body.get("trigger_id"), str):
        return OpenTarget(user, TARGETED[action_id], value, str(body["trigger_id"]))
    return None


def message_args(
    channel: str, say: Say, users: Users, thread_ts: str | None = None, prefix: str = ""
) -> list[dict[str, Any]]:
    """``chat.postMessage`` arguments for one delivery: one call per 40,000 characters.

    A notice is one coloured attachment (its ``fallback`` is the notification), so its
    text shows once.
    """
    text = prefix + to_slack(say.text, users)
    where: dict[str, Any] = {"channel": channel, **({"thread_ts": thread_ts} if thread_ts else {})}
    if not say.notice:
        return [{**where, "text": piece} for piece in split(text, MESSAGE_TEXT)]
    pieces = split(f"{EMOJI[say.priority]} {text}", SECTION)
    if len(pieces) > MESSAGE_BLOCKS:
        pieces = [*pieces[: MESSAGE_BLOCKS - 1], shorten(pieces[MESSAGE_BLOCKS - 1], SECTION)]
    attachment = {
        "color": COLOURS[say.priority],
        "fallback": clip(text, SECTION),
        "blocks": [section(piece) for piece in pieces],
    }
    return [{**where, "attachments": [attachment]}]


def section(text: str) -> dict[str, Any]:
    """A section of mrkdwn ``text`` (escaped already)."""
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def dig(data: Any, *path: str) -> Any:
    """``data[path[0]][path[1]]…``, or None where a step is missing or not a mapping."""
    for name in path:
        if not isinstance(data, Mapping):
            return None
        data = data.get(name)
    return data
