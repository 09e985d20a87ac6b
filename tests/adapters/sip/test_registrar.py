"""Which registered phone an INVITE comes from, found by address (ADP-5).

Every INVITE from a trunk address asks the registrar whether a member's phone sends from
there (a phone is challenged, a trunk peer is not). With hundreds of phones registered
that question must not walk every binding: the bindings are looked up by their Contact
and REGISTER addresses. Phones register here with real RFC 2617 digests, answering the
registrar's own challenge.
"""

from __future__ import annotations

import hashlib

import pytest

from adapters.sip import registrar as registrar_module
from adapters.sip.message import Message, parse
from adapters.sip.registrar import Digest, Registrar, authorization
from adapters.sip.transport import Source

REALM = "backline"
PHONES = 300


def _md5(text: str) -> str:
    return hashlib.md5(text.encode(), usedforsecurity=False).hexdigest()


def register_request(user: str, port: int, *, expires: int = 600, auth: str = "") -> Message:
    """A phone's REGISTER from 10.0.0.1:``port`` with its Contact there."""
    lines = [
        f"REGISTER sip:{REALM} SIP/2.0",
        f"Via: SIP/2.0/UDP 10.0.0.1:{port};branch=z9hG4bK{user}{expires}",
        f"From: <sip:{user}@{REALM}>;tag=t{user}",
        f"To: <sip:{user}@{REALM}>",
        f"Call-ID: reg-{user}",
        f"CSeq: {2 if auth else 1} REGISTER",
        f"Contact: <sip:{user}@10.0.0.1:{port}>;expires={expires}",
    ]
    if auth:
        lines.append(f"Authorization: {auth}")
    return parse(("\r\n".join([*lines, "Content-Length: 0"]) + "\r\n\r\n").encode())


def register(registrar: Registrar, user: str, port: int, *, expires: int = 600) -> int:
    """Register (challenge, then digest); the final status."""
    source = Source("10.0.0.1", port)
    challenge, _ = registrar.register(register_request(user, port, expires=expires), source)
    nonce = authorization(challenge.get("WWW-Authenticate"))["nonce"]
    ha1 = _md5(f"{user}:{REALM}:pw-{user}")
    ha2 = _md5(f"REGISTER:sip:{REALM}")
    digest = _md5(f"{ha1}:{nonce}:00000001:c0ffee:auth:{ha2}")
    auth = (
        f'Digest username="{user}", realm="{REALM}", nonce="{nonce}", uri="sip:{REALM}",'
        f' qop=auth, nc=00000001, cnonce="c0ffee", response="{digest}", algorithm=MD5'
    )
    answer, _ = registrar.register(register_request(user, port, expires=expires, auth=auth), source)
    return answer.status


def test_an_invite_source_is_matched_to_its_phone_by_address_adp_5(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """ADP-5: 300 phones; look-ups by address, one index build, not a walk per INVITE."""
    users = [str(2000 + n) for n in range(PHONES)]
    registrar = Registrar(Digest(REALM, {user: f"pw-{user}" for user in users}))
    for n, user in enumerate(users):
        assert register(registrar, user, 30000 + n) == 200
    assert registrar.phone_at(Source("10.0.0.1", 30000 + 7)) == users[7]
    assert registrar.phone_at(Source("10.0.0.1", 29999)) is None  # a trunk, not a phone
    assert registrar.phone_at(Source("10.0.0.2", 30000)) is None

    read: list[str] = []
    real_uri_host = registrar_module.uri_host
    monkeypatch.setattr(
        registrar_module, "uri_host", lambda uri: read.append(uri) or real_uri_host(uri)
    )
    for n, user in enumerate(users):
        assert registrar.phone_at(Source("10.0.0.1", 30000 + n)) == user
    assert read == []  # every answer came from the index: no binding's Contact was read

    assert register(registrar, users[7], 30007, expires=0) == 200  # that phone unregisters
    assert registrar.phone_at(Source("10.0.0.1", 30007)) is None
    assert registrar.phone_at(Source("10.0.0.1", 30008)) == users[8]
    assert len(read) == PHONES - 1  # the index was built again once, for the bindings left
