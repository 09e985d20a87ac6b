"""What Slack refuses, and what it shows: the stub's validator and renderer.

``problems`` checks a Web API payload as Slack does: every block through slack_sdk's models
(``Block.parse(...).validate_json()``, ``View(**view).validate_json()``) plus the limits
those models do not check (button and option text ≤ 75, ≤ 100 options, context text ≤ 3,000,
≤ 50 blocks per message, ≤ 100 per view, text ≤ 40,000). Each problem starts with the error
code Slack answers. ``render`` shows text as a Slack client does, mentions as ``@member``.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterator
from typing import Any

from slack_sdk.errors import SlackObjectFormationError
from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View

USERS = {"alice": "U0ALICE", "bob": "U0BOB", "dana": "U0DANA", "sam": "U0SAM"}
NAMES = {user: member for member, user in USERS.items()}
MESSAGE_BLOCKS, VIEW_BLOCKS, TEXT = 50, 100, 40_000
SHORT, SECTION, OPTIONS = 75, 3_000, 100
_ENTITY = re.compile(r"&(amp|lt|gt);")
# Every "<" backline itself may write: a member's mention, an offer's local time.
OURS = re.compile(r"<@U0[A-Z]+>|<!date\^\d+\^\{time_secs\}\|at \d+>")
BAD_AMP = re.compile(r"&(?!amp;|lt;|gt;)")
_MENTION = re.compile(r"<@(U[A-Z0-9]+)>")


def names(user: str) -> str | None:
    """The tests' directory: a Slack user id → its member id."""
    return NAMES.get(user)


def users(member: str) -> str | None:
    """The tests' directory: a member id → their Slack user id."""
    return USERS.get(member)


def render(text: str) -> str:
    """``text`` as Slack shows it: ``<@U0BOB>`` as ``@bob``, entities as characters."""
    shown = _MENTION.sub(lambda m: f"@{NAMES.get(m.group(1), m.group(1))}", text)
    return _ENTITY.sub(lambda m: {"amp": "&", "lt": "<", "gt": ">"}[m.group(1)], shown)


def strings(data: Any) -> list[str]:
    """Every string inside a payload."""
    if isinstance(data, str):
        return [data]
    if isinstance(data, dict):
        return [s for value in data.values() for s in strings(value)]
    if isinstance(data, list):
        return [s for value in data for s in strings(value)]
    return []


def assert_safe(payload: Any) -> None:
    """No string in ``payload`` carries a control sequence backline did not write itself:
    every ``<`` is a member's mention or an offer's time, every ``&`` an entity."""
    for text in strings(payload):
        stripped = OURS.sub("", text)
        assert "<" not in stripped and ">" not in stripped, text
        assert not BAD_AMP.search(stripped), text


def problems(method: str, args: dict[str, Any]) -> list[str]:
    """Why Slack would refuse ``args`` for ``method`` (nothing: it would take them)."""
    found: list[str] = []
    text = args.get("text")
    if isinstance(text, str) and len(text) > TEXT:
        found.append(f"msg_too_long: text of {len(text)} characters")
    if "blocks" in args:
        found += _blocks(args["blocks"], MESSAGE_BLOCKS)
    for attachment in args.get("attachments") or []:
        found += _blocks(attachment.get("blocks", []), MESSAGE_BLOCKS)
    if isinstance(args.get("view"), dict):
        found += _view(args["view"])
    return found


def _view(view: dict[str, Any]) -> list[str]:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            View(**view).validate_json()
    except (SlackObjectFormationError, TypeError, UserWarning) as exc:
        return [f"invalid_arguments: view: {exc}"]
    return [f"invalid_arguments: view {p}" for p in _blocks(view.get("blocks", []), VIEW_BLOCKS)]


def _blocks(blocks: Any, most: int) -> list[str]:
    if not isinstance(blocks, list):
        return ["invalid_blocks: blocks is not a list"]
    found = []
    if len(blocks) > most:
        found.append(f"invalid_blocks: {len(blocks)} blocks, more than {most}")
    for n, block in enumerate(blocks):
        found += [f"invalid_blocks: block {n}: {p}" for p in _block(block)]
    return found


def _block(block: Any) -> list[str]:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            parsed = Block.parse(block)
            if parsed is None:
                return [f"unknown block {block!r:.80}"]
            parsed.validate_json()
    except (SlackObjectFormationError, TypeError, KeyError, UserWarning) as exc:
        return [str(exc)]
    return list(_limits(block))


def _limits(block: dict[str, Any]) -> Iterator[str]:
    """The limits slack_sdk's models leave to Slack."""
    for element in block.get("elements", []):
        if block.get("type") == "context" and len(str(element.get("text", ""))) > SECTION:
            yield f"context text over {SECTION}"
        yield from _element(element)
    if "accessory" in block:
        yield from _element(block["accessory"])
    if "element" in block:
        yield from _element(block["element"])


def _element(element: dict[str, Any]) -> Iterator[str]:
    if element.get("type") == "button" and len(element["text"]["text"]) > SHORT:
        yield f"button text over {SHORT}"
    options = element.get("options", [])
    if len(options) > OPTIONS:
        yield f"{len(options)} options, more than {OPTIONS}"
    for option in options:
        if len(option["text"]["text"]) > SHORT:
            yield f"option text over {SHORT}"
