"""The target modal: whom to consult, transfer to or conference in, checked in the ack.

A member on Slack is picked with a ``users_select``; anyone else (``group:NAME``,
``skill:NAME``, a member only on another platform) is typed. What cannot work is answered
in the submission's ack (``response_action: errors``), so the modal stays open and says why.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from adapters.slack.convert import TARGET_CALLBACK, TARGETED, dig
from adapters.slack.limits import clip
from adapters.slack.mrkdwn import Names, decode

MEMBER_BLOCK, TEXT_BLOCK = "member", "target"
ERROR = 150  # an error shown under an input


@dataclass(frozen=True)
class Submitted:
    """A submitted target modal: ``user`` wants ``verb`` in ``interaction``."""

    user: str
    verb: str
    interaction: str
    key: str
    picked: str | None  # the Slack user chosen in the select
    typed: str  # the decoded text target, "" if none


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
                "block_id": MEMBER_BLOCK,
                "optional": True,
                "label": {"type": "plain_text", "text": "A member on Slack"},
                "element": {"type": "users_select", "action_id": MEMBER_BLOCK},
            },
            {
                "type": "input",
                "block_id": TEXT_BLOCK,
                "optional": True,
                "label": {"type": "plain_text", "text": "Or: @member, group:NAME, skill:NAME"},
                "element": {"type": "plain_text_input", "action_id": TEXT_BLOCK},
            },
        ],
    }


def from_view_submission(body: Mapping[str, Any], names: Names) -> Submitted | None:
    """The target modal submitted, or None for any other view or a malformed one."""
    user, view = dig(body, "user", "id"), body.get("view")
    if not isinstance(user, str) or not isinstance(view, Mapping):
        return None
    if view.get("callback_id") != TARGET_CALLBACK:
        return None
    try:
        meta = json.loads(str(view.get("private_metadata") or ""))
    except json.JSONDecodeError:
        return None
    verb, iid = (meta.get("verb"), meta.get("interaction")) if isinstance(meta, dict) else ("", "")
    if verb not in TARGETED.values() or not isinstance(iid, str):
        return None
    values = dig(view, "state", "values")
    picked = dig(values, MEMBER_BLOCK, MEMBER_BLOCK, "selected_user")
    text = dig(values, TEXT_BLOCK, TEXT_BLOCK, "value")
    typed = decode(text, names).strip() if isinstance(text, str) else ""
    picked = picked if isinstance(picked, str) and picked else None
    # the values are part of the key: a corrected resubmission is a new command
    key = f"slack:view:{view.get('id')}:{view.get('hash')}:{picked or ''}:{typed}"
    return Submitted(user, str(verb), iid, key, picked, typed)


def errors(block: str, text: str) -> dict[str, Any]:
    """The ack that keeps the modal open and shows ``text`` under ``block``."""
    return {"response_action": "errors", "errors": {block: clip(text, ERROR)}}
