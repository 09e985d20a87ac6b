"""DIR-6: `rules/directory.yaml` is validated on load; every error names file, line and key."""

from __future__ import annotations

import textwrap

import pytest

from bot.directory.loader import parse_directory
from bot.directory.model import DirectoryData, GroupKind, Mailbox, Role
from bot.rules.errors import RulesInvalid
from bot.rules.source import parse_source
from tests.support.console import RULES


def load(text: str) -> DirectoryData:
    return parse_directory(parse_source(textwrap.dedent(text), "d.yaml"))


def errors_of(text: str) -> list[str]:
    with pytest.raises(RulesInvalid) as caught:
        load(text)
    return [str(error) for error in caught.value.errors]


TWO = """\
members:
  - id: ann
    name: Ann Archer
  - id: sue
    name: Sue Smith
    roles: [supervisor]
"""


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(
            TWO + "teams: []\n",
            "d.yaml:7: teams: unknown section; expected one of: groups, mailboxes, members,",
            id="unknown-section",
        ),
        pytest.param(
            "members:\n  - name: No Id\n",
            "d.yaml:2: members[0].id: expected an id of lowercase letters, digits, . _ -",
            id="missing-id",
        ),
        pytest.param(
            "members:\n  - id: Bob Baker\n",
            "d.yaml:2: members[0].id: expected an id of lowercase letters, digits, . _ -",
            id="invalid-id",
        ),
        pytest.param(
            'members:\n  - id: "bob\\n"\n',
            "d.yaml:2: members[0].id: expected an id of lowercase letters, digits, . _ -",
            id="id-ending-in-a-line-break",
        ),
        pytest.param(
            TWO + "  - id: ann\n",
            "d.yaml:7: members[2].id: duplicate id 'ann'",
            id="duplicate-id",
        ),
        pytest.param(
            "members:\n  - id: ann\n    roles: [boss]\n",
            "d.yaml:3: members[0].roles: unknown role 'boss'; expected agent, supervisor, admin",
            id="unknown-role",
        ),
        pytest.param(
            TWO + "groups:\n  - id: support\n    members: [ann, zed]\n",
            "d.yaml:9: groups[0].members: unknown member 'zed'",
            id="unknown-member-in-group",
        ),
        pytest.param(
            TWO + "groups:\n  - id: support\n    supervisors: [ann]\n",
            "d.yaml:9: groups[0].supervisors: 'ann' does not have the supervisor role",
            id="non-supervisor-as-supervisor",
        ),
        pytest.param(
            "members:\n  - id: ann\n    handles: {slack: U1}\n"
            "  - id: sue\n    handles:\n      slack: U1\n",
            "d.yaml:6: members[1].handles.slack: 'U1' already belongs to ann",
            id="handle-owned-twice",
        ),
        pytest.param(
            TWO + "groups:\n  - id: support\n"
            "queues:\n  - id: overflow\n    routes_to: [group:support, group:nope]\n",
            "d.yaml:11: queues[0].routes_to: unknown target 'group:nope'",
            id="unknown-routes-to",
        ),
        pytest.param(
            TWO + "mailboxes:\n  - id: help\n    group: nope\n",
            "d.yaml:9: mailboxes[0].group: expected the id of a group that shares this mailbox",
            id="mailbox-for-unknown-group",
        ),
        pytest.param(
            TWO + "groups:\n  - id: support\nmailboxes:\n  - id: sue\n    group: support\n",
            "d.yaml:10: mailboxes[0].id: 'sue' is already a member's personal mailbox",
            id="mailbox-id-is-a-member",
        ),
    ],
)
def test_each_error_names_file_line_and_key_dir_6(text: str, expected: str) -> None:
    """DIR-6: each kind of mistake raises `RulesInvalid` with `d.yaml:LINE: key: message`."""
    errors = errors_of(text)
    assert any(e.startswith(expected) for e in errors), errors
    assert len(errors) == 1, errors


def test_every_error_is_reported_at_once_dir_6() -> None:
    """DIR-6: one load reports all problems, each with its own line and key."""
    text = """\
        members:
          - id: ann
            roles: [boss]
          - id: ann
        groups:
          - id: support
            members: [zed]
            supervisors: [ann]
        routing_points:
          - id: sales
            routes_to: [group:nope]
        """
    with pytest.raises(RulesInvalid) as caught:
        load(text)
    message = str(caught.value)
    assert len(caught.value.errors) == 5
    assert set(message.splitlines()) == {
        "d.yaml:3: members[0].roles: unknown role 'boss'; expected agent, supervisor, admin",
        "d.yaml:4: members[1].id: duplicate id 'ann'",
        "d.yaml:7: groups[0].members: unknown member 'zed'",
        "d.yaml:8: groups[0].supervisors: 'ann' does not have the supervisor role",
        "d.yaml:11: routing_points[0].routes_to: unknown target 'group:nope'",
    }


def test_a_valid_file_links_members_to_groups_and_skills_and_mailboxes_dir_6() -> None:
    """DIR-6: members know their groups and skills; every member has a personal mailbox."""
    data = load(
        TWO
        + """\
groups:
  - id: support
    name: Support
    members: [ann]
    supervisors: [sue]
skills:
  - id: spanish
    members: [ann, sue]
queues:
  - id: overflow
    routes_to: [group:support, skill:spanish]
routing_points:
  - id: sales
    routes_to: [queue:overflow]
mailboxes:
  - id: help
    group: support
"""
    )
    ann, sue = data.members["ann"], data.members["sue"]
    assert ann.groups == ("support",) and ann.skills == ("spanish",)
    assert sue.groups == () and sue.skills == ("spanish",)
    assert ann.roles == frozenset({Role.AGENT})
    assert sue.roles == frozenset({Role.SUPERVISOR})
    assert set(data.groups) == {"group:support", "skill:spanish", "queue:overflow", "rp:sales"}
    assert data.groups["rp:sales"].kind is GroupKind.ROUTING_POINT
    assert data.groups["rp:sales"].routes_to == ("queue:overflow",)
    assert data.groups["skill:spanish"].name == "spanish"
    assert data.groups["group:support"].supervisors == ("sue",)
    assert dict(data.mailboxes) == {
        "ann": Mailbox("ann", "ann"),
        "sue": Mailbox("sue", "sue"),
        "help": Mailbox("help", "support", group=True),
    }
    assert [g.ref for g in data.groups_of("ann")] == ["group:support", "skill:spanish"]


def test_the_shipped_directory_is_valid_dir_6() -> None:
    """DIR-6: the demo directory loads: eight members, three groups, a shared support box."""
    data = load((RULES / "directory.yaml").read_text(encoding="utf-8"))
    assert sorted(data.members) == ["alice", "bob", "chen", "dana", "eli", "fay", "sam", "sky"]
    assert data.members["bob"].skills == ("spanish",)
    assert data.members["sam"].roles == frozenset({Role.SUPERVISOR, Role.ADMIN})
    assert data.mailboxes["support"] == Mailbox("support", "support", group=True)
    assert all(data.mailboxes[m].owner == m for m in data.members)
