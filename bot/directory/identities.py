"""Platform identities: which member a Slack id, JID or mxid belongs to, and back."""

from __future__ import annotations

from bot.directory.model import DirectoryData
from bot.errors import CommandError


class Identities:
    """Identities from the directory file plus those an admin linked at runtime (DIR-6)."""

    def __init__(self) -> None:
        self._owner: dict[tuple[str, str], str] = {}
        self._handles: dict[str, dict[str, str]] = {}

    def load(self, data: DirectoryData, links: list[tuple[str, str, str]]) -> None:
        """Rebuild from the directory's handles, then the stored links of members who stay."""
        self._handles = {m.id: dict(m.handles) for m in data.members.values() if m.handles}
        self._owner = {(p, h): mid for mid, hs in self._handles.items() for p, h in hs.items()}
        for platform, handle, member_id in links:
            if member_id in data.members and (platform, handle) not in self._owner:
                self._add(platform, handle, member_id)

    def _add(self, platform: str, handle: str, member_id: str) -> None:
        self._owner[(platform, handle)] = member_id
        self._handles.setdefault(member_id, {})[platform] = handle

    def owner(self, platform: str, handle: str) -> str | None:
        """The member id behind an identity."""
        return self._owner.get((platform, handle))

    def link(self, member_id: str, platform: str, handle: str) -> None:
        """Add an identity; refused if it belongs to someone else."""
        owner = self._owner.get((platform, handle))
        if owner is not None and owner != member_id:
            raise CommandError(f"{platform} identity '{handle}' already belongs to @{owner}.")
        old = self._handles.get(member_id, {}).get(platform)
        if old is not None:
            del self._owner[(platform, old)]
        self._add(platform, handle, member_id)

    def handles(self, member_id: str) -> dict[str, str]:
        """The member's handle on each platform."""
        return dict(self._handles.get(member_id, {}))

    def handle_values(self, member_id: str) -> tuple[str, ...]:
        """The member's handles, platform by platform as ``handles`` lists them."""
        known = self._handles.get(member_id)
        return tuple(known.values()) if known else ()

    def platforms(self, member_id: str) -> tuple[str, ...]:
        """Platforms the member is reachable on besides the console, sorted."""
        return tuple(sorted(self._handles.get(member_id, {})))

    def rows(self) -> list[tuple[str, str, str]]:
        """Every identity as ``(platform, handle, member_id)``."""
        return [(p, h, m) for (p, h), m in self._owner.items()]
