"""Reads ``rules/directory.yaml`` into ``DirectoryData``, reporting every problem with its line."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from bot.directory.document import NeedsLines, read_document
from bot.directory.model import DirectoryData, Group, GroupKind, Mailbox, Member, Role
from bot.directory.quiet import collector_paused
from bot.rules.errors import RuleError, RulesInvalid
from bot.rules.source import KeyPath, Source, load_source, parse_source

ID = re.compile(r"^[a-z0-9][a-z0-9_.-]*$")
SECTIONS = {
    "groups": GroupKind.GROUP,
    "skills": GroupKind.SKILL,
    "queues": GroupKind.QUEUE,
    "routing_points": GroupKind.ROUTING_POINT,
}
TOP_KEYS = {"members", "mailboxes", *SECTIONS}
ROLE_NAMES = ", ".join(r.value for r in Role)
DEFAULT_ROLES = ("agent",)
_ABSENT: Any = object()


def load_directory(path: Path, display: str | None = None) -> DirectoryData:
    """Load and validate a directory file; raises ``RulesInvalid`` listing every error."""
    return read_directory(read_bytes(path, display), display or str(path))


def read_bytes(path: Path, display: str | None = None) -> bytes:
    """The directory file's content; raises ``RulesInvalid`` when it cannot be read."""
    try:
        return path.read_bytes()
    except OSError:
        load_source(path, display)  # raises RulesInvalid naming the file and the reason
        raise


def read_directory(content: bytes, name: str) -> DirectoryData:
    """Validate a directory file's content, the fast way unless something is wrong.

    The fast reader keeps no lines; when it cannot read the file, or the file has
    problems, the line-exact reader reads it again so every error names its line.
    """
    with collector_paused():
        try:
            reader = _Reader(Source(name, read_document(content.decode("utf-8"))))
        except (NeedsLines, UnicodeDecodeError):
            reader = None
        if reader is not None:
            data = reader.build()
            if not reader.errors:
                return data
    return parse_directory(parse_source(content.decode("utf-8"), name))


def parse_directory(source: Source) -> DirectoryData:
    """Validate a parsed directory document."""
    reader = _Reader(source)
    data = reader.build()
    if reader.errors:
        raise RulesInvalid(reader.errors)
    return data


class _Reader:
    def __init__(self, source: Source) -> None:
        self.source = source
        self.errors: list[RuleError] = []
        self.role_sets: dict[tuple[str, ...], frozenset[Role]] = {}  # 10⁵ members, few sets

    def fail(self, path: KeyPath, message: str) -> None:
        self.errors.append(self.source.error(path, message))

    def build(self) -> DirectoryData:
        doc = self.source.data
        if doc is None:
            doc = {}
        if not isinstance(doc, dict):
            self.fail((), "expected a mapping with members, groups, skills, queues, ...")
            return DirectoryData({}, {}, {})
        for key in doc:
            if key not in TOP_KEYS:
                self.fail(
                    (key,), f"unknown section; expected one of: {', '.join(sorted(TOP_KEYS))}"
                )
        members = self._members(doc.get("members", []))
        groups: dict[str, Group] = {}
        for section, kind in SECTIONS.items():
            for group in self._groups(doc.get(section, []), section, kind, members):
                groups[group.ref] = group
        self._check_routes(doc, groups)
        members = link_membership(members, groups)
        mailboxes = self._mailboxes(doc.get("mailboxes", []), members, groups)
        return DirectoryData(members, groups, mailboxes)

    def _entries(self, value: Any, section: str) -> list[tuple[KeyPath, dict[str, Any]]]:
        if not isinstance(value, list):
            self.fail((section,), "expected a list")
            return []
        out: list[tuple[KeyPath, dict[str, Any]]] = []
        seen: set[str] = set()
        for index, entry in enumerate(value):
            path = (section, index)
            if not isinstance(entry, dict):
                self.fail(path, "expected a mapping with at least an id")
                continue
            ident = entry.get("id")
            if not isinstance(ident, str) or not ID.fullmatch(ident):
                self.fail((*path, "id"), "expected an id of lowercase letters, digits, . _ -")
                continue
            if ident in seen:
                self.fail((*path, "id"), f"duplicate id '{ident}'")
                continue
            seen.add(ident)
            out.append((path, entry))
        return out

    def _strings(self, entry: dict[str, Any], path: KeyPath, key: str) -> tuple[str, ...]:
        value = entry.get(key, _ABSENT)
        if value is _ABSENT:  # most members of a large file: checked at C speed
            return ()
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self.fail((*path, key), "expected a list of strings")
            return ()
        return tuple(value)

    def _name(self, entry: dict[str, Any], path: KeyPath) -> str:
        name = entry.get("name", entry["id"])
        if not isinstance(name, str) or not name.strip():
            self.fail((*path, "name"), "expected a non-empty string")
            return str(entry["id"])
        return name

    def _unknown_keys(self, entry: dict[str, Any], path: KeyPath, allowed: set[str]) -> None:
        if allowed.issuperset(entry):
            return
        for key in entry:
            if key not in allowed:
                self.fail(
                    (*path, key), f"unknown key; expected one of: {', '.join(sorted(allowed))}"
                )

    def _members(self, value: Any) -> dict[str, Member]:
        members: dict[str, Member] = {}
        owners: dict[tuple[str, str], str] = {}
        allowed = {"id", "name", "roles", "handles", "voice"}
        plain, agent = {"id", "name", "handles"}, self._role_set(DEFAULT_ROLES, ())
        for path, entry in self._entries(value, "members"):
            ident, name = entry["id"], entry.get("name", entry["id"])
            if plain.issuperset(entry) and isinstance(name, str) and name.strip():
                # most members of a large file: an agent with a name and maybe handles
                handles = self._handles(entry, path, owners) if "handles" in entry else {}
                members[ident] = Member(ident, name, agent, handles)
                continue
            self._unknown_keys(entry, path, allowed)
            roles = self._roles(entry, path)
            handles = self._handles(entry, path, owners)
            voice = entry.get("voice")
            if voice is not None and not isinstance(voice, str | int):
                self.fail((*path, "voice"), "expected an extension or SIP address")
                voice = None
            member = Member(
                entry["id"],
                self._name(entry, path),
                roles,
                handles,
                None if voice is None else str(voice),
            )
            members[member.id] = member
        return members

    def _roles(self, entry: dict[str, Any], path: KeyPath) -> frozenset[Role]:
        return self._role_set(self._strings(entry, path, "roles") or DEFAULT_ROLES, path)

    def _role_set(self, names: tuple[str, ...], path: KeyPath) -> frozenset[Role]:
        known = self.role_sets.get(names)
        if known is not None:
            return known
        roles: set[Role] = set()
        for name in names:
            try:
                roles.add(Role(name))
            except ValueError:
                self.fail((*path, "roles"), f"unknown role '{name}'; expected {ROLE_NAMES}")
        if len(roles) == len(set(names)):  # every name was a role: the same set next time
            self.role_sets[names] = frozenset(roles)
        return frozenset(roles)

    def _handles(
        self, entry: dict[str, Any], path: KeyPath, owners: dict[tuple[str, str], str]
    ) -> dict[str, str]:
        value = entry.get("handles", {})
        if not isinstance(value, dict):
            self.fail((*path, "handles"), "expected a mapping of platform: handle")
            return {}
        handles: dict[str, str] = {}
        for platform, handle in value.items():
            if not isinstance(handle, str) or not handle:
                self.fail((*path, "handles", platform), "expected a handle string")
                continue
            other = owners.setdefault((platform, handle), entry["id"])
            if other != entry["id"]:
                self.fail((*path, "handles", platform), f"'{handle}' already belongs to {other}")
                continue
            handles[platform] = handle
        return handles

    def _groups(
        self, value: Any, section: str, kind: GroupKind, members: dict[str, Member]
    ) -> list[Group]:
        groups: list[Group] = []
        allowed = {"id", "name", "members", "supervisors", "routes_to"}
        for path, entry in self._entries(value, section):
            self._unknown_keys(entry, path, allowed)
            people = self._strings(entry, path, "members")
            supervisors = self._strings(entry, path, "supervisors")
            for key, ids in (("members", people), ("supervisors", supervisors)):
                for ident in ids:
                    if ident not in members:
                        self.fail((*path, key), f"unknown member '{ident}'")
            for ident in supervisors:
                if ident in members and not members[ident].has(Role.SUPERVISOR):
                    self.fail(
                        (*path, "supervisors"), f"'{ident}' does not have the supervisor role"
                    )
            routes = self._strings(entry, path, "routes_to")
            groups.append(
                Group(entry["id"], kind, self._name(entry, path), people, supervisors, routes)
            )
        return groups

    def _check_routes(self, doc: dict[str, Any], groups: dict[str, Group]) -> None:
        for section in SECTIONS:
            entries = doc.get(section)
            if not isinstance(entries, list):
                continue
            for index, entry in enumerate(entries):
                if not isinstance(entry, dict) or not isinstance(entry.get("routes_to"), list):
                    continue
                for ref in entry["routes_to"]:
                    if ref not in groups:
                        self.fail((section, index, "routes_to"), f"unknown target '{ref}'")

    def _mailboxes(
        self, value: Any, members: dict[str, Member], groups: dict[str, Group]
    ) -> dict[str, Mailbox]:
        boxes = {m: Mailbox(m, m) for m in members}  # a personal mailbox for every member
        for path, entry in self._entries(value, "mailboxes"):
            self._unknown_keys(entry, path, {"id", "group", "member"})
            if entry["id"] in boxes:
                self.fail((*path, "id"), f"'{entry['id']}' is already a member's personal mailbox")
            elif isinstance(entry.get("group"), str) and f"group:{entry['group']}" in groups:
                boxes[entry["id"]] = Mailbox(entry["id"], entry["group"], group=True)
            else:
                self.fail((*path, "group"), "expected the id of a group that shares this mailbox")
        return boxes


def link_membership(members: dict[str, Member], groups: dict[str, Group]) -> dict[str, Member]:
    """Fill each member's ``groups`` and ``skills`` from the groups that list them."""
    joined: dict[str, tuple[list[str], list[str]]] = {}
    for group in groups.values():
        if group.kind in (GroupKind.GROUP, GroupKind.SKILL):
            slot = 0 if group.kind is GroupKind.GROUP else 1
            for mid in group.members:
                if mid in members:
                    joined.setdefault(mid, ([], []))[slot].append(group.id)
    out: dict[str, Member] = {}
    for mid, m in members.items():
        kinds = joined.get(mid)
        out[mid] = (
            m
            if kinds is None
            else Member(m.id, m.name, m.roles, m.handles, m.voice, tuple(kinds[0]), tuple(kinds[1]))
        )
    return out
