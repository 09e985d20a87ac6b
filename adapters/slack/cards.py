"""Pure Block Kit: interaction cards (one per thread) and the App Home tab.

The port's read models (``InteractionView``, ``HomeView``) go in; these functions only shape
blocks, so what a member sees is testable without any I/O.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from adapters.slack.convert import EMOJI, _escape, _section
from bot.port import HomeView, InteractionView

Block = dict[str, Any]
# Machine trigger → (button label, action id); a button shows when the trigger is possible now.
CONTROLS = (
    ("hold", "Hold", "bl_hold"),
    ("resume", "Resume", "bl_resume"),
    ("transfer", "Transfer", "bl_transfer"),
    ("consult", "Consult", "bl_consult"),
    ("conference", "Conference", "bl_conference"),
    ("end", "End", "bl_end"),
)


def card_blocks(view: InteractionView) -> list[Block]:
    """The card: header, facts, then the buttons this viewer may press now."""
    title = f"{view.label}"
    facts = [f"*State:* {view.state}"]
    if view.owner:
        facts.append(f"*Owner:* @{view.owner}")
    if view.customer and view.kind != "consultation":
        facts.append(f"*Customer:* {_escape(view.customer)}")
    if view.parent:
        facts.append(f"*About:* {view.parent}")
    if view.role:
        you = view.role + ("" if view.connected else ", left") + (", done" if view.done else "")
        facts.append(f"*You:* {you}")
    blocks: list[Block] = [
        {"type": "header", "text": {"type": "plain_text", "text": title[:150]}},
        _section(" · ".join(facts)),
    ]
    if view.case:
        blocks.append(_section("\n".join(f"*{_escape(k)}:* {_escape(v)}" for k, v in view.case)))
    if view.parties:
        blocks.append(_context("With: " + ", ".join(view.parties)))
    if view.gone:
        blocks.append(_context(f":hourglass: {view.gone}"))
    buttons = _buttons(view)
    if buttons:
        blocks.append({"type": "actions", "block_id": f"card:{view.iid}", "elements": buttons})
    if view.offered and view.offer_expires is not None:
        at = int(view.offer_expires)
        blocks.append(_context(f"Offer expires <!date^{at}^{{time_secs}}|at {at}>"))
    return blocks


def card_text(view: InteractionView) -> str:
    """The notification/fallback text of a card."""
    return f"{view.label} — {view.state}"


def _buttons(view: InteractionView) -> list[Block]:
    if view.state == "closed" or view.done:
        return []
    iid = view.iid
    if view.offered:
        return [
            _button("Accept", "bl_accept", iid, "primary"),
            _button("Decline", "bl_decline", iid, "danger"),
        ]
    if view.agent is not None and view.connected:
        return [
            _button("Coach", "bl_coach", view.agent),
            _button("Barge", "bl_barge", view.agent),
            _button("Leave", "bl_leave", iid),
        ]
    if not view.connected or view.state in ("wrapup", "ended"):
        return [_button("Done", "bl_done", iid, "primary")] if view.role else []
    if view.kind == "consultation":
        out = []
        if "complete" in view.possible:
            out += [
                _button("Transfer", "bl_warm_transfer", iid, "primary"),
                _button("Conference", "bl_warm_conference", iid),
            ]
        return [*out, *_controls(view, ("hold", "resume", "end"))]
    return _controls(view, tuple(c[0] for c in CONTROLS))


def _controls(view: InteractionView, allowed: Sequence[str]) -> list[Block]:
    return [
        _button(label, action, view.iid, "danger" if trigger == "end" else None)
        for trigger, label, action in CONTROLS
        if trigger in allowed and trigger in view.possible
    ]


def _button(label: str, action_id: str, value: str, style: str | None = None) -> Block:
    button: Block = {
        "type": "button",
        "action_id": action_id,
        "text": {"type": "plain_text", "text": label},
        "value": value,
    }
    if style:
        button["style"] = style
    return button


def _context(text: str) -> Block:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": text}]}


def presence_options(reasons: Sequence[str]) -> list[tuple[str, str]]:
    """Selector options as ``(label, command)``: ready, not ready per reason, after call."""
    options = [("Ready", "ready")]
    options += [(f"Not ready: {r}", f"notready {r}") for r in reasons] or [
        ("Not ready", "notready")
    ]
    options.append(("After call work", "aftercall"))
    return options


def home_blocks(home: HomeView) -> dict[str, Any]:
    """The ``views.publish`` view: presence selector, My Messages, mailboxes, interactions."""
    options = [
        {"text": {"type": "plain_text", "text": label}, "value": command}
        for label, command in presence_options(home.reasons)
    ]
    blocks: list[Block] = [
        {"type": "header", "text": {"type": "plain_text", "text": f"{home.name} — backline"}},
        {
            "type": "section",
            "block_id": "presence",
            "text": {"type": "mrkdwn", "text": f"*Presence:* {home.presence}"},
            "accessory": {
                "type": "static_select",
                "action_id": "bl_presence",
                "placeholder": {"type": "plain_text", "text": "Change presence"},
                "options": options,
            },
        },
        {"type": "divider"},
        _section(f"*My Messages* ({home.unread} new)"),
    ]
    for priority, line, status in home.messages:
        bold = "*" if status == "new" else ""
        blocks.append(_context(f"{EMOJI[priority]} {bold}{_escape(line)}{bold}"))
    if not home.messages:
        blocks.append(_context("No messages."))
    boxes = [f"`{box}` {new} new, {old} old" for box, new, old in home.mailboxes]
    blocks += [
        {"type": "divider"},
        _section("*Mailboxes:* " + (" · ".join(boxes) if boxes else "none")),
        _section("*Live interactions:*\n" + ("\n".join(home.interactions) or "none")),
    ]
    return {"type": "home", "blocks": blocks}
