"""The registrar (RFC 3261 §10) with digest authentication (RFC 2617 / RFC 7616, MD5).

Phones register as their member's SIP handle with that member's password; a request
without valid credentials gets a ``401`` challenge with a fresh nonce. Passwords and
digests are never logged. Bindings live in memory: a phone re-registers within its
expiry, and after a restart it registers again before it can ring.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import time
from dataclasses import dataclass

from adapters.sip.message import Message, address, params, response, uri_host, uri_user
from adapters.sip.transport import Source

_AUTH_PARAM = re.compile(r'([A-Za-z-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^,\s]+))')
MIN_EXPIRES = 30
MAX_EXPIRES = 3600
NONCE_LIFETIME = 300.0


@dataclass(frozen=True)
class Binding:
    """Where a registered phone can be reached."""

    user: str  # the member's SIP handle
    contact: str  # the Contact URI
    source: Source  # where the REGISTER came from (NAT-safe target)
    expires: float  # monotonic deadline


def _md5(text: str) -> str:
    return hashlib.md5(text.encode("utf-8"), usedforsecurity=False).hexdigest()


def authorization(value: str) -> dict[str, str]:
    """The parameters of a ``Digest`` Authorization header ({} when it is not Digest)."""
    scheme, _, rest = value.strip().partition(" ")
    if scheme.lower() != "digest":
        return {}
    return {m.group(1).lower(): m.group(2) or m.group(3) or "" for m in _AUTH_PARAM.finditer(rest)}


class Digest:
    """Challenges and checks digest credentials against per-member passwords."""

    def __init__(self, realm: str, passwords: dict[str, str]) -> None:
        self.realm = realm
        self._passwords = dict(passwords)
        self._key = secrets.token_bytes(16)

    def nonce(self, now: float | None = None) -> str:
        """A nonce that proves its own age (HMAC over its timestamp)."""
        stamp = f"{time.monotonic() if now is None else now:.3f}"
        mac = hmac.new(self._key, stamp.encode(), "sha256").hexdigest()[:16]
        return f"{stamp}.{mac}"

    def _fresh(self, nonce: str) -> bool:
        stamp, _, mac = nonce.rpartition(".")
        good = hmac.new(self._key, stamp.encode(), "sha256").hexdigest()[:16]
        try:
            age = time.monotonic() - float(stamp)
        except ValueError:
            return False
        return hmac.compare_digest(mac, good) and -1.0 < age < NONCE_LIFETIME  # stamp is rounded

    def challenge(self, request: Message) -> Message:
        """A ``401`` with a ``WWW-Authenticate`` challenge."""
        out = response(request, 401)
        out.add(
            "WWW-Authenticate",
            f'Digest realm="{self.realm}", nonce="{self.nonce()}", algorithm=MD5, qop="auth"',
        )
        return out

    def user(self, request: Message) -> str | None:
        """The authenticated user of ``request``, or None (wrong, stale or absent)."""
        creds = authorization(request.get("Authorization"))
        user = creds.get("username", "")
        password = self._passwords.get(user)
        if password is None or creds.get("realm") != self.realm:
            return None
        nonce = creds.get("nonce", "")
        if not self._fresh(nonce):
            return None
        ha1 = _md5(f"{user}:{self.realm}:{password}")
        ha2 = _md5(f"{request.method}:{creds.get('uri', '')}")
        if creds.get("qop"):
            nc, cnonce, qop = creds.get("nc", ""), creds.get("cnonce", ""), creds["qop"]
            expected = _md5(f"{ha1}:{nonce}:{nc}:{cnonce}:{qop}:{ha2}")
        else:
            expected = _md5(f"{ha1}:{nonce}:{ha2}")
        return user if hmac.compare_digest(expected, creds.get("response", "")) else None


class Registrar:
    """Bindings of members' phones."""

    def __init__(self, digest: Digest) -> None:
        self.digest = digest
        self._bindings: dict[str, Binding] = {}
        self._at: dict[tuple[str, int | None], str] | None = None  # by address; None: stale

    def register(self, request: Message, source: Source) -> tuple[Message, str | None]:
        """Answer a REGISTER; returns the response and the user whose binding changed."""
        user = self.digest.user(request)
        if user is None:
            return self.digest.challenge(request), None
        if uri_user(address(request.get("To"))[1]) != user:
            return response(request, 403, "To does not match the credentials"), None
        contacts = request.all("Contact")
        header = request.get("Expires")
        default = int(header) if header.isdigit() else MAX_EXPIRES
        if contacts == ["*"]:
            self._forget(user)
            return self._ok(request, None), user
        for contact in contacts:
            wanted = params(contact).get("expires", str(default))
            seconds = min(int(wanted), MAX_EXPIRES) if wanted.isdigit() else default
            if seconds == 0:
                self._forget(user)
                continue
            if seconds < MIN_EXPIRES:
                brief = response(request, 423)
                brief.add("Min-Expires", str(MIN_EXPIRES))
                return brief, None
            uri = address(contact)[1]
            if uri_host(uri)[0] == "":
                return response(request, 400, "malformed Contact"), None
            deadline = time.monotonic() + seconds
            self._bindings[user] = Binding(user, uri, source, deadline)
            self._at = None
        return self._ok(request, self._bindings.get(user)), user

    def _ok(self, request: Message, binding: Binding | None) -> Message:
        out = response(request, 200)
        if binding is not None:
            left = max(0, int(binding.expires - time.monotonic()))
            out.add("Contact", f"<{binding.contact}>;expires={left}")
        return out

    def binding(self, user: str) -> Binding | None:
        """The phone of ``user`` if registered and not expired."""
        found = self._bindings.get(user)
        if found is not None and found.expires < time.monotonic():
            self._forget(user)
            return None
        return found

    def phone_at(self, source: Source) -> str | None:
        """The user whose registered phone sends from ``source`` (its Contact or REGISTER).

        Asked for every INVITE from a trunk address: a look-up, not a pass over the phones.
        """
        user = self._by_address().get(source.hostport)
        return user if user is not None and self.binding(user) is not None else None

    def _by_address(self) -> dict[tuple[str, int | None], str]:
        """Each binding's Contact and REGISTER source → its user (the first bound wins)."""
        if self._at is None:
            self._at = {}
            for user, found in self._bindings.items():
                self._at.setdefault(uri_host(found.contact), user)
                self._at.setdefault(found.source.hostport, user)
        return self._at

    def _forget(self, user: str) -> None:
        if self._bindings.pop(user, None) is not None:
            self._at = None

    def registered(self) -> list[str]:
        """Users with a live binding."""
        return [u for u in list(self._bindings) if self.binding(u) is not None]
