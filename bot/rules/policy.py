"""The options of ``rules/policy.yaml`` (RUL-2): these dataclasses are the schema and its docs.

Each section is a frozen dataclass; each field carries its default, what it means (``doc``)
and the SPEC id it serves (``spec``). Validation, the option list and the README table are all
derived from the fields and their type hints, so an option is declared in one place only.
"""

from __future__ import annotations

import difflib
import math
import types
from collections.abc import Callable, Collection, Iterator, Mapping
from dataclasses import dataclass, field, fields, is_dataclass, replace
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar, Union, get_args, get_origin, get_type_hints

import yaml

from bot.rules.duration import format_duration, parse_duration
from bot.rules.errors import RuleError, RulesInvalid
from bot.rules.source import KeyPath, Source, load_source

Duration = Annotated[float, "duration"]
"""Seconds; written in YAML as ``30s``, ``2m``, ``1h30m`` or a number of seconds."""
Wait = Annotated[float, "wait"]
"""Seconds, like ``Duration``, or ``forever`` (infinite): wait until someone is ready."""
WhenEmpty = Annotated[str, "when_empty"]
"""``wait``, ``voicemail``, ``refuse`` or ``fallback:GROUP`` (GRP-5)."""
Kind = Literal["voice", "chat", "email", "workitem", "im"]
Role = Literal["agent", "supervisor", "admin"]
HoldRole = Literal["owner", "member", "barger"]

WHEN_EMPTY = ("wait", "voicemail", "refuse")
FALLBACK = "fallback:"
_T = TypeVar("_T")


def about(doc: str, spec: str = "", *, minimum: int = 0, each: str = "") -> dict[str, Any]:
    """Field metadata: what an option means (``doc``) and the SPEC id it serves (``spec``).

    ``minimum`` bounds integers; ``each`` names the placeholder of a field that collects
    every other key of its section (``groups.GROUP``).
    """
    return {"doc": doc, "spec": spec, "minimum": minimum, "each": each}


def _frozen(**values: Any) -> Callable[[], Mapping[Any, Any]]:
    return lambda: types.MappingProxyType(dict(values))


@dataclass(frozen=True)
class GroupPolicy:
    """Options of one group, written under ``groups.<group id>``."""

    when_empty: WhenEmpty | None = field(
        default=None,
        metadata=about("This group's `when_empty`; unset means `groups.when_empty`.", "GRP-5"),
    )


@dataclass(frozen=True)
class GroupsPolicy:
    """Agent groups; any key that is not an option below is a group id."""

    searchable: bool = field(
        default=True, metadata=about("Groups appear in `find` and `groups`.", "GRP-1")
    )
    show_available_count: bool = field(
        default=True,
        metadata=about("Each group shows how many of its members are ready now.", "GRP-2"),
    )
    when_empty: WhenEmpty = field(
        default="wait",
        metadata=about("What work for a group does when nobody is available.", "GRP-5"),
    )
    per_group: Mapping[str, GroupPolicy] = field(
        default_factory=_frozen(), metadata=about("Options of one group.", "GRP-5", each="GROUP")
    )


@dataclass(frozen=True)
class RoutingPolicy:
    """How work sent to a group, skill, queue or routing point finds a member."""

    wait_for_agent: Duration = field(
        default=30.0,
        metadata=about("How long work waits for a member before `when_empty` applies.", "GRP-3"),
    )
    wait_for_agent_per_kind: Mapping[Kind, Wait] = field(
        default_factory=_frozen(email=math.inf, workitem=math.inf),
        metadata=about(
            "Per kind, how long work waits for a member (`forever`: until someone is ready,"
            " in arrival order); a kind not listed waits `wait_for_agent`.",
            "GRP-3",
        ),
    )
    accept_timeout: Duration = field(
        default=20.0,
        metadata=about("An offer not accepted in this time is routed to someone else.", "INT-3"),
    )
    choose: Literal["longest_idle", "fewest_interactions"] = field(
        default="longest_idle",
        metadata=about("Which available member gets the work first.", "GRP-3"),
    )
    on_missed_offer: Literal["not_ready", "keep"] = field(
        default="not_ready",
        metadata=about(
            'A member who lets a routed offer time out: `not_ready` (reason "missed offer")'
            " or `keep` their presence; their group's supervisors get a My Messages note.",
            "INT-3",
        ),
    )
    capacity: Mapping[Kind, int] = field(
        default_factory=_frozen(voice=1, chat=3, email=5, workitem=5, im=10),
        metadata=about(
            "Live interactions of a kind a member takes before busy.", "DIR-2", minimum=1
        ),
    )
    offline_grace: Duration = field(
        default=120.0,
        metadata=about(
            "A member whose platform is offline this long loses their customer work"
            " back to routing.",
            "INT-2",
        ),
    )

    def wait_for(self, kind: str) -> float:
        """How long work of ``kind`` waits for a member (``inf``: until someone is ready)."""
        waits: Mapping[str, float] = self.wait_for_agent_per_kind  # type: ignore[assignment]
        return waits.get(kind, self.wait_for_agent)


@dataclass(frozen=True)
class CustomersPolicy:
    """Customers who arrive through an adapter."""

    offline_grace: Duration = field(
        default=60.0,
        metadata=about(
            "A customer whose client went offline this long has their chat ended.", "INT-2"
        ),
    )


@dataclass(frozen=True)
class ConsultPolicy:
    """Consultations."""

    accept_timeout: Duration = field(
        default=30.0,
        metadata=about("A consultation not accepted in this time is reported back.", "CON-10"),
    )


@dataclass(frozen=True)
class ConferencePolicy:
    """Conferences."""

    end_when_last_member_leaves_external: Mapping[Kind, bool] = field(
        default_factory=_frozen(voice=True, chat=False, email=False, workitem=False, im=False),
        metadata=about("Per kind: end the interaction when only external parties remain.", "CNF-5"),
    )
    remove_party_roles: tuple[Role, ...] = field(
        default=("agent", "supervisor"),
        metadata=about("Roles that may `remove @x` from a conference.", "CNF-6"),
    )
    announce_to_customer: bool = field(
        default=False,
        metadata=about("Membership changes are also shown to the customer.", "CNF-7"),
    )
    hold_roles: tuple[HoldRole, ...] = field(
        default=("owner",),
        metadata=about(
            "Parties who may hold and resume the customer: owner, member (a conference"
            " party), barger; others are told who can.",
            "INT-4",
        ),
    )


@dataclass(frozen=True)
class TransferPolicy:
    """Transfers."""

    to_voicemail_when_unavailable: bool = field(
        default=True,
        metadata=about("A voice transfer to an unavailable member goes to voicemail.", "TRF-6"),
    )
    chat_when_unavailable: Literal["fail", "queue", "message"] = field(
        default="fail",
        metadata=about(
            "A chat transfer to an unavailable member fails, queues or leaves a message.", "TRF-6"
        ),
    )
    after_call_work: bool = field(
        default=True,
        metadata=about("The old owner goes to `after_call_work` after a transfer.", "TRF-2"),
    )


@dataclass(frozen=True)
class InteractionPolicy:
    """Every interaction."""

    after_call_work: Duration = field(
        default=0.0,
        metadata=about(
            "After-call work after a customer interaction ends, then ready again; `0s`: none.",
            "INT-4",
        ),
    )
    disposition_required: bool = field(
        default=False, metadata=about("A member must set a disposition before `done`.", "INT-4")
    )


@dataclass(frozen=True)
class AfterCallWorkPolicy:
    """After-call work, however it started (`aftercall`, a transfer, the end of a call)."""

    max: Duration = field(
        default=120.0,
        metadata=about(
            "After-call work ends by itself after this long and the member is ready again;"
            " on entering it they are told how long and that `ready` leaves it.",
            "INT-4",
        ),
    )


@dataclass(frozen=True)
class HoldPolicy:
    """Calls on hold."""

    escalate_after: Duration = field(
        default=120.0,
        metadata=about("Time on hold after which the hold escalation trigger fires.", "RUL-3"),
    )


@dataclass(frozen=True)
class ImPolicy:
    """Internal IM."""

    auto_accept: bool = field(
        default=False, metadata=about("IM invitations are accepted without asking.", "IM-2")
    )
    group_delivery: Literal["one", "all"] = field(
        default="one",
        metadata=about("IM to a group goes to one available member or to all of them.", "IM-5"),
    )


@dataclass(frozen=True)
class SupervisionPolicy:
    """Monitor, coach and barge."""

    notify_agent: bool = field(
        default=False, metadata=about("The agent is told when monitoring starts.", "SUP-1")
    )
    scope: Literal["call", "agent"] = field(
        default="call",
        metadata=about(
            "`call`: supervision stays with the interaction (and its new owner); `agent`: it"
            " ends when the supervised agent leaves it.",
            "SUP-7",
        ),
    )
    own_groups_only: bool = field(
        default=True, metadata=about("Supervisors supervise only their own groups.", "SUP-6")
    )
    max_voice: int = field(
        default=1, metadata=about("Voice interactions a supervisor supervises at once.", "SUP-7")
    )


@dataclass(frozen=True)
class MessagesPolicy:
    """My Messages."""

    keep_days: int = field(
        default=30, metadata=about("Days a system message is kept.", "MSG-1", minimum=1)
    )
    page_size: int = field(
        default=10, metadata=about("Messages shown per page.", "MSG-1", minimum=1)
    )


@dataclass(frozen=True)
class VoicemailPolicy:
    """Voicemail boxes."""

    keep_days: int = field(
        default=30, metadata=about("Days a voicemail message is kept.", "MSG-4", minimum=1)
    )
    require_pin: bool = field(
        default=False, metadata=about("Voice access to a mailbox asks for its PIN.", "MSG-5")
    )


@dataclass(frozen=True)
class PresencePolicy:
    """Agent presence."""

    not_ready_reasons: tuple[str, ...] = field(
        default=("break", "lunch", "meeting", "training", "other"),
        metadata=about("Reasons `notready REASON` accepts; `[]` accepts any reason.", "DIR-5"),
    )


@dataclass(frozen=True)
class SearchPolicy:
    """Directory search."""

    page_size: int = field(
        default=10, metadata=about("Results of `find` shown per page.", "DIR-1", minimum=1)
    )


@dataclass(frozen=True)
class Policy:
    """Every policy option, one section per feature area."""

    groups: GroupsPolicy = field(default_factory=GroupsPolicy, metadata=about("Agent groups."))
    routing: RoutingPolicy = field(default_factory=RoutingPolicy, metadata=about("Routing."))
    customers: CustomersPolicy = field(
        default_factory=CustomersPolicy, metadata=about("Customers.")
    )
    consult: ConsultPolicy = field(default_factory=ConsultPolicy, metadata=about("Consult."))
    conference: ConferencePolicy = field(
        default_factory=ConferencePolicy, metadata=about("Conference.")
    )
    transfer: TransferPolicy = field(default_factory=TransferPolicy, metadata=about("Transfer."))
    interaction: InteractionPolicy = field(
        default_factory=InteractionPolicy, metadata=about("Interactions.")
    )
    after_call_work: AfterCallWorkPolicy = field(
        default_factory=AfterCallWorkPolicy, metadata=about("After-call work.")
    )
    hold: HoldPolicy = field(default_factory=HoldPolicy, metadata=about("Hold."))
    im: ImPolicy = field(default_factory=ImPolicy, metadata=about("Internal IM."))
    supervision: SupervisionPolicy = field(
        default_factory=SupervisionPolicy, metadata=about("Supervision.")
    )
    messages: MessagesPolicy = field(default_factory=MessagesPolicy, metadata=about("My Messages."))
    voicemail: VoicemailPolicy = field(
        default_factory=VoicemailPolicy, metadata=about("Voicemail.")
    )
    presence: PresencePolicy = field(default_factory=PresencePolicy, metadata=about("Presence."))
    search: SearchPolicy = field(default_factory=SearchPolicy, metadata=about("Search."))

    @classmethod
    def defaults(cls) -> Policy:
        """Return the policy of an empty ``policy.yaml``."""
        return cls()

    def when_empty(self, group_id: str) -> str:
        """Return what work for ``group_id`` does when nobody is available (GRP-5)."""
        own = self.groups.per_group.get(group_id)
        return own.when_empty if own and own.when_empty else self.groups.when_empty


def load_policy(
    path: Path, *, group_ids: Collection[str] = (), display: str | None = None
) -> Policy:
    """Read and validate ``path``; raise ``RulesInvalid`` listing every problem found.

    ``group_ids`` are the groups of the directory; when given, per-group sections and
    ``fallback:GROUP`` must name one of them. ``display`` is the file name errors show.
    """
    return policy_from_source(load_source(path, display), group_ids=group_ids)


def policy_from_source(source: Source, *, group_ids: Collection[str] = ()) -> Policy:
    """Validate an already parsed ``policy.yaml``; raise ``RulesInvalid`` with every error."""
    check = _Check(source, frozenset(group_ids))
    policy: Policy = check.section(Policy.defaults(), source.data, ())
    check.fallback_loops(policy.groups)
    if check.errors:
        raise RulesInvalid(sorted(check.errors, key=lambda error: error.line or 0))
    return policy


class _Check:
    """Converts YAML data to the dataclasses, collecting errors and keeping defaults instead."""

    def __init__(self, source: Source, group_ids: frozenset[str]) -> None:
        self.source = source
        self.group_ids = group_ids
        self.errors: list[RuleError] = []

    def fail(self, path: KeyPath, message: str) -> None:
        self.errors.append(self.source.error(path, message))

    def section(self, default: Any, data: object, path: KeyPath) -> Any:
        if data is None:  # an empty or missing section means defaults
            return default
        what = "section" if not path else "option"
        known = {f.name: f for f in fields(default) if not f.metadata.get("each")}
        if not isinstance(data, dict):
            keys = f" ({', '.join(known)})" if path else ""
            return self.mismatch(path, f"expected a mapping of {what}s{keys}", data, default)
        hints = get_type_hints(type(default), include_extras=True)
        each = [f for f in fields(default) if f.metadata.get("each")]
        values: dict[str, Any] = {}
        others: dict[str, Any] = {}
        for key, value in data.items():
            if key in known:
                meta = known[key].metadata
                values[key] = self.value(
                    hints[key], value, getattr(default, key), (*path, key), meta
                )
            elif each and (not self.group_ids or key in self.group_ids):
                others[key] = value
            else:
                names = [*known, *sorted(self.group_ids)] if each else list(known)
                kind = f"{what} or group" if each else what
                self.fail((*path, key), f"unknown {kind}{_suggest(key, names)}")
        for extra in each:
            current = getattr(default, extra.name)
            values[extra.name] = self.value(
                hints[extra.name], others, current, path, extra.metadata
            )
        return replace(default, **values)

    def value(
        self, hint: Any, value: Any, default: Any, path: KeyPath, meta: Mapping[str, Any]
    ) -> Any:
        origin, args = get_origin(hint), get_args(hint)
        if origin is Annotated:
            return self.tagged(args[1], value, default, path)
        if origin in (Union, types.UnionType):
            inner = next(arg for arg in args if arg is not type(None))
            return None if value is None else self.value(inner, value, default, path, meta)
        if origin is Literal:
            if value in args:
                return value
            return self.mismatch(path, f"expected one of: {', '.join(args)}", value, default)
        if origin is tuple:
            return self.items(args[0], value, default, path, meta)
        if origin is Mapping:
            return self.mapping(args, value, default, path, meta)
        if _is_section(hint):
            return self.section(default, value, path)
        return self.scalar(hint, value, default, path, meta.get("minimum", 0))

    def scalar(self, hint: type, value: Any, default: Any, path: KeyPath, minimum: int) -> Any:
        if hint is bool and isinstance(value, bool):
            return value
        is_int = isinstance(value, int) and not isinstance(value, bool)
        if hint is int and is_int and value >= minimum:
            return value
        if hint is str and isinstance(value, str) and value.strip():
            return value
        return self.mismatch(path, f"expected a {_type_name(hint, minimum)}", value, default)

    def tagged(self, tag: str, value: Any, default: Any, path: KeyPath) -> Any:
        if tag == "wait" and value == "forever":
            return math.inf
        if tag in ("duration", "wait"):
            try:
                return parse_duration(value)
            except ValueError as exc:
                self.fail(path, str(exc))
                return default
        choices = f"expected one of: {', '.join(WHEN_EMPTY)}, {FALLBACK}GROUP"
        if not isinstance(value, str) or not (
            value in WHEN_EMPTY or (value.startswith(FALLBACK) and value != FALLBACK)
        ):
            return self.mismatch(path, choices, value, default)
        group = value.removeprefix(FALLBACK)
        if value.startswith(FALLBACK) and self.group_ids and group not in self.group_ids:
            known = sorted(self.group_ids)
            self.fail(path, f"fallback to unknown group {group!r}{_suggest(group, known)}")
        return value

    def items(
        self, hint: Any, value: Any, default: Any, path: KeyPath, meta: Mapping[str, Any]
    ) -> Any:
        if not isinstance(value, list):
            return self.mismatch(path, "expected a list", value, default)
        return tuple(self.value(hint, item, None, (*path, i), meta) for i, item in enumerate(value))

    def mapping(
        self,
        args: tuple[Any, ...],
        value: Any,
        default: Any,
        path: KeyPath,
        meta: Mapping[str, Any],
    ) -> Any:
        if value is None:
            return default
        if not isinstance(value, dict):
            return self.mismatch(path, "expected a mapping", value, default)
        keys, hint = args
        choices = get_args(keys) if get_origin(keys) is Literal else ()
        merged = dict(default)
        for key, item in value.items():
            if choices and key not in choices:
                self.fail((*path, key), f"unknown key{_suggest(key, choices)}")
                continue
            current = merged.get(key, hint() if _is_section(hint) else None)
            merged[key] = self.value(hint, item, current, (*path, key), meta)
        return types.MappingProxyType(merged)

    def mismatch(self, path: KeyPath, expected: str, value: Any, default: _T) -> _T:
        self.fail(path, f"{expected}, got {_got(value)}")
        return default

    def fallback_loops(self, groups: GroupsPolicy) -> None:
        """Report chains of ``fallback:`` that never end, like billing → support → billing."""
        policy = Policy(groups=groups)
        reported: set[str] = set()
        for start in sorted(self.group_ids | set(groups.per_group)):
            chain = [start]
            while (target := _fallback(policy, chain[-1])) and target not in chain:
                chain.append(target)
            loop = chain[chain.index(target) :] if target else []
            if not loop or reported & set(loop):
                continue
            reported.update(loop)
            own = groups.per_group.get(loop[0])
            where = (
                ("groups", loop[0], "when_empty")
                if own and own.when_empty
                else ("groups", "when_empty")
            )
            path = " → ".join([*loop, target])
            self.fail(where, f"fallback loop {path}; end the chain with wait, voicemail or refuse")


def _fallback(policy: Policy, group_id: str) -> str:
    rule = policy.when_empty(group_id)
    return rule.removeprefix(FALLBACK) if rule.startswith(FALLBACK) else ""


def _is_section(hint: Any) -> bool:
    return isinstance(hint, type) and is_dataclass(hint)


def _suggest(word: str, known: Collection[str]) -> str:
    close = difflib.get_close_matches(word, list(known), n=1)
    if close:
        return f"; did you mean {close[0]!r}?"
    return f"; expected one of: {', '.join(known)}"


def _got(value: object) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, bool):
        return "true" if value else "false"
    return repr(value)


@dataclass(frozen=True)
class OptionDoc:
    """One documented option: its dotted key, type, default (as YAML), meaning and SPEC id."""

    key: str
    type: str
    default: str
    doc: str
    spec: str


def options() -> list[OptionDoc]:
    """List every leaf option of the policy, in file order, for docs and checks."""
    return list(_options(Policy.defaults(), ""))


def _options(default: Any, prefix: str) -> Iterator[OptionDoc]:
    hints = get_type_hints(type(default), include_extras=True)
    for f in fields(default):
        hint, value, meta = hints[f.name], getattr(default, f.name), f.metadata
        if _is_section(hint):
            yield from _options(value, f"{prefix}{f.name}.")
        elif meta["each"]:
            yield from _options(get_args(hint)[1](), f"{prefix}{meta['each']}.")
        else:
            kind = _type_name(hint, meta["minimum"])
            rendered = _render(hint, value)
            yield OptionDoc(f"{prefix}{f.name}", kind, rendered, meta["doc"], meta["spec"])


def _type_name(hint: Any, minimum: int = 0) -> str:
    origin, args = get_origin(hint), get_args(hint)
    names = {bool: "boolean (true/false)", str: "non-empty string"}
    if origin is Annotated:
        tags = {"duration": "duration", "wait": "duration or forever"}
        return tags.get(args[1], f"{', '.join(WHEN_EMPTY)} or {FALLBACK}GROUP")
    if origin in (Union, types.UnionType):
        return _type_name(next(arg for arg in args if arg is not type(None)), minimum)
    if origin is Literal:
        return f"one of: {', '.join(args)}"
    if origin is tuple:
        return "list of strings" if args[0] is str else f"list of: {', '.join(get_args(args[0]))}"
    if origin is Mapping:
        return f"{_type_name(args[1], minimum)} for each of {', '.join(get_args(args[0]))}"
    if hint is int:
        return f"whole number of {minimum} or more"
    return names.get(hint, getattr(hint, "__name__", str(hint)))


def _render(hint: Any, value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, float) and math.isinf(value):
        return "forever"
    if get_origin(hint) is Annotated and get_args(hint)[1] == "duration":
        return format_duration(value)
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{k}: {_render(None, v)}" for k, v in value.items()) + "}"
    if isinstance(value, tuple):
        return "[" + ", ".join(_render(None, v) for v in value) + "]"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str) and yaml.safe_load(value) != value:
        return repr(value)
    return str(value)


def render_readme_table() -> str:
    """Render the markdown table of every option, as ``rules/README.md`` carries it."""
    rows = ["| option | type | default | meaning |", "|---|---|---|---|"]
    for opt in options():
        meaning = f"{opt.doc} ({opt.spec})" if opt.spec else opt.doc
        cells = [f"`{opt.key}`", opt.type, f"`{opt.default}`", meaning]
        rows.append("| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |")
    return "\n".join(rows) + "\n"
