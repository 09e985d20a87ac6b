"""The command table: every command's grammar, roles and handler, in one place."""

from __future__ import annotations

from bot.commands import admin, directory, help, presence
from bot.directory.model import Role
from bot.dispatch.table import CommandSpec, CommandTable

ADMIN = frozenset({Role.ADMIN})
ANY = (0, None)


def command_table() -> CommandTable:
    """Build the table; ``help`` lists commands in this order."""
    return CommandTable(
        [
            CommandSpec(
                "help", "help [COMMAND]", "list commands, or explain one", help.help_, (0, 1)
            ),
            CommandSpec("whoami", "whoami", "who the directory says you are", help.whoami),
            CommandSpec(
                "status",
                "status [TARGET]",
                "your presence, or a member's or group's",
                presence.status,
                (0, 1),
                spec="DIR-5",
            ),
            CommandSpec(
                "ready", "ready", "become ready for interactions", presence.ready, spec="DIR-5"
            ),
            CommandSpec(
                "notready",
                "notready [REASON]",
                "become not ready, with a reason",
                presence.notready,
                ANY,
                spec="DIR-5",
                aliases=("not_ready", "nr"),
            ),
            CommandSpec(
                "aftercall",
                "aftercall",
                "enter after-call work",
                presence.aftercall,
                spec="DIR-5",
                aliases=("acw",),
            ),
            CommandSpec("logout", "logout", "log off", presence.logout, spec="DIR-5"),
            CommandSpec(
                "find",
                "find TEXT [--page N]",
                "search the directory",
                directory.find,
                (1, None),
                spec="DIR-1",
                details="Searches members, groups, skills, queues "
                "and routing points by the start of any word of a name, id or handle; "
                "favourites and recent contacts come first.",
            ),
            CommandSpec(
                "groups",
                "groups",
                "agent groups with how many are ready now",
                directory.groups,
                spec="GRP-1",
            ),
            CommandSpec(
                "fav",
                "fav [add|rm TARGET]",
                "list, add or remove favourites",
                directory.fav,
                (0, 2),
                spec="DIR-4",
            ),
            CommandSpec(
                "recent", "recent", "whom you contacted lately", directory.recent, spec="DIR-4"
            ),
            CommandSpec(
                "link",
                "link @MEMBER PLATFORM HANDLE",
                "link a member's platform account",
                admin.link,
                (3, 3),
                ADMIN,
                spec="DIR-6",
            ),
            CommandSpec(
                "reload",
                "reload",
                "reload the rules without a restart",
                admin.reload,
                roles=ADMIN,
                spec="RUL-5",
            ),
        ]
    )
