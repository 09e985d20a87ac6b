"""The adapter port: all an adapter may import from the core.

Inbound: ``Port.command``, ``customer_arrived / customer_said / customer_left``,
``presence``, ``adapter_status``. Outbound: one ``Batch`` per commit to ``Adapter.send``,
which raises ``Unsupported`` for what it cannot render. Read models: ``interaction_view``,
``home_view``, members by platform handle. ``PLUGIN = Plugin(...)`` declares an adapter.
"""

from bot.directory.presence import PresenceState
from bot.dispatch.pipeline import new_ref
from bot.errors import CommandError, NotFound
from bot.outbound import Priority, Say
from bot.port.edits import EDITED, Posted, Relay, relaying, unmarked
from bot.port.plugin import Adapter, Plugin, Settings
from bot.port.port import AdapterStore, Port, Respond
from bot.port.settings import choice, port, secret
from bot.port.types import (
    Address,
    Batch,
    ChatState,
    HomeView,
    InteractionState,
    InteractionView,
    MemberInfo,
    Outgoing,
    Reply,
    Unsupported,
)
from bot.port.voice import Voice, VoiceCall, VoiceLeg
from bot.rules.duration import parse_duration

__all__ = [
    "EDITED",
    "Adapter",
    "AdapterStore",
    "Address",
    "Batch",
    "ChatState",
    "CommandError",
    "HomeView",
    "InteractionState",
    "InteractionView",
    "MemberInfo",
    "NotFound",
    "Outgoing",
    "Plugin",
    "Port",
    "Posted",
    "PresenceState",
    "Priority",
    "Relay",
    "Reply",
    "Respond",
    "Say",
    "Settings",
    "Unsupported",
    "Voice",
    "VoiceCall",
    "VoiceLeg",
    "choice",
    "new_ref",
    "parse_duration",
    "port",
    "relaying",
    "secret",
    "unmarked",
]
