"""Pure Block Kit: interaction cards (one per thread) and the App Home tab.

The port's read models (``InteractionView``, ``HomeView``) go in; these functions only shape
blocks, so what a member sees is testable without any I/O. Every text from the core is
untrusted (it carries customers' names and words, case data): it is escaped, mentions
become Slack's, and the blocks are bounded by Slack's limits (``limits.fit_blocks``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from adapters.slack.convert import EMOJI, section
from adapters.slack.limits import SECTION, VIEW_BLOCKS, fit_blocks, shorten, split
from adapters.slack.mrkdwn import Users, escape, to_slack
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
CASE_SECTIONS = 5  # case data beyond five sections' worth is cut
HOME_FIXED = 8  # the Home tab's blocks besides My Messages (and one "more" line)


def card_blocks(view: InteractionView, users: Users) -> list[Block]:
    """The card: header, facts, then the buttons this viewer may press now."""
    facts = [f"*State:* {escape(view.state)}"]
    if view.owner:
        facts.append(f"*Owner:* {to_slack('@' + view.owner, users)}")
    if view.customer and view.kind != "consultation":
        facts.append(f"*Customer:* {escape(view.customer)}")
    if view.parent:
        facts.append(f"*About:* {escape(view.parent)}")
    if view.role:
        you = view.role + ("" if view.connected else ", left") + (", done" if view.done else "")
        facts.append(f"*You:* {escape(you)}")
    blocks: list[Block] = [_header(view.label), section(" · ".join(facts))]
    if view.case:
        blocks += _case(view.case)
    if view.parties:
        blocks.append(_context("With: " + to_slack(", ".join(view.parties), users)))
    if view.gone:
        blocks.append(_context(f":hourglass: {escape(view.gone)}"))
    blocks += _actions(view)
    if view.offered and view.offer_expires is not None:
        at = int(view.offer_expires)
        blocks.append(_context(f"Offer expires <!date^{at}^{{time_secs}}|at {at}>"))
    return fit_blocks(blocks)


def minimal_card(view: InteractionView) -> list[Block]:
    """A card Slack cannot refuse: id, kind, state and buttons, so the thread still exists."""
    text = f"*State:* {escape(view.state)} · the rest of this card could not be shown"
    blocks = [_header(f"{view.iid} {view.kind}"), section(text), *_actions(view)]
    return fit_blocks(blocks)


def _header(text: str) -> Block:
    return {"type": "header", "text": {"type": "plain_text", "text": escape(text)}}


def _case(case: Sequence[tuple[str, str]]) -> list[Block]:
    text = "\n".join(f"*{escape(k)}:* {escape(v)}" for k, v in case)
    pieces = split(text, SECTION)
    if len(pieces) > CASE_SECTIONS:
        pieces = [*pieces[: CASE_SECTIONS - 1], shorten(pieces[CASE_SECTIONS - 1], SECTION)]
    return [section(piece) for piece in pieces]


def _actions(view: InteractionView) -> list[Block]:
    buttons = _buttons(view)
    if not buttons:
        return []
    return [{"type": "actions", "block_id": f"card:{view.iid}", "elements": buttons}]


def card_text(view: InteractionView) -> str:
    """The notification/fallback text of a card."""
    return escape(f"{view.label} — {view.state}")


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
    """A context line of mrkdwn ``text`` (escaped already)."""
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": text}]}


def presence_options(reasons: Sequence[str]) -> list[tuple[str, str]]:
    """Selector options as ``(label, command)``: ready, not ready per reason, after call."""
    options = [("Ready", "ready")]
    options += [(f"Not ready: {r}", f"notready {r}") for r in reasons] or [
        ("Not ready", "notready")
    ]
    options.append(("After call work", "aftercall"))
    return options


def home_blocks(home: HomeView, users: Users) -> dict[str, Any]:
    """The ``views.publish`` view: presence selector, My Messages, mailboxes, interactions."""
    options = [
        {"text": {"type": "plain_text", "text": escape(label)}, "value": escape(command)}
        for label, command in presence_options(home.reasons)
    ]
    blocks: list[Block] = [
        _header(f"{home.name} — backline"),
        {
            "type": "section",
            "block_id": "presence",
            "text": {"type": "mrkdwn", "text": f"*Presence:* {escape(home.presence)}"},
            "accessory": {
                "type": "static_select",
                "action_id": "bl_presence",
                "placeholder": {"type": "plain_text", "text": "Change presence"},
                "options": options,
            },
        },
        {"type": "divider"},
        section(f"*My Messages* ({home.unread} new)"),
    ]
    shown = home.messages[: VIEW_BLOCKS - HOME_FIXED]
    for priority, line, status in shown:
        bold = "*" if status == "new" else ""
        blocks.append(_context(f"{EMOJI[priority]} {bold}{to_slack(line, users)}{bold}"))
    if len(home.messages) > len(shown):
        blocks.append(_context(f"… and {len(home.messages) - len(shown)} more: `/bl messages`"))
    if not home.messages:
        blocks.append(_context("No messages."))
    boxes = [f"`{escape(box)}` {new} new, {old} old" for box, new, old in home.mailboxes]
    live = "\n".join(to_slack(line, users) for line in home.interactions)
    blocks += [
        {"type": "divider"},
        section("*Mailboxes:* " + (" · ".join(boxes) if boxes else "none")),
        section("*Live interactions:*\n" + (live or "none")),
    ]
    return {"type": "home", "blocks": fit_blocks(blocks, VIEW_BLOCKS)}


def minimal_home(home: HomeView) -> dict[str, Any]:
    """A Home tab Slack cannot refuse: who, presence and how many messages are new."""
    text = f"*Presence:* {escape(home.presence)} · *My Messages:* {home.unread} new"
    return {
        "type": "home",
        "blocks": fit_blocks([_header(f"{home.name} — backline"), section(text)]),
    }
