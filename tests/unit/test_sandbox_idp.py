"""The sandbox identity broker (OIDC provider) over HTTP: discovery, the authorization-code flow with PKCE,
client credentials for the partner banks, errors, key rotation, and an authlib client against it."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from authlib.integrations.httpx_client import AsyncOAuth2Client
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from joserfc.jwt import JWTClaimsRegistry
from starlette.applications import Starlette
from starlette.routing import Mount

from sandbox.app import build_sandbox
from sandbox.identities import default_persons
from sandbox.idp import IdentityBroker, broker_of, create_idp_app
from sandbox.oauth import s256
from sandbox.personas import PERSONAS

HOST = "http://portal.example"
ISSUER = f"{HOST}/sandbox/idp"
CALLBACK = f"{HOST}/auth/unified/callback"
GATEWAY = ("esakari-gateway", "esakari-gateway-secret")
ANNA = "030168-10774"


class Clock:
    def __init__(self) -> None:
        self.now = 1_780_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def idp(clock: Clock) -> Starlette:
    return create_idp_app(clock=clock)


@pytest.fixture
def host(idp: Starlette) -> Starlette:
    # Mounted as in the gateway, so the derived issuer is the host plus /sandbox/idp.
    return Starlette(routes=[Mount("/sandbox/idp", app=idp)])


@pytest.fixture
async def http(host: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=host), base_url=HOST) as client:
        yield client


def authorize_params(verifier: str, **extra: str) -> dict[str, str]:
    params = {
        "response_type": "code",
        "client_id": GATEWAY[0],
        "redirect_uri": CALLBACK,
        "scope": "openid profile",
        "state": "st-1",
        "nonce": "n-1",
        "code_challenge": s256(verifier),
        "code_challenge_method": "S256",
    }
    return {**params, **extra}


async def get_code(http: httpx.AsyncClient, verifier: str, hint: str = ANNA, **extra: str) -> str:
    response = await http.get(
        "/sandbox/idp/authorize", params=authorize_params(verifier, login_hint=hint, **extra)
    )
    assert response.status_code == 302, response.text
    location = response.headers["location"]
    assert location.startswith(CALLBACK + "?")
    query = parse_qs(urlsplit(location).query)
    assert query["state"] == ["st-1"]
    return query["code"][0]


async def exchange(http: httpx.AsyncClient, code: str, verifier: str, **extra: str) -> httpx.Response:
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": CALLBACK,
        "code_verifier": verifier,
    }
    return await http.post("/sandbox/idp/token", data={**form, **extra}, auth=GATEWAY)


async def keyset(http: httpx.AsyncClient) -> KeySet:
    response = await http.get("/sandbox/idp/jwks")
    assert response.status_code == 200
    return KeySet.import_key_set(response.json())


def assert_error(response: httpx.Response, error: str, status: int = 400) -> None:
    assert response.status_code == status, response.text
    assert response.json()["error"] == error
    assert response.headers["cache-control"] == "no-store"


# -- discovery and persons -----------------------------------------------------------------------------------


async def test_discovery_derives_the_issuer_from_host_and_mount(http: httpx.AsyncClient) -> None:
    meta = (await http.get("/sandbox/idp/.well-known/openid-configuration")).json()
    assert meta["issuer"] == ISSUER
    assert meta["authorization_endpoint"] == f"{ISSUER}/authorize"
    assert meta["token_endpoint"] == f"{ISSUER}/token"
    assert meta["jwks_uri"] == f"{ISSUER}/jwks"
    assert meta["userinfo_endpoint"] == f"{ISSUER}/userinfo"
    assert meta["response_types_supported"] == ["code"]
    assert meta["grant_types_supported"] == ["authorization_code", "client_credentials"]
    assert meta["code_challenge_methods_supported"] == ["S256"]
    assert meta["id_token_signing_alg_values_supported"] == ["RS256"]
    assert meta["token_endpoint_auth_methods_supported"] == ["client_secret_basic", "client_secret_post"]
    assert {"openid", "settlement:read"} <= set(meta["scopes_supported"])
    assert {"personal_code", "representation", "amr", "nonce"} <= set(meta["claims_supported"])


async def test_issuer_served_alone_and_fixed() -> None:
    alone = httpx.ASGITransport(app=create_idp_app())
    async with httpx.AsyncClient(transport=alone, base_url="http://idp.example:8100") as client:
        meta = (await client.get("/.well-known/openid-configuration")).json()
    assert meta["issuer"] == "http://idp.example:8100"
    fixed = httpx.ASGITransport(app=create_idp_app(issuer="https://idp.test/x/"))
    async with httpx.AsyncClient(transport=fixed, base_url="http://elsewhere") as client:
        meta = (await client.get("/.well-known/openid-configuration")).json()
    assert meta["issuer"] == "https://idp.test/x" and meta["token_endpoint"] == "https://idp.test/x/token"


def test_persons_come_from_the_personas() -> None:
    persons = {p.personal_code: p for p in default_persons()}
    for persona in PERSONAS:
        if persona.personal_code is not None:
            assert persons[persona.personal_code].name == persona.full_name
    portal_codes = {p.personal_code for p in PERSONAS}
    assert any(code not in portal_codes and not code.startswith("32") for code in persons)  # Kārlis
    assert any(code.startswith("32") for code in persons)  # a new-format code
    assert len({p.sub for p in persons.values()}) == len(persons)


# -- authorization code + PKCE -------------------------------------------------------------------------------


async def test_full_code_flow_with_pkce(http: httpx.AsyncClient, clock: Clock) -> None:
    verifier = secrets.token_urlsafe(48)
    code = await get_code(http, verifier)
    response = await exchange(http, code, verifier)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["token_type"] == "Bearer" and body["expires_in"] == 300
    assert response.headers["cache-control"] == "no-store"
    token = jwt.decode(body["id_token"], await keyset(http), algorithms=["RS256"])
    assert token.header["alg"] == "RS256" and token.header["kid"]
    JWTClaimsRegistry(
        now=int(clock.now),
        iss={"essential": True, "value": ISSUER},
        aud={"essential": True, "value": GATEWAY[0]},
        nonce={"essential": True, "value": "n-1"},
        exp={"essential": True},
    ).validate(token.claims)
    claims = token.claims
    assert claims["personal_code"] == ANNA
    assert (claims["given_name"], claims["family_name"], claims["name"]) == ("Anna", "Ozola", "Anna Ozola")
    assert claims["representation"] == ["DP:40003571601-PK:030168-10774"]
    assert claims["amr"] == ["eparaksts"]
    assert claims["exp"] - claims["iat"] == 300 and claims["auth_time"] <= claims["iat"]
    # userinfo with the (opaque) access token tells the same person
    info = await http.get(
        "/sandbox/idp/userinfo", headers={"Authorization": f"Bearer {body['access_token']}"}
    )
    assert info.status_code == 200
    assert info.json()["sub"] == claims["sub"] and info.json()["personal_code"] == ANNA
    # sub is stable per person: a second login gives the same one
    code = await get_code(http, verifier)
    again = jwt.decode((await exchange(http, code, verifier)).json()["id_token"], await keyset(http))
    assert again.claims["sub"] == claims["sub"]


async def test_hint_without_dash_and_person_without_representation(http: httpx.AsyncClient) -> None:
    verifier = secrets.token_urlsafe(48)
    code = await get_code(http, verifier, hint="14038512341")
    claims = jwt.decode((await exchange(http, code, verifier)).json()["id_token"], await keyset(http)).claims
    assert claims["personal_code"] == "140385-12341" and "representation" not in claims
    assert claims["name"] == "Jānis Bērziņš"


async def test_code_is_single_use(http: httpx.AsyncClient) -> None:
    verifier = secrets.token_urlsafe(48)
    code = await get_code(http, verifier)
    assert (await exchange(http, code, verifier)).status_code == 200
    assert_error(await exchange(http, code, verifier), "invalid_grant")


async def test_wrong_verifier_spends_the_code(http: httpx.AsyncClient) -> None:
    verifier = secrets.token_urlsafe(48)
    code = await get_code(http, verifier)
    assert_error(await exchange(http, code, secrets.token_urlsafe(48)), "invalid_grant")
    assert_error(await exchange(http, code, verifier), "invalid_grant")


async def test_code_bound_to_redirect_uri_and_expires(http: httpx.AsyncClient, clock: Clock) -> None:
    verifier = secrets.token_urlsafe(48)
    code = await get_code(http, verifier)
    other = "http://evil.example/auth/unified/callback"
    assert_error(await exchange(http, code, verifier, redirect_uri=other), "invalid_grant")
    code = await get_code(http, verifier)
    clock.now += 301
    assert_error(await exchange(http, code, verifier), "invalid_grant")


async def test_unregistered_redirect_uri_is_never_redirected_to(http: httpx.AsyncClient) -> None:
    verifier = secrets.token_urlsafe(48)
    for uri in (
        "http://portal.example/auth/unified/callback/x",
        "http://portal.example/other",
        "http://portal.example/auth/unified/callback#frag",
        "javascript:alert(1)//auth/unified/callback",
        "",
    ):
        params = authorize_params(verifier, redirect_uri=uri, login_hint=ANNA)
        response = await http.get("/sandbox/idp/authorize", params=params)
        assert response.status_code == 400 and "location" not in response.headers, uri
        assert "text/html" in response.headers["content-type"]
    response = await http.get("/sandbox/idp/authorize", params=authorize_params(verifier, client_id="nobody"))
    assert response.status_code == 400 and "location" not in response.headers
    # any host is fine for the sandbox, as long as the path is exact
    other_host = "https://127.0.0.1:8443/auth/unified/callback"
    params = authorize_params(verifier, redirect_uri=other_host, login_hint=ANNA)
    response = await http.get("/sandbox/idp/authorize", params=params)
    assert response.status_code == 302 and response.headers["location"].startswith(other_host + "?code=")


@pytest.mark.parametrize(
    ("extra", "error"),
    [
        ({"response_type": "token"}, "unsupported_response_type"),
        ({"scope": "profile"}, "invalid_scope"),
        ({"code_challenge_method": "plain"}, "invalid_request"),
        ({"code_challenge": ""}, "invalid_request"),
        ({"prompt": "none"}, "login_required"),
    ],
)
async def test_authorize_errors_go_back_by_redirect(
    http: httpx.AsyncClient, extra: dict[str, str], error: str
) -> None:
    response = await http.get("/sandbox/idp/authorize", params=authorize_params("v" * 43, **extra))
    assert response.status_code == 302
    query = parse_qs(urlsplit(response.headers["location"]).query)
    assert query["error"] == [error] and query["state"] == ["st-1"] and "code" not in query


async def test_without_hint_a_page_of_persons(http: httpx.AsyncClient) -> None:
    response = await http.get("/sandbox/idp/authorize", params=authorize_params("v" * 43))
    assert response.status_code == 200 and "text/html" in response.headers["content-type"]
    for person in default_persons():
        assert f'name="login_hint" value="{person.personal_code}"' in response.text
        assert person.name in response.text
    assert 'name="code_challenge"' in response.text and 'method="get"' in response.text
    params = authorize_params("v" * 43, login_hint="010101-00000")
    response = await http.get("/sandbox/idp/authorize", params=params)
    assert response.status_code == 200 and "No person with the personal code 010101-00000" in response.text


async def test_userinfo_refuses_other_tokens(http: httpx.AsyncClient) -> None:
    for header in ({}, {"Authorization": "Bearer nope"}, {"Authorization": "Basic eDp5"}):
        response = await http.get("/sandbox/idp/userinfo", headers=header)
        assert response.status_code == 401 and response.json()["error"] == "invalid_token"
    bank = await http.post("/sandbox/idp/token", data={"grant_type": "client_credentials"}, auth=BANK)
    bearer = {"Authorization": f"Bearer {bank.json()['access_token']}"}
    assert (await http.get("/sandbox/idp/userinfo", headers=bearer)).status_code == 401


# -- client credentials --------------------------------------------------------------------------------------

BANK = ("demo-bank", "demo-bank-secret")


async def test_client_credentials_for_a_bank(http: httpx.AsyncClient, clock: Clock) -> None:
    form = {"grant_type": "client_credentials", "client_id": BANK[0], "client_secret": BANK[1]}
    response = await http.post("/sandbox/idp/token", data=form)  # client_secret_post
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["token_type"] == "Bearer" and body["expires_in"] == 300 and body["scope"] == "settlement:read"
    assert "id_token" not in body
    token = jwt.decode(body["access_token"], await keyset(http), algorithms=["RS256"])
    assert token.header["typ"] == "at+jwt" and token.header["kid"]
    JWTClaimsRegistry(
        now=int(clock.now),
        iss={"essential": True, "value": ISSUER},
        aud={"essential": True, "value": "esakari-gateway"},
        sub={"essential": True, "value": "demo-bank"},
        jti={"essential": True},
    ).validate(token.claims)
    claims = token.claims
    assert claims["client_id"] == "demo-bank" and claims["scope"] == "settlement:read"
    assert claims["exp"] - claims["iat"] == 300
    second = await http.post("/sandbox/idp/token", data={"grant_type": "client_credentials"}, auth=BANK)
    assert jwt.decode(second.json()["access_token"], await keyset(http)).claims["jti"] != claims["jti"]


async def test_client_credentials_audience_is_configurable() -> None:
    broker = IdentityBroker(audience="other-gateway")
    token = broker.client_credentials_token("other-bank", issuer="http://i", iat=100, exp=50, jti="j")
    claims = jwt.decode(token, KeySet.import_key_set(broker.keys.jwks())).claims
    assert claims == {
        "iss": "http://i",
        "aud": "other-gateway",
        "sub": "other-bank",
        "client_id": "other-bank",
        "scope": "settlement:read",
        "iat": 100,
        "exp": 50,
        "jti": "j",
    }


async def test_client_authentication_errors(http: httpx.AsyncClient) -> None:
    grant = {"grant_type": "client_credentials"}
    response = await http.post("/sandbox/idp/token", data=grant, auth=("demo-bank", "wrong"))
    assert_error(response, "invalid_client", 401)
    assert response.headers["www-authenticate"].startswith("Basic")
    assert_error(
        await http.post("/sandbox/idp/token", data=grant, auth=("nobody", "x")), "invalid_client", 401
    )
    assert_error(await http.post("/sandbox/idp/token", data=grant), "invalid_client", 401)
    both = {**grant, "client_id": BANK[0], "client_secret": BANK[1]}
    assert_error(await http.post("/sandbox/idp/token", data=both, auth=BANK), "invalid_request")
    malformed = {"Authorization": "Basic !!!"}
    assert_error(await http.post("/sandbox/idp/token", data=grant, headers=malformed), "invalid_client", 401)


async def test_grant_errors(http: httpx.AsyncClient) -> None:
    token = "/sandbox/idp/token"
    assert_error(await http.post(token, data={"grant_type": "password"}, auth=BANK), "unsupported_grant_type")
    assert_error(await http.post(token, data={}, auth=BANK), "invalid_request")
    assert_error(
        await http.post(token, json={"grant_type": "client_credentials"}, auth=BANK), "invalid_request"
    )
    code_grant = {"grant_type": "authorization_code", "code": "x", "redirect_uri": CALLBACK}
    assert_error(await http.post(token, data=code_grant, auth=BANK), "unauthorized_client")
    cc = {"grant_type": "client_credentials"}
    assert_error(await http.post(token, data=cc, auth=GATEWAY), "unauthorized_client")
    assert_error(await http.post(token, data={**cc, "scope": "admin"}, auth=BANK), "invalid_scope")
    assert_error(
        await http.post(token, data={"grant_type": "authorization_code"}, auth=GATEWAY), "invalid_request"
    )


# -- keys ----------------------------------------------------------------------------------------------------


async def test_key_rotation_keeps_the_old_key_published(http: httpx.AsyncClient, idp: Starlette) -> None:
    old = await http.post("/sandbox/idp/token", data={"grant_type": "client_credentials"}, auth=BANK)
    old_token = old.json()["access_token"]
    old_kid = jwt.decode(old_token, await keyset(http)).header["kid"]
    rotated = await http.post("/sandbox/idp/_rotate")
    assert rotated.status_code == 200
    new_kid = rotated.json()["kid"]
    assert new_kid != old_kid and rotated.json()["kids"] == [new_kid, old_kid]
    keys = await keyset(http)
    assert {k.kid for k in keys} == {old_kid, new_kid}
    assert all(k.as_dict()["kty"] == "RSA" and "d" not in k.as_dict() for k in keys)
    assert jwt.decode(old_token, keys).claims["sub"] == "demo-bank"  # still verifiable
    new = await http.post("/sandbox/idp/token", data={"grant_type": "client_credentials"}, auth=BANK)
    assert jwt.decode(new.json()["access_token"], keys).header["kid"] == new_kid
    third = broker_of(idp).rotate_keys()
    assert len((await http.get("/sandbox/idp/jwks")).json()["keys"]) == 3 and third not in (old_kid, new_kid)


async def test_a_foreign_key_does_not_verify(http: httpx.AsyncClient) -> None:
    stranger = IdentityBroker()
    forged = stranger.client_credentials_token("demo-bank", issuer=ISSUER)
    with pytest.raises(JoseError):
        jwt.decode(forged, await keyset(http), algorithms=["RS256"])


# -- authlib as the gateway will use it ----------------------------------------------------------------------


async def test_authlib_client_against_the_broker(http: httpx.AsyncClient, host: Starlette) -> None:
    meta: dict[str, Any] = (await http.get("/sandbox/idp/.well-known/openid-configuration")).json()
    transport = httpx.ASGITransport(app=host)
    async with AsyncOAuth2Client(
        client_id=GATEWAY[0],
        client_secret=GATEWAY[1],
        scope="openid profile",
        redirect_uri=CALLBACK,
        code_challenge_method="S256",
        transport=transport,
    ) as oauth:
        verifier = secrets.token_urlsafe(48)
        url, state = oauth.create_authorization_url(
            meta["authorization_endpoint"], code_verifier=verifier, nonce="n-2", login_hint=ANNA
        )
        response = await http.get(url)  # the browser's part
        assert response.status_code == 302
        token = await oauth.fetch_token(
            meta["token_endpoint"],
            authorization_response=response.headers["location"],
            code_verifier=verifier,
            state=state,
        )
    claims = jwt.decode(token["id_token"], await keyset(http)).claims
    assert claims["nonce"] == "n-2" and claims["personal_code"] == ANNA and claims["iss"] == ISSUER


# -- wiring --------------------------------------------------------------------------------------------------


async def test_build_sandbox_mounts_the_broker() -> None:
    systems = build_sandbox(idp_issuer=None)
    app = Starlette(routes=[Mount("/sandbox", routes=systems.routes())])
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=HOST) as client:
        meta = (await client.get("/sandbox/idp/.well-known/openid-configuration")).json()
        assert meta["issuer"] == ISSUER
        response = await client.post(
            "/sandbox/idp/token", data={"grant_type": "client_credentials"}, auth=BANK
        )
        assert response.status_code == 200
    assert systems.broker is broker_of(systems.idp)
