"""Pure conversions for Slack: payloads in → ``Typed``; ``Say`` out → Web API arguments.

Like bolt's ``to_bolt_request``/``to_http_response``: total functions, no I/O. Anything a
payload lacks becomes ``None`` ("not a command"), never an exception.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

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


@dataclass(frozen=True)
class OpenTarget:
    """A button that needs a target first: open the target modal (``views.open``)."""

    user: str
    verb: str
    interaction: str
    trigger_id: str


def from_slash(form: Mapping[str, Any]) -> Typed | None:
    """``/bl TEXT`` → the same command the console takes; the trigger id dedupes retries."""
    user, trigger = form.get("user_id"), form.get("trigger_id")
    if not isinstance(user, str) or not isinstance(trigger, str):
        return None
    text = str(form.get("text") or "").strip() or "help"
    return Typed(user, text, key=f"slack:slash:{trigger}")


def from_action(body: Mapping[str, Any]) -> Typed | OpenTarget | None:
    """A ``block_actions`` click → a command in the card's interaction, or a modal to open."""
    user = _get(body, "user", "id")
    actions = body.get("actions")
    if not isinstance(user, str) or not isinstance(actions, list) or not actions:
        return None
    action = actions[0]
    if not isinstance(action, Mapping):
        return None
    action_id, value = action.get("action_id"), action.get("value")
    key = f"slack:action:{body.get('trigger_id')}:{action.get('action_ts')}"
    if action_id == "bl_presence":
        chosen = _get(action, "selected_option", "value")
        return Typed(user, chosen, key=key) if isinstance(chosen, str) else None
    if not isinstance(value, str) or not value:
        return None
    if action_id in VERBS:
        return Typed(user, f"{VERBS[action_id]} {value}", key=key, context=value)
    if action_id in SUPERVISE:
        return Typed(user, f"{SUPERVISE[action_id]} @{value}", key=key)
    if action_id in TARGETED and isinstance(body.get("trigger_id"), str):
        return OpenTarget(user, TARGETED[action_id], value, str(body["trigger_id"]))
    return None


def from_view_submission(body: Mapping[str, Any]) -> Typed | None:
    """The target modal submitted → ``consult|transfer|conference TARGET`` in its interaction."""
    user, view = _get(body, "user", "id"), body.get("view")
    if not isinstance(user, str) or not isinstance(view, Mapping):
        return None
    if view.get("callback_id") != TARGET_CALLBACK:
        return None
    try:
        meta = json.loads(str(view.get("private_metadata") or ""))
    except json.JSONDecodeError:
        return None
    target = _get(view, "state", "values", "target", "target", "value")
    if not isinstance(meta, dict) or not isinstance(target, str) or not target.strip():
        return None
    verb, iid = meta.get("verb"), meta.get("interaction")
    if verb not in TARGETED.values() or not isinstance(iid, str):
        return None
    key = f"slack:view:{view.get('id')}:{view.get('hash')}"
    return Typed(user, f"{verb} {target.strip()}", key=key, context=iid)


def from_message(
    event: Mapping[str, Any], event_id: str | None, thread_of: str | None
) -> Typed | None:
    """A member's DM message: in an interaction's thread it is ``say``; at top level a command.

    ``thread_of`` is the interaction whose thread it was written in (bookkeeping knows).
    In a thread, ``!COMMAND`` runs a command in that interaction.
    """
    user, text = event.get("user"), event.get("text")
    if event.get("subtype") or event.get("bot_id") or not isinstance(user, str):
        return None
    if not isinstance(text, str) or not text.strip():
        return None
    key = f"slack:event:{event_id}" if event_id else None
    text = text.strip()
    if event.get("thread_ts") and event.get("thread_ts") != event.get("ts"):
        if thread_of is None:
            return None
        if text.startswith(THREAD_COMMAND_PREFIX):
            return Typed(user, text[1:].strip(), key=key, context=thread_of)
        return Typed(user, f"say {text}", key=key, context=thread_of)
    return Typed(user, text, key=key)


def message_args(channel: str, say: Say, thread_ts: str | None = None) -> dict[str, Any]:
    """``chat.postMessage`` arguments for one delivery; notices carry their priority colour."""
    args: dict[str, Any] = {"channel": channel, "text": say.text}
    if thread_ts:
        args["thread_ts"] = thread_ts
    if say.notice:
        args["attachments"] = [
            {
                "color": COLOURS[say.priority],
                "blocks": [_section(f"{EMOJI[say.priority]} {_escape(say.text)}")],
            }
        ]
    return args


def target_modal(verb: str, iid: str) -> dict[str, Any]:
    """The modal that asks whom to consult, transfer or conference."""
    return {
        "type": "modal",
        "callback_id": TARGET_CALLBACK,
        "private_metadata": json.dumps({"verb": verb, "interaction": iid}),
        "title": {"type": "plain_text", "text": f"{verb.capitalize()} {iid}"[:24]},
        "submit": {"type": "plain_text", "text": verb.capitalize()},
        "blocks": [
            {
                "type": "input",
                "block_id": "target",
                "label": {"type": "plain_text", "text": "To whom? @member, group:NAME, skill:NAME"},
                "element": {"type": "plain_text_input", "action_id": "target"},
            }
        ],
    }


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _get(data: Any, *path: str) -> Any:
    for name in path:
        if not isinstance(data, Mapping):
            return None
        data = data.get(name)
    return data
