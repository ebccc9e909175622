"""A bank's access token is checked in full once, then remembered until it expires or the keys change."""

from __future__ import annotations

import secrets
import time
from typing import Any

import pytest

import auth.banks
from auth.banks import BankTokens
from auth.jwt import InvalidJwt, RemoteKeys
from sandbox.keys import SigningKeys

ISSUER = "https://idp.test"
AUDIENCE = "esakari-gateway"


def access_token(keys: SigningKeys, *, client_id: str = "demo-bank", exp: float | None = None) -> str:
    now = int(time.time())
    claims = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "client_id": client_id,
        "scope": "settlement:read",
        "iat": now,
        "exp": now + 300 if exp is None else exp,
        "jti": secrets.token_urlsafe(8),  # tokens of one second differ
    }
    return keys.sign(claims, typ="at+jwt")


class Broker:
    """A signer whose JWKS the gateway fetches."""

    def __init__(self) -> None:
        self.keys = SigningKeys()

    async def jwks(self) -> dict[str, Any]:
        return dict(self.keys.jwks())


@pytest.fixture
def broker() -> Broker:
    return Broker()


@pytest.fixture
def checks(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The tokens checked in full (signature and claims)."""
    checked: list[str] = []
    verify = auth.banks.verify

    async def counting(token: str, *args: Any, **kwargs: Any) -> dict[str, Any]:
        checked.append(token)
        return await verify(token, *args, **kwargs)

    monkeypatch.setattr(auth.banks, "verify", counting)
    return checked


def tokens_of(broker: Broker, **options: Any) -> BankTokens:
    keys = RemoteKeys(broker.jwks, min_refetch=0)
    return BankTokens(keys, issuer=ISSUER, audience=AUDIENCE, banks=["demo-bank"], **options)


async def test_a_banks_token_is_checked_once_while_it_lives(broker: Broker, checks: list[str]) -> None:
    tokens = tokens_of(broker)
    token = access_token(broker.keys)
    for _ in range(5):
        assert await tokens.bank_of(token) == "demo-bank"
    assert checks == [token]


async def test_a_remembered_token_is_refused_once_it_expires(
    broker: Broker, checks: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    tokens = tokens_of(broker)
    token = access_token(broker.keys, exp=time.time() + 60)
    assert await tokens.bank_of(token) == "demo-bank"
    later = time.time() + 60 + 31  # past exp and the 30 s leeway
    monkeypatch.setattr(time, "time", lambda: later)
    with pytest.raises(InvalidJwt):
        await tokens.bank_of(token)
    assert checks == [token, token]


async def test_a_token_is_checked_again_after_the_keys_are_fetched_again(
    broker: Broker, checks: list[str]
) -> None:
    tokens = tokens_of(broker)
    token = access_token(broker.keys)
    assert await tokens.bank_of(token) == "demo-bank"
    # The broker drops the key that signed it; the gateway's set expires and is fetched again.
    broker.keys = SigningKeys()
    tokens.keys.ttl = 0
    with pytest.raises(InvalidJwt):
        await tokens.bank_of(token)
    assert checks == [token, token]


async def test_refused_tokens_are_not_remembered(broker: Broker, checks: list[str]) -> None:
    tokens = tokens_of(broker)
    stranger = access_token(broker.keys, client_id="other-bank")
    for _ in range(2):
        with pytest.raises(InvalidJwt):
            await tokens.bank_of(stranger)
    assert checks == [stranger, stranger]


async def test_only_the_newest_accepted_tokens_are_remembered(broker: Broker, checks: list[str]) -> None:
    tokens = tokens_of(broker, remembered=2)
    first, second, third = (access_token(broker.keys) for _ in range(3))
    for token in (first, second, third, third, second, first):
        assert await tokens.bank_of(token) == "demo-bank"
    # first was dropped for third, so it is checked again (and then second is dropped for it)
    assert checks == [first, second, third, first]
