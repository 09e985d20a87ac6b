"""RUL-2: `rules/policy.yaml` is validated on load and documented in `rules/README.md`."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.rules.duration import format_duration, parse_duration
from bot.rules.errors import RulesInvalid
from bot.rules.policy import GroupPolicy, Policy, load_policy, options, render_readme_table
from bot.rules.source import load_source

ROOT = Path(__file__).resolve().parents[2]
RULES = ROOT / "rules"
DEMO_GROUPS = {"support", "billing", "vip"}  # the groups of rules/directory.yaml


def load_text(tmp_path: Path, text: str, groups: set[str] = DEMO_GROUPS) -> Policy:
    path = tmp_path / "policy.yaml"
    path.write_text(text, encoding="utf-8")
    return load_policy(path, group_ids=groups, display="rules/policy.yaml")


def errors_of(tmp_path: Path, text: str, groups: set[str] = DEMO_GROUPS) -> list[str]:
    with pytest.raises(RulesInvalid) as caught:
        load_text(tmp_path, text, groups)
    return [str(error) for error in caught.value.errors]


# --- the shipped policy -------------------------------------------------------------------


def test_shipped_policy_is_the_defaults_plus_two_group_rules_rul_2() -> None:
    """RUL-2: the shipped file loads; it differs from the defaults only in its examples."""
    policy = load_policy(RULES / "policy.yaml", group_ids=DEMO_GROUPS)
    defaults = Policy.defaults()
    per_group = {
        "support": GroupPolicy(when_empty="voicemail"),
        "billing": GroupPolicy(when_empty="fallback:support"),
    }
    assert policy == replace(defaults, groups=replace(defaults.groups, per_group=per_group))
    assert policy.when_empty("billing") == "fallback:support"
    assert policy.when_empty("support") == "voicemail"
    assert policy.when_empty("vip") == "wait"  # GRP-5: the default for every other group


def test_shipped_policy_writes_out_every_option_rul_2() -> None:
    """RUL-2: every option appears in the shipped file, so it doubles as a reference."""
    source = load_source(RULES / "policy.yaml")
    missing = [
        opt.key
        for opt in options()
        if "GROUP" not in opt.key and tuple(opt.key.split(".")) not in source.lines
    ]
    assert missing == []


def test_empty_file_and_missing_sections_mean_defaults_rul_2(tmp_path: Path) -> None:
    assert load_text(tmp_path, "") == Policy.defaults()
    assert load_text(tmp_path, "# nothing set\n") == Policy.defaults()
    assert load_text(tmp_path, "groups:\nrouting: {}\n") == Policy.defaults()


def test_options_override_only_what_they_name_rul_2(tmp_path: Path) -> None:
    policy = load_text(
        tmp_path,
        "routing:\n  wait_for_agent: 1m30s\n  capacity: {chat: 4}\n"
        "conference:\n  end_when_last_member_leaves_external: {chat: true}\n"
        "presence:\n  not_ready_reasons: []\n",
    )
    assert policy.routing.wait_for_agent == 90.0
    capacity = {"voice": 1, "chat": 4, "email": 5, "workitem": 5, "im": 10}
    assert dict(policy.routing.capacity) == capacity
    assert policy.conference.end_when_last_member_leaves_external["voice"] is True
    assert policy.conference.end_when_last_member_leaves_external["chat"] is True
    assert policy.presence.not_ready_reasons == ()
    assert policy.routing.accept_timeout == Policy.defaults().routing.accept_timeout


def test_group_rule_set_to_null_uses_the_default_grp_5(tmp_path: Path) -> None:
    policy = load_text(tmp_path, "groups:\n  when_empty: refuse\n  vip:\n    when_empty:\n")
    assert policy.when_empty("vip") == "refuse"


def test_group_sections_are_free_when_no_directory_is_given_grp_5(tmp_path: Path) -> None:
    policy = load_text(tmp_path, "groups:\n  sales: {when_empty: fallback:anyone}\n", set())
    assert policy.when_empty("sales") == "fallback:anyone"


# --- bad files: each error names the file, the line and the key ---------------------------

BAD = {
    "wrong type": (
        "groups:\n  searchable: true\n  show_available_count: yes please\n",
        "rules/policy.yaml:3: groups.show_available_count: "
        "expected a boolean (true/false), got 'yes please'",
    ),
    "yes is not a boolean": (
        "im:\n  auto_accept: 'yes'\n",
        "rules/policy.yaml:2: im.auto_accept: expected a boolean (true/false), got 'yes'",
    ),
    "1 is not a boolean": (
        "im:\n  auto_accept: 1\n",
        "rules/policy.yaml:2: im.auto_accept: expected a boolean (true/false), got 1",
    ),
    "a boolean is not a number": (
        "search:\n  page_size: true\n",
        "rules/policy.yaml:2: search.page_size: expected a whole number of 1 or more, got true",
    ),
    "unknown key": (
        "routing:\n  wiat_for_agent: 10s\n",
        "rules/policy.yaml:2: routing.wiat_for_agent: unknown option; "
        "did you mean 'wait_for_agent'?",
    ),
    "unknown section": (
        "\nsupervison:\n  notify_agent: true\n",
        "rules/policy.yaml:2: supervison: unknown section; did you mean 'supervision'?",
    ),
    "unknown kind": (
        "routing:\n  capacity:\n    vioce: 2\n",
        "rules/policy.yaml:3: routing.capacity.vioce: unknown key; did you mean 'voice'?",
    ),
    "bad duration": (
        "consult:\n  accept_timeout: half a minute\n",
        "rules/policy.yaml:2: consult.accept_timeout: "
        "expected a duration such as 30s, 2m, 1h30m or 500ms, got 'half a minute'",
    ),
    "negative duration": (
        "hold:\n  escalate_after: -5s\n",
        "rules/policy.yaml:2: hold.escalate_after: expected a duration of 0 or more, got '-5s'",
    ),
    "value outside choices": (
        "groups:\n  when_empty: hang up\n",
        "rules/policy.yaml:2: groups.when_empty: "
        "expected one of: wait, voicemail, refuse, fallback:GROUP, got 'hang up'",
    ),
    "literal outside choices": (
        "routing:\n  choose: random\n",
        "rules/policy.yaml:2: routing.choose: "
        "expected one of: longest_idle, fewest_interactions, got 'random'",
    ),
    "list item outside choices": (
        "conference:\n  remove_party_roles:\n    - supervisor\n    - janitor\n",
        "rules/policy.yaml:4: conference.remove_party_roles[1]: "
        "expected one of: agent, supervisor, admin, got 'janitor'",
    ),
    "unknown group section": (
        "groups:\n  suport:\n    when_empty: voicemail\n",
        "rules/policy.yaml:2: groups.suport: unknown option or group; did you mean 'support'?",
    ),
    "fallback to unknown group": (
        "groups:\n  vip:\n    when_empty: fallback:biling\n",
        "rules/policy.yaml:3: groups.vip.when_empty: "
        "fallback to unknown group 'biling'; did you mean 'billing'?",
    ),
    "fallback loop": (
        "groups:\n"
        "  support: {when_empty: fallback:billing}\n"
        "  billing: {when_empty: fallback:support}\n",
        "rules/policy.yaml:3: groups.billing.when_empty: "
        "fallback loop billing → support → billing; end the chain with wait, voicemail or refuse",
    ),
    "negative int": (
        "supervision:\n  max_voice: -1\n",
        "rules/policy.yaml:2: supervision.max_voice: expected a whole number of 0 or more, got -1",
    ),
    "zero capacity": (
        "routing:\n  capacity: {chat: 0}\n",
        "rules/policy.yaml:2: routing.capacity.chat: expected a whole number of 1 or more, got 0",
    ),
    "list expected": (
        "presence:\n  not_ready_reasons: lunch\n",
        "rules/policy.yaml:2: presence.not_ready_reasons: expected a list, got 'lunch'",
    ),
    "section not a mapping": (
        "routing: fast\n",
        "rules/policy.yaml:1: routing: expected a mapping of options "
        "(wait_for_agent, wait_for_agent_per_kind, accept_timeout, choose, on_missed_offer,"
        " capacity, offline_grace),"
        " got 'fast'",
    ),
    "top level not a mapping": (
        "- groups\n- routing\n",
        "rules/policy.yaml:1: expected a mapping of sections, got a list",
    ),
}


@pytest.mark.parametrize("text, expected", BAD.values(), ids=BAD.keys())
def test_bad_policy_is_rejected_with_file_line_and_key_rul_2(
    tmp_path: Path, text: str, expected: str
) -> None:
    """RUL-2: a bad option is named by file, line and dotted key, with what was expected."""
    assert errors_of(tmp_path, text) == [expected]


def test_every_error_is_reported_at_once_rul_2(tmp_path: Path) -> None:
    """RUL-2: one run lists every problem, not just the first."""
    text = (
        "groups:\n"
        "  searchable: 'no'\n"
        "  vip:\n"
        "    when_empty: fallback:nobody\n"
        "routing:\n"
        "  wait_for_agent: forever\n"
        "messages:\n"
        "  keep_dayz: 3\n"
    )
    errors = errors_of(tmp_path, text)
    assert [error.split(" ")[1] for error in errors] == [
        "groups.searchable:",
        "groups.vip.when_empty:",
        "routing.wait_for_agent:",
        "messages.keep_dayz:",
    ]
    assert [error.split(":")[1] for error in errors] == ["2", "4", "6", "8"]


def test_yaml_syntax_error_names_the_line_rul_2(tmp_path: Path) -> None:
    errors = errors_of(tmp_path, "groups:\n  searchable: [true\n")
    assert len(errors) == 1
    assert errors[0].startswith("rules/policy.yaml:")
    assert "invalid YAML" in errors[0]


# --- durations ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value, seconds",
    [
        (30, 30.0),
        (2.5, 2.5),
        ("30s", 30.0),
        ("2m", 120.0),
        ("1h", 3600.0),
        ("1h30m", 5400.0),
        ("500ms", 0.5),
        ("45", 45.0),
        ("1.5s", 1.5),
        ("0s", 0.0),
    ],
)
def test_parse_duration_examples_rul_2(value: object, seconds: float) -> None:
    assert parse_duration(value) == seconds


@pytest.mark.parametrize(
    "value", ["", "soon", "30 sec", "30m1h", "1h1h", "-5s", -1, True, None, [30], float("inf")]
)
def test_parse_duration_rejects_rul_2(value: object) -> None:
    with pytest.raises(ValueError, match="expected"):
        parse_duration(value)


@pytest.mark.parametrize(
    "seconds, text",
    [(30, "30s"), (120, "2m"), (5400, "1h30m"), (0.5, "500ms"), (0, "0s"), (90.25, "1m30.25s")],
)
def test_format_duration_examples_rul_2(seconds: float, text: str) -> None:
    assert format_duration(seconds) == text


@given(st.floats(min_value=0, allow_nan=False, allow_infinity=False))
def test_duration_round_trips_from_seconds_rul_2(seconds: float) -> None:
    assert parse_duration(format_duration(seconds)) == seconds


@given(
    st.integers(0, 400),
    st.integers(0, 23),
    st.integers(0, 59),
    st.integers(0, 59),
)
def test_duration_round_trips_from_text_rul_2(d: int, h: int, m: int, s: int) -> None:
    text = "".join(f"{n}{unit}" for n, unit in ((d, "d"), (h, "h"), (m, "m"), (s, "s")) if n)
    text = text or "0s"
    assert format_duration(parse_duration(text)) == text


# --- docs: rules/README.md and the schema agree (datasette's test_docs style) -------------

README = RULES / "README.md"


def readme_table() -> str:
    text = README.read_text(encoding="utf-8")
    start = text.index("<!-- options:start -->\n") + len("<!-- options:start -->\n")
    return text[start : text.index("<!-- options:end -->")]


@pytest.mark.parametrize("option", [opt.key for opt in options()])
def test_every_option_is_documented_rul_2(option: str) -> None:
    assert f"`{option}`" in readme_table()


def test_every_documented_option_exists_rul_2() -> None:
    documented = re.findall(r"^\| `([^`]+)` \|", readme_table(), flags=re.MULTILINE)
    assert documented
    assert sorted(documented) == sorted(opt.key for opt in options())


def test_readme_table_is_generated_from_the_schema_rul_2() -> None:
    """RUL-2: regenerate with `render_readme_table()` when an option changes."""
    assert readme_table() == render_readme_table()


def test_every_option_has_a_meaning_and_a_spec_id_rul_2() -> None:
    for opt in options():
        assert opt.doc.endswith("."), opt.key
        assert re.fullmatch(r"[A-Z]+-\d+", opt.spec), opt.key
