"""RUL-4: `rules check` reports every error of every file in one run."""

from __future__ import annotations

from pathlib import Path

from bot.rules.check import check_rules
from tests.support.console import copy_rules


def test_an_unknown_fallback_group_is_reported_beside_directory_errors_rul_4(
    tmp_path: Path,
) -> None:
    """RUL-4: a broken directory.yaml no longer hides `fallback:nowhere` in policy.yaml."""
    rules = copy_rules(tmp_path)
    policy = rules / "policy.yaml"
    policy.write_text(
        policy.read_text(encoding="utf-8").replace(
            "when_empty: fallback:support", "when_empty: fallback:nowhere"
        ),
        encoding="utf-8",
    )
    directory = rules / "directory.yaml"
    text = directory.read_text(encoding="utf-8")
    directory.write_text(text.replace("roles: [agent]", "roles: [wizard]", 1), encoding="utf-8")

    errors = [str(error) for error in check_rules(rules)]
    assert any("unknown role 'wizard'" in e for e in errors), errors
    assert any(
        "groups.billing.when_empty: fallback to unknown group 'nowhere'" in e for e in errors
    ), errors
    assert len(errors) == 2
