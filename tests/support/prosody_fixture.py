"""The session Prosody as a pytest plugin, so live tests and adapter contract drivers share it.

Registered from ``tests/conftest.py``. Skipped only when ``prosody`` is missing *and* ``CI``
is unset; in CI a missing server fails. A failing test that used it gets the log's tail.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.prosody import Prosody, env_in_ci, prosody_missing

MEMBERS = ("alice", "bob", "chen", "sam")
_running: list[Prosody] = []  # the session server, for reports of tests that asked for it late


@pytest.fixture(scope="session")
def prosody(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Prosody]:
    """A Prosody on free loopback ports, with the demo members registered (ADP-4)."""
    if prosody_missing():
        if env_in_ci():
            pytest.fail("prosody is not installed, and CI must run the live XMPP tests")
        pytest.skip("prosody is not installed (apt-get install prosody)")
    server = Prosody(tmp_path_factory.mktemp("prosody"))
    server.write_config()
    for name in MEMBERS:
        server.register(name)
    server.start()
    _running.append(server)
    yield server
    _running.remove(server)
    server.stop()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Iterator[pytest.TestReport]:
    """Attach the tail of the Prosody log to a failing test's report."""
    report: pytest.TestReport = yield
    asked = "prosody" in getattr(item, "funcargs", {}) or "xmpp" in item.nodeid
    server = _running[0] if _running and asked else None
    if report.failed and server is not None and server.log.exists():
        tail = server.log.read_text(encoding="utf-8", errors="replace").splitlines()[-80:]
        report.sections.append(("prosody log (tail)", "\n".join(tail)))
    return report
