"""RUL-1: `backline rules graph` draws each machine from its rule file."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BACKLINE = Path(sys.executable).parent / "backline"


def test_rules_graph_prints_a_mermaid_diagram_per_machine_rul_1() -> None:
    result = subprocess.run(
        [BACKLINE, "rules", "graph"], cwd=REPO, capture_output=True, text=True, check=True
    )
    assert result.stdout.count("stateDiagram-v2") == 7
    for title in ("voice", "chat", "email", "workitem", "im", "consultation", "voicemail"):
        assert f"\n{title}\n" in result.stdout
    assert "held --> active: resume" in result.stdout
    assert "ended --> closed: done [all_done]" in result.stdout


def test_rules_graph_of_one_kind_and_of_an_unknown_kind_rul_1() -> None:
    one = subprocess.run(
        [BACKLINE, "rules", "graph", "im"], cwd=REPO, capture_output=True, text=True, check=True
    )
    assert one.stdout.count("stateDiagram-v2") == 1
    assert "offered --> active: accept" in one.stdout
    bad = subprocess.run(
        [BACKLINE, "rules", "graph", "fax"], cwd=REPO, capture_output=True, text=True, check=False
    )
    assert bad.returncode == 2
    assert "no machine 'fax'" in bad.stderr
