"""Small pieces of identity: password rules, signed links, global ids, mandates in force, masking."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from datetime import date, timedelta
from urllib.parse import parse_qs, quote, unquote, urlsplit

import pytest

from auth.accounts import Account, Mandate
from auth.links import LinkSigner, quoted
from auth.passwords import hash_password, password_problems, verify_password
from auth.principal import accesses_of
from gateway.errors import NotFound
from resolvers.clients import mask_personal_code
from schema.base import from_global_id, raw_id, to_global_id


def test_password_rules_list_every_reason() -> None:
    assert password_problems("Radio-2026") == []
    assert password_problems("abc") == ["at least 8 characters", "at least one digit"]
    assert password_problems("12345678") == ["at least one letter"]


def test_common_passwords_are_refused_in_any_case() -> None:
    for common in ("Parole2026", "QWERTY12345", "TrustNo1", "Latvija123"):
        assert password_problems(common) == ["not a commonly used password"], common


def test_the_common_list_holds_every_zxcvbn_password_the_rules_let_through() -> None:
    """The list's second part is zxcvbn's (a pinned dev dependency): regenerate it when that changes."""
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    passwords = FREQUENCY_LISTS["passwords"]
    let_through = [
        p for p in passwords if len(p) >= 8 and any(c.isalpha() for c in p) and any(c.isdigit() for c in p)
    ]
    assert len(let_through) > 4000
    assert [p for p in let_through if password_problems(p) != ["not a commonly used password"]] == []


async def test_argon2id_hash_verifies_only_the_right_password() -> None:
    stored = hash_password("Radio-2026")
    assert stored.startswith("$argon2id$")
    assert await verify_password(stored, "Radio-2026")
    assert not await verify_password(stored, "Radio-2027")
    assert not await verify_password(None, "Radio-2026")


def test_download_link_is_bound_to_document_user_and_time() -> None:
    signer = LinkSigner("secret", ttl_seconds=60)
    url = signer.url("D1", "U1")
    query = dict(p.split("=") for p in url.split("?")[1].split("&"))
    assert signer.verify("D1", "U1", query["exp"], query["sig"]) is not None
    assert signer.verify("D2", "U1", query["exp"], query["sig"]) is None
    assert signer.verify("D1", "U2", query["exp"], query["sig"]) is None
    assert signer.verify("D1", "U1", str(int(query["exp"]) + 1), query["sig"]) is None
    expired = LinkSigner("secret", ttl_seconds=-1).url("D1", "U1", now=time.time())
    q2 = dict(p.split("=") for p in expired.split("?")[1].split("&"))
    assert signer.verify("D1", "U1", q2["exp"], q2["sig"]) is None
    assert LinkSigner("other", 60).verify("D1", "U1", query["exp"], query["sig"]) is None
    # HMAC-SHA256 of "document\nuser\nexpiry" under SHA-256("download-link:" + secret): links already
    # issued stay valid across releases
    key = hashlib.sha256(b"download-link:secret").digest()
    expected = hmac.new(key, f"D1\nU1\n{query['exp']}".encode(), hashlib.sha256).hexdigest()
    assert query["sig"] == expected
    assert signer.url("D1", "U1", now=int(query["exp"]) - 60) == url  # each signature starts from the key


def test_download_link_quotes_ids_with_reserved_characters() -> None:
    signer = LinkSigner("secret", ttl_seconds=60)
    document_id, user_id = "D/1 ü?#", "U&exp=1+2 %"
    url = urlsplit(signer.url(document_id, user_id))
    segments = url.path.split("/")
    assert segments[1] == "documents" and segments[3] == "download" and len(segments) == 4
    query = parse_qs(url.query, strict_parsing=True)
    assert unquote(segments[2]) == document_id and query["u"] == [user_id]
    assert signer.verify(document_id, user_id, query["exp"][0], query["sig"][0]) is not None


def test_ids_are_quoted_as_urllib_quotes_them() -> None:
    ids = [
        "D100001",
        "3f2b8c1e-9d4a-4f6e-8a7b-1c2d3e4f5a6b",
        "a.b_c~d",
        "",
        "D 1",
        "ü",
        "D/1",
        "a%20b",
        "x\n",
    ]
    ids += [f"D{chr(c)}1" for c in range(32, 127)]  # every printable ASCII character, reserved or not
    for value in ids:
        assert quoted(value) == quote(value, safe=""), value


def test_global_ids_round_trip_and_reject_other_types() -> None:
    gid = to_global_id("Permit", "P123")
    assert from_global_id(gid) == ("Permit", "P123")
    assert raw_id(gid, "Permit") == "P123"
    with pytest.raises(NotFound):
        raw_id(gid, "Client")
    with pytest.raises(NotFound):
        from_global_id("%%%")


@pytest.mark.parametrize("raw", ["P123", "S>>>?", "S???", "Bērziņš", "K1", "K12", "K123"])
def test_a_global_id_is_url_safe_base64_without_padding(raw: str) -> None:
    gid = to_global_id("Station", raw)
    assert gid == base64.urlsafe_b64encode(f"Station:{raw}".encode()).decode().rstrip("=")
    assert "+" not in gid and "/" not in gid and "=" not in gid
    assert from_global_id(gid) == ("Station", raw)


def _account(state: str = "ACTIVE", self_client: str | None = None) -> Account:
    return Account(
        id="u",
        email="e",
        full_name="n",
        phone=None,
        personal_code=None,
        self_client_id=self_client,
        role="USER",
        password_hash=None,
        password_changed_at=None,
        must_change_password=False,
        state=state,
        state_reason=None,
        last_login_at=None,
    )


def _mandate(client: str, until: date | None, revoked: bool = False) -> Mandate:
    from gateway.db import utcnow

    return Mandate(
        id=client,
        user_id="u",
        client_id=client,
        scopes=frozenset({"BILLING_READ"}),
        valid_from=date(2020, 1, 1),
        valid_until=until,
        revoked_at=utcnow() if revoked else None,
    )


def test_only_mandates_in_force_give_access_and_only_to_active_accounts() -> None:
    today = date(2026, 11, 25)
    mandates = [
        _mandate("A", today),
        _mandate("B", today - timedelta(days=1)),
        _mandate("C", None, revoked=True),
        _mandate("D", None),
    ]
    assert set(accesses_of(_account(self_client="S"), mandates, today)) == {"A", "D", "S"}
    assert accesses_of(_account(state="BLOCKED", self_client="S"), mandates, today) == {}


def test_personal_codes_are_masked_after_the_birth_date() -> None:
    assert mask_personal_code("140385-12341") == "140385-*****"
    assert mask_personal_code("32123456789") == "321234*****"
    assert mask_personal_code(None) is None
