"""The command table: every command's grammar, roles and handler, in one place."""

from __future__ import annotations

from bot.commands import (
    admin,
    calls,
    collaborate,
    directory,
    help,
    interactions,
    messages,
    presence,
    queues,
    supervise,
)
from bot.directory.model import Role
from bot.dispatch.table import CommandSpec, CommandTable

ADMIN = frozenset({Role.ADMIN})
SUPERVISOR = frozenset({Role.SUPERVISOR})
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
                "queue",
                "queue [TARGET]",
                "what customers wait for, oldest first",
                queues.queue,
                (0, 1),
                spec="GRP-3",
                details="Shows each waiting interaction's customer, kind, wait time and who is "
                "being offered it; `queue group:support` only that group's.",
            ),
            CommandSpec(
                "team",
                "team [GROUP]",
                "a group's members and their work",
                queues.team,
                (0, 1),
                spec="GRP-2",
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
            *INTERACTION_COMMANDS,
            *MESSAGE_COMMANDS,
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


INTERACTION_COMMANDS = (
    CommandSpec(
        "accept",
        "accept [ID]",
        "take what is offered to you",
        interactions.accept,
        (0, 1),
        spec="INT-3",
    ),
    CommandSpec(
        "decline",
        "decline [ID]",
        "refuse what is offered to you",
        interactions.decline,
        (0, 1),
        spec="INT-3",
    ),
    CommandSpec(
        "say",
        "say [ID] TEXT",
        "write in your current interaction",
        interactions.say,
        (1, None),
        spec="INT-1",
    ),
    CommandSpec(
        "hold", "hold [ID]", "put the caller on hold", interactions.hold, (0, 1), spec="INT-4"
    ),
    CommandSpec(
        "resume",
        "resume [ID]",
        "take the caller off hold",
        interactions.resume,
        (0, 1),
        spec="INT-4",
    ),
    CommandSpec(
        "end",
        "end [ID]",
        "end an interaction, consultation or IM",
        interactions.end,
        (0, 1),
        spec="INT-4",
    ),
    CommandSpec(
        "done",
        "done [ID]",
        "mark done: close your part once it ended",
        interactions.done,
        (0, 1),
        spec="INT-4",
    ),
    CommandSpec(
        "dispose",
        "dispose CODE [ID]",
        "set the disposition code",
        interactions.dispose,
        (1, 2),
        spec="INT-4",
    ),
    CommandSpec(
        "consult",
        "consult TARGET [voice|chat|im]",
        "consult a colleague privately",
        collaborate.consult,
        (1, 2),
        spec="CON-1",
        details="The customer never sees a consultation. Inside a chat or IM "
        "consultation, `consult voice` turns it into a call.",
    ),
    CommandSpec(
        "swap",
        "swap",
        "alternate between the held call and your voice consultation",
        collaborate.swap,
        spec="CON-7",
        aliases=("retrieve",),
    ),
    CommandSpec(
        "transfer",
        "transfer [ID] [now] [TARGET] [--explain]",
        "hand the interaction over (warm from a consultation)",
        collaborate.transfer,
        (0, 4),
        spec="TRF-1",
        details="`transfer TARGET` and `transfer now TARGET` transfer at once; inside a "
        "consultation, `transfer` hands over to the consultant. `--explain` says who "
        "would get it and why, changing nothing.",
    ),
    CommandSpec(
        "conference",
        "conference [ID] [now] [TARGET] [--explain]",
        "add someone (warm from a consultation)",
        collaborate.conference,
        (0, 4),
        spec="CNF-1",
    ),
    CommandSpec(
        "leave", "leave [ID]", "release your own leg", collaborate.leave, (0, 1), spec="CNF-3"
    ),
    CommandSpec(
        "remove",
        "remove [ID] @MEMBER",
        "release someone else's leg",
        collaborate.remove,
        (1, 2),
        spec="CNF-6",
    ),
    CommandSpec(
        "mute",
        "mute [ID] @MEMBER",
        "nobody hears them until unmuted",
        collaborate.mute,
        (1, 2),
        spec="CNF-2",
    ),
    CommandSpec(
        "unmute",
        "unmute [ID] @MEMBER",
        "let a muted party be heard",
        collaborate.unmute,
        (1, 2),
        spec="CNF-2",
    ),
    CommandSpec(
        "im",
        "im TARGET [TEXT]",
        "instant message a colleague or group",
        collaborate.im,
        (1, None),
        spec="IM-1",
    ),
    CommandSpec(
        "call",
        "call TARGET",
        "call a colleague, a group, a queue or a skill",
        calls.call,
        (1, 1),
        spec="DIR-3",
        details="An internal voice call with no customer: the target is offered it (a group "
        "rings one available member with a phone), and on `accept` you are both connected; "
        "`end` hangs up. Hold, consult, transfer and conference work on it.",
    ),
    CommandSpec(
        "retry",
        "retry TARGET",
        "repeat your last failed attempt to reach a target",
        calls.retry,
        (1, 1),
        spec="DIR-3",
    ),
    CommandSpec(
        "list", "list", "your live interactions and offers", interactions.list_, spec="INT-1"
    ),
    CommandSpec(
        "focus",
        "focus ID",
        "make an interaction your current one",
        interactions.focus,
        (1, 1),
        spec="INT-1",
    ),
    CommandSpec(
        "history",
        "history ID",
        "every event of an interaction",
        interactions.history,
        (1, 1),
        spec="INT-5",
    ),
    CommandSpec(
        "monitor",
        "monitor @AGENT [next]",
        "silently watch an agent's interaction",
        supervise.monitor,
        (1, 2),
        SUPERVISOR,
        spec="SUP-1",
    ),
    CommandSpec(
        "coach",
        "coach @AGENT",
        "whisper to an agent",
        supervise.coach,
        (1, 1),
        SUPERVISOR,
        spec="SUP-2",
    ),
    CommandSpec(
        "barge",
        "barge @AGENT",
        "join an agent's interaction",
        supervise.barge,
        (1, 1),
        SUPERVISOR,
        spec="SUP-3",
    ),
    CommandSpec(
        "unmonitor",
        "unmonitor @AGENT",
        "stop following an agent",
        supervise.unmonitor,
        (1, 1),
        SUPERVISOR,
        spec="SUP-7",
    ),
)


MESSAGE_COMMANDS = (
    CommandSpec(
        "messages",
        "messages [--page N | read ID|all | clear]",
        "your system messages, newest first",
        messages.messages,
        (0, 2),
        spec="MSG-1",
    ),
    CommandSpec(
        "mailbox",
        "mailbox [pin NNNN [MAILBOX]]",
        "new and old voicemail per mailbox",
        messages.mailbox,
        (0, 3),
        spec="MSG-4",
    ),
    CommandSpec(
        "voicemail",
        "voicemail [MAILBOX]",
        "listen to a mailbox",
        messages.voicemail,
        (0, 1),
        spec="MSG-5",
    ),
    CommandSpec(
        "pin", "pin NNNN", "unlock a voicemail session", messages.pin, (1, 1), spec="MSG-5"
    ),
    CommandSpec("next", "next", "voicemail: go to the next message", messages.browse, spec="MSG-5"),
    CommandSpec("play", "play", "voicemail: play the message", messages.browse, spec="MSG-5"),
    CommandSpec("keep", "keep", "voicemail: keep the message", messages.browse, spec="MSG-5"),
    CommandSpec("delete", "delete", "voicemail: delete the message", messages.browse, spec="MSG-5"),
    CommandSpec(
        "broadcast",
        "broadcast [TARGET] [--priority P] TEXT",
        "send a system message to members",
        messages.broadcast,
        (1, None),
        frozenset({Role.ADMIN}),
        spec="MSG-2",
    ),
)
