"""Ad-hoc commands (XEP-0050, ADP-4): menus in Gajim or Conversations, forms for the input.

The bot's JID offers each member the commands their roles allow: ``consult`` (an
interaction, a target and a list of types), ``transfer`` (an interaction and a target),
``notready`` (the policy's reasons) and, for admins, ``broadcast``. A submitted form becomes
the console grammar's command text and runs through ``port.command`` like a typed one; the
reply is the command's note. Disco answers ``item-not-found`` for our JIDs that name nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from adapters.xmpp.convert import bare

if TYPE_CHECKING:
    from adapters.xmpp.contacts import Contacts
    from bot.port import MemberInfo, Port

COMMANDS_NODE = "http://jabber.org/protocol/commands"
TYPES = (("im", "Instant message"), ("chat", "Chat"), ("voice", "Voice call"))
PRIORITIES = ("normal", "high", "urgent", "low")

Field = dict[str, Any]


@dataclass(frozen=True)
class AdHoc:
    """One command: its node, menu name, who may run it, its form and its command text."""

    node: str
    name: str
    admins_only: bool
    fields: Callable[[Port, MemberInfo], list[Field]]
    text: Callable[[dict[str, str]], list[str]]  # the command lines a submitted form runs


def _interactions(port: Port, member: MemberInfo) -> Field:
    live = port.home_view(member.id).live
    options = [{"label": iid, "value": iid} for iid in live]
    value = live[-1] if live else ""
    return {"var": "interaction", "ftype": "list-single", "label": "Interaction",
            "options": options, "value": value, "required": True}  # fmt: skip


def _target(label: str) -> Field:
    return {"var": "target", "ftype": "text-single", "label": label, "required": True}


def _consult_fields(port: Port, member: MemberInfo) -> list[Field]:
    kinds = [{"label": label, "value": value} for value, label in TYPES]
    return [
        _interactions(port, member),
        _target("Colleague or group (@bob, group:billing)"),
        {"var": "type", "ftype": "list-single", "label": "Type", "options": kinds, "value": "im"},
    ]


def _transfer_fields(port: Port, member: MemberInfo) -> list[Field]:
    return [_interactions(port, member), _target("To (@bob, group:billing)")]


def _notready_fields(port: Port, member: MemberInfo) -> list[Field]:
    reasons = [{"label": r, "value": r} for r in port.home_view(member.id).reasons]
    return [{"var": "reason", "ftype": "list-single", "label": "Reason", "options": reasons}]


def _broadcast_fields(port: Port, member: MemberInfo) -> list[Field]:
    levels = [{"label": p, "value": p} for p in PRIORITIES]
    return [
        {
            "var": "to",
            "ftype": "text-single",
            "label": "To (all, group:support, role:agent)",
            "value": "all",
        },
        {
            "var": "priority",
            "ftype": "list-single",
            "label": "Priority",
            "options": levels,
            "value": "normal",
        },
        {"var": "text", "ftype": "text-multi", "label": "Message", "required": True},
    ]


COMMANDS = (
    AdHoc(
        "consult",
        "Consult a colleague",
        False,
        _consult_fields,
        lambda v: [f"focus {v['interaction']}", f"consult {v['target']} {v.get('type') or 'im'}"],
    ),
    AdHoc(
        "transfer",
        "Transfer an interaction",
        False,
        _transfer_fields,
        lambda v: [f"transfer {v['interaction']} {v['target']}"],
    ),
    AdHoc(
        "notready",
        "Not ready",
        False,
        _notready_fields,
        lambda v: [f"notready {v.get('reason', '')}".strip()],
    ),
    AdHoc(
        "broadcast",
        "Broadcast a message",
        True,
        _broadcast_fields,
        lambda v: [
            f"broadcast --priority {v.get('priority') or 'normal'} --to {v.get('to') or 'all'}"
            f" {' '.join(v['text'].split())}"
        ],
    ),
)


def allowed(member: MemberInfo | None) -> list[AdHoc]:
    """The commands a member may run (none for a JID that is no member)."""
    if member is None:
        return []
    return [c for c in COMMANDS if not c.admins_only or "admin" in member.roles]


def form_values(form: Any) -> dict[str, str]:
    """A submitted form's values as text (a multi-line field joined by spaces)."""
    values: dict[str, str] = {}
    for var, value in form.get_values().items():
        values[var] = " ".join(value) if isinstance(value, list) else str(value or "")
    return values


class Commands:
    """Registers the ad-hoc commands and disco answers on each new stream."""

    def __init__(self, port: Port, contacts: Contacts, me: str) -> None:
        self.port = port
        self.contacts = contacts
        self.me = me

    def prepare(self, stream: Any) -> None:
        """Register disco and the commands on a stream before it connects."""
        from slixmpp.exceptions import XMPPError
        from slixmpp.jid import JID
        from slixmpp.plugins.xep_0030.stanza.items import DiscoItems

        disco = stream.plugin["xep_0030"]
        static = disco.static

        def get_info(jid: Any, node: Any, ifrom: Any, data: Any) -> Any:
            if not self.contacts.exists(str(jid) if jid else self.me):
                raise XMPPError("item-not-found")
            return static.get_info(jid, node, ifrom, data)

        def get_items(jid: Any, node: Any, ifrom: Any, data: Any) -> Any:
            if not self.contacts.exists(str(jid) if jid else self.me):
                raise XMPPError("item-not-found")
            if node != COMMANDS_NODE:
                return static.get_items(jid, node, ifrom, data)
            items = DiscoItems()
            for command in allowed(self.port.member(bare(str(ifrom)))):
                items.add_item(JID(self.me), command.node, command.name)
            return items

        disco.api.register(get_info, "get_info")
        disco.api.register(get_items, "get_items")
        adhoc = stream.plugin["xep_0050"]
        for command in COMMANDS:
            adhoc.add_command(self.me, command.node, command.name, self._start(stream, command))

    def _start(self, stream: Any, command: AdHoc) -> Callable[[Any, dict[str, Any]], Any]:
        def start(iq: Any, session: dict[str, Any]) -> dict[str, Any]:
            member = self.port.member(bare(str(iq["from"])))
            if command not in allowed(member):
                return _done(session, "error", f"You may not run {command.node} here.")
            assert member is not None
            form = stream.plugin["xep_0004"].make_form(ftype="form", title=command.name)
            for spec in command.fields(self.port, member):
                form.add_field(**spec)
            session.update(payload=form, next=self._submit(command, member), has_next=False)
            return session

        return start

    def _submit(self, command: AdHoc, member: MemberInfo) -> Callable[[Any, dict[str, Any]], Any]:
        async def submit(form: Any, session: dict[str, Any]) -> dict[str, Any]:
            values = form_values(form)
            missing = [f["var"] for f in command.fields(self.port, member) if f.get("required")]
            if any(not values.get(var) for var in missing):
                return _done(session, "error", f"Fill in: {', '.join(missing)}.")
            handle = member.handle or member.id
            replies = [await self.port.command(handle, line) for line in command.text(values)]
            last = replies[-1]
            failed = next((r for r in replies if r.outcome != "ok"), None)
            reply = failed or last
            return _done(session, "info" if failed is None else "error", reply.text)

        return submit


def _done(session: dict[str, Any], kind: str, text: str) -> dict[str, Any]:
    session.update(payload=None, next=None, has_next=False, notes=[(kind, text or "Done.")])
    return session
