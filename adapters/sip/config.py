"""SIP settings (``[sip]`` in backline.toml, ``BACKLINE_SIP_*``), validated before use.

``passwords`` holds each phone's credentials as ``handle:password`` pairs separated by
commas (the handle is the member's ``sip`` handle in the directory); it is a secret and
never logged. ``trunks`` lists the addresses calls may arrive from without credentials.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from pathlib import Path

from bot.port import port, secret

EXAMPLE_PASSWORDS = ("1001:secret", "1001:changeme", "alice:password")


@dataclass(frozen=True)
class SipConfig:
    """The SIP adapter's settings."""

    enabled: bool = False
    host: str = "127.0.0.1"  # where SIP and RTP listen (and what SDP announces)
    port: int = port(5060)  # UDP and TCP
    realm: str = "backline"
    passwords: str = secret("", *EXAMPLE_PASSWORDS)
    trunks: str = "127.0.0.1"  # comma-separated addresses allowed to call in unauthenticated
    rtp_low: int = 20000
    rtp_high: int = 29999
    numbering: str = ""  # the numbering plan file; empty: rules/numbering.yaml as shipped
    hold_music: str = ""  # an 8 kHz mono WAV; empty: a soft tone pattern
    greeting: str = ""  # the voicemail greeting WAV; empty: a short tone
    voicemail_dir: str = "voicemail"  # where recorded messages are kept (WAV files)
    rate: int = 500  # messages a second per source before it is dropped (floods)
    media_realtime: bool = True  # the 20 ms media clock at real-time priority where allowed

    def credentials(self) -> dict[str, str]:
        """``{handle: password}``."""
        pairs = [p.strip() for p in self.passwords.split(",") if p.strip()]
        return dict(p.split(":", 1) for p in pairs if ":" in p)

    def trunk_hosts(self) -> frozenset[str]:
        """The trunk addresses."""
        return frozenset(t.strip() for t in self.trunks.split(",") if t.strip())

    def problems(self) -> list[str]:
        """What is wrong across fields, as sentences naming the setting."""
        found: list[str] = []
        pairs = [p.strip() for p in self.passwords.split(",") if p.strip()]
        if any(":" not in p or not p.split(":", 1)[1] for p in pairs):
            found.append("sip.passwords: expected handle:password pairs separated by commas")
        for host in self.trunk_hosts():
            try:
                ipaddress.ip_address(host)
            except ValueError:
                found.append(f"sip.trunks: {host!r} is not an IP address")
        if not 1024 <= self.rtp_low < self.rtp_high <= 65535:
            found.append("sip.rtp_low/rtp_high: expected 1024 <= rtp_low < rtp_high <= 65535")
        for name in ("numbering", "hold_music", "greeting"):
            value = getattr(self, name)
            if value and not Path(value).is_file():
                found.append(f"sip.{name}: {value!r} is not a file")
        if self.rate < 10:
            found.append("sip.rate: expected at least 10 messages a second")
        return found
