"""XMPP gateway benchmark: round trip member → backline → member vs member → member directly.

Run as ``python bench/xmpp.py [--rounds N]``. It starts its own Prosody on loopback (as the
live tests do), connects backline as the component ``backline.localhost`` and two members,
alice and bob. In the same run it times N ping-pong round trips

- directly: alice → bob, bob echoes → alice (the baseline, through the same Prosody);
- through backline: alice writes in IM ``i1``'s contact, backline relays it to bob (a
  committed ``say`` command), bob answers in ``i1``, backline relays the answer to alice;

and prints both medians and the ratio (target ≤ 3). The relayed round trip holds two
backline commands, each committed to SQLite before it is relayed. The store's default,
``synchronous=NORMAL`` in WAL mode, makes each commit survive a crash of backline; the bench
also measures ``synchronous=FULL`` (an fsync per commit, surviving power cuts too) to show
what that costs. The exit code is 1 when the target is missed for the default store or a
round trip times out.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from adapters.xmpp import XmppAdapter, XmppConfig  # noqa: E402
from bot.clock import SystemClock  # noqa: E402
from bot.core import Core  # noqa: E402
from bot.port import Port  # noqa: E402
from bot.rules.check import load_rules  # noqa: E402
from bot.storage import Store  # noqa: E402
from tests.support.prosody import COMPONENT, Client, Prosody  # noqa: E402

TARGET = 3.0
TIMES = "\u00d7"
TIMEOUT = 5.0


class Echo:
    """Bob answers ``ping N`` with ``pong N`` to whoever sent it (a JID or the i1 contact)."""

    def __init__(self, client: Client) -> None:
        client.xmpp.add_event_handler("message", self.on_message)
        self.client = client

    def on_message(self, msg: object) -> None:
        body: str = msg["body"]  # type: ignore[index]
        if "ping " in body:
            reply_to = msg["from"].bare  # type: ignore[index]
            self.client.say(reply_to, "pong " + body.rsplit("ping ", 1)[1])


async def round_trips(alice: Client, to: str, rounds: int) -> list[float]:
    """Seconds per round trip: alice sends ``ping N`` to ``to`` and waits for ``pong N``."""
    times: list[float] = []
    for n in range(rounds):
        mark = alice.mark()
        start = time.perf_counter()
        alice.say(to, f"ping {n}")
        await alice.wait_for(
            lambda r, n=n: r.kind == "message" and r.body.endswith(f"pong {n}"),
            TIMEOUT,
            after=mark,
        )
        times.append(time.perf_counter() - start)
    return times


async def relay_and_direct(
    server: Prosody, database: Path, synchronous: str, rounds: int
) -> tuple[list[float], list[float]]:
    """Round trips direct and through a backline whose store commits with ``synchronous``."""
    core = Core(Store(database, synchronous=synchronous), SystemClock(), load_rules(ROOT / "rules"))  # type: ignore[arg-type]
    config = XmppConfig(
        enabled=True, jid=COMPONENT, secret=server.secret, port=server.component_port
    )
    port = Port(core, "xmpp")
    adapter = XmppAdapter(port, config)
    core.delivery.attach(adapter)
    clients: list[Client] = []
    try:
        await adapter.start()
        alice = await Client.online("alice@localhost", server.c2s_port)
        bob = await Client.online("bob@localhost", server.c2s_port)
        clients = [alice, bob]
        deadline = time.monotonic() + TIMEOUT
        while port.member_by_id("bob").presence != "ready":
            if time.monotonic() > deadline:
                raise TimeoutError("bob's XMPP presence did not make him ready")
            await asyncio.sleep(0.01)
        alice.say(COMPONENT, "im @bob benchmark")
        await bob.wait_body(f"i1@{COMPONENT}", "wants to IM", TIMEOUT)
        bob.say(f"i1@{COMPONENT}", "accept")
        await alice.wait_body(f"i1@{COMPONENT}", "accepted", TIMEOUT)
        Echo(bob)
        warm = max(5, rounds // 10)
        await round_trips(alice, "bob@localhost", warm)
        await round_trips(alice, f"i1@{COMPONENT}", warm)
        direct: list[float] = []
        relayed: list[float] = []
        for _ in range(2):  # interleave, so drift hits both alike
            direct += await round_trips(alice, "bob@localhost", rounds // 2)
            relayed += await round_trips(alice, f"i1@{COMPONENT}", rounds // 2)
        return direct, relayed
    finally:
        for client in clients:
            await client.close()
        await adapter.stop()
        core.delivery.detach(adapter)
        core.store.close()


async def run(rounds: int, folder: Path) -> dict[str, float]:
    """Median seconds: direct, relayed (default store, NORMAL) and relayed (FULL)."""
    server = Prosody(folder / "prosody")
    server.write_config()
    for name in ("alice", "bob"):
        server.register(name)
    server.start()
    try:
        direct, full = await relay_and_direct(server, folder / "full.db", "FULL", rounds)
        direct2, normal = await relay_and_direct(server, folder / "normal.db", "NORMAL", rounds)
    finally:
        server.stop()
    return {
        "direct": statistics.median(direct + direct2),
        "full": statistics.median(full),
        "normal": statistics.median(normal),
    }


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rounds", type=int, default=400, help="round trips of each kind")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-xmpp-") as tmp:
        medians = asyncio.run(run(max(2, args.rounds), Path(tmp)))
    direct = medians["direct"]
    ratio = medians["normal"] / direct
    print(f"rounds: {args.rounds} of each kind, same Prosody, same run")
    print(f"direct   member -> member             median {direct * 1000:.3f} ms")
    print(
        f"relayed  member -> backline -> member median {medians['normal'] * 1000:.3f} ms"
        " (store synchronous=NORMAL, the default)"
    )
    print(
        f"relayed  member -> backline -> member median {medians['full'] * 1000:.3f} ms"
        f" (store synchronous=FULL): {medians['full'] / direct:.2f}{TIMES}"
    )
    verdict = "OK" if ratio <= TARGET else "MISSED"
    print(f"ratio: {ratio:.2f}{TIMES} (target <= {TARGET:g}) {verdict}")
    return 0 if ratio <= TARGET else 1


if __name__ == "__main__":
    sys.exit(main())
