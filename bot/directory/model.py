"""Directory entities: members, groups (and skills, queues, routing points), mailboxes."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cached_property


class Role(StrEnum):
    """What a member may do."""

    AGENT = "agent"
    SUPERVISOR = "supervisor"
    ADMIN = "admin"


class GroupKind(StrEnum):
    """Targets that are never parties: an operation aimed at one is routed to a member."""

    GROUP = "group"
    SKILL = "skill"
    QUEUE = "queue"
    ROUTING_POINT = "rp"


@dataclass(frozen=True)
class Member:
    """A person in the directory: an agent, a supervisor or an admin."""

    id: str
    name: str
    roles: frozenset[Role]
    handles: Mapping[str, str] = field(default_factory=dict)
    voice: str | None = None
    groups: tuple[str, ...] = ()
    skills: tuple[str, ...] = ()

    @property
    def ref(self) -> str:
        """The member as a target: ``@alice``."""
        return f"@{self.id}"

    def has(self, role: Role) -> bool:
        """Whether the member holds ``role``."""
        return role in self.roles


@dataclass(frozen=True)
class Group:
    """An agent group, skill, queue or routing point."""

    id: str
    kind: GroupKind
    name: str
    members: tuple[str, ...] = ()
    supervisors: tuple[str, ...] = ()
    routes_to: tuple[str, ...] = ()

    @property
    def ref(self) -> str:
        """The group as a target: ``group:support``, ``skill:spanish``, ``rp:sales``."""
        return f"{self.kind.value}:{self.id}"


@dataclass(frozen=True)
class Mailbox:
    """A voicemail box: personal (owned by a member) or a group's (shared read state)."""

    id: str
    owner: str
    group: bool = False


@dataclass(frozen=True)
class DirectoryData:
    """Everything ``rules/directory.yaml`` declares, validated and cross-linked."""

    members: Mapping[str, Member]
    groups: Mapping[str, Group]  # keyed by ref, e.g. "group:support"
    mailboxes: Mapping[str, Mailbox]

    @cached_property
    def by_voice(self) -> Mapping[str, str]:
        """Member ids by ``voice`` extension, worked out once per directory (SIP dialling)."""
        found: dict[str, str] = {}
        for member in self.members.values():
            if member.voice:
                found.setdefault(member.voice, member.id)
        return found

    def groups_of(self, member_id: str) -> list[Group]:
        """Groups and skills the member belongs to (their availability counts include them)."""
        member = self.members[member_id]
        refs = [f"group:{g}" for g in member.groups] + [f"skill:{s}" for s in member.skills]
        return [self.groups[r] for r in refs]
