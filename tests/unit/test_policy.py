"""The scope policy file (terms 7, 8): the contract's default, arrangement removals, live reload."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import pytest

from adapters.billing.records import ClientRecord
from auth.accounts import Account
from auth.policy import DEFAULT_POLICY, Policy, PolicyError, PolicyFile
from auth.principal import Access, Principal
from gateway.errors import Forbidden, NotFound


def test_default_policy_matches_the_contract() -> None:
    policy = PolicyFile().current()
    natural = policy.effective("NATURAL_PERSON", "INVOICE", None)
    legal = policy.effective("LEGAL_PERSON", "INVOICE", None)
    assert natural == {
        "PERMITS_READ",
        "BILLING_READ",
        "PAYMENTS_MAKE",
        "DOCUMENTS_READ",
        "APPLICATIONS_SUBMIT",
        "CONTACTS_UPDATE",
    }
    assert len(legal) == 8 and legal - natural == {"REPORTS_GENERATE", "REPRESENTATIVES_MANAGE"}


def test_direct_debit_removes_payments_and_mandate_intersects() -> None:
    policy = PolicyFile().current()
    assert "PAYMENTS_MAKE" not in policy.effective("LEGAL_PERSON", "DIRECT_DEBIT", None)
    mandate = frozenset({"BILLING_READ", "PAYMENTS_MAKE", "NOT_IN_POLICY"})
    assert policy.effective("LEGAL_PERSON", "DIRECT_DEBIT", mandate) == {"BILLING_READ"}


def test_an_edit_takes_effect_without_restart_and_a_broken_edit_keeps_the_last_good(tmp_path: Path) -> None:
    path = tmp_path / "policy.toml"
    path.write_text(DEFAULT_POLICY.read_text())
    holder = PolicyFile(path, check_every=0)
    assert "PAYMENTS_MAKE" in holder.current().effective("NATURAL_PERSON", "PREPAYMENT", None)

    path.write_text(
        DEFAULT_POLICY.read_text().replace("version = 1", "version = 2")
        + '\n[arrangements.PREPAYMENT]\nremoves = ["PAYMENTS_MAKE"]\n'
    )
    os.utime(path, ns=(1, 10**18))
    assert holder.current().version == 2
    assert "PAYMENTS_MAKE" not in holder.current().effective("NATURAL_PERSON", "PREPAYMENT", None)

    path.write_text("this is [not toml")
    os.utime(path, ns=(1, 2 * 10**18))
    assert holder.current().version == 2
    assert holder.last_error is not None and "TOML" in holder.last_error


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("version = 1\n[kinds]\nNATURAL_PERSON = []\n", "exactly NATURAL_PERSON and LEGAL_PERSON"),
        ('version = 1\n[kinds]\nNATURAL_PERSON = ["FLY"]\nLEGAL_PERSON = []\n', "unknown scopes: FLY"),
        ('version = "x"\n[kinds]\nNATURAL_PERSON = []\nLEGAL_PERSON = []\n', "whole number"),
    ],
)
def test_malformed_policy_is_refused_with_the_reason(text: str, problem: str) -> None:
    with pytest.raises(PolicyError, match=problem):
        Policy.parse(text)


def test_unconditional_scopes_are_those_no_kind_or_arrangement_changes() -> None:
    policy = PolicyFile().current()
    assert policy.unconditional == {
        "PERMITS_READ",
        "BILLING_READ",
        "DOCUMENTS_READ",
        "APPLICATIONS_SUBMIT",
        "CONTACTS_UPDATE",
    }
    stricter = Policy.parse(
        DEFAULT_POLICY.read_text() + '\n[arrangements.PREPAYMENT]\nremoves = ["DOCUMENTS_READ"]\n'
    )
    assert "DOCUMENTS_READ" not in stricter.unconditional


def _principal(
    policy: PolicyFile, mandate: frozenset[str] | None, record: ClientRecord
) -> tuple[Principal, list[str]]:
    """A representative (or, with ``mandate=None``, the client itself) and the client lookups it makes."""
    lookups: list[str] = []

    async def lookup(client_id: str) -> ClientRecord | None:
        lookups.append(client_id)
        return record if client_id == record.id else None

    now = datetime.now(UTC)
    account = Account(
        id="u1", email="a@example.lv", full_name="A", phone=None, personal_code=None, self_client_id=None,
        role="USER", password_hash=None, password_changed_at=now, must_change_password=False, state="ACTIVE",
        state_reason=None, last_login_at=None,
    )  # fmt: skip
    role = "SELF" if mandate is None else "REPRESENTATIVE"
    accesses = {record.id: Access(record.id, role, mandate, None)}
    principal = Principal(
        kind="user", account=account, accesses=accesses, policy=policy, lookup_client=lookup
    )
    return principal, lookups


def _client(kind: str, arrangement: str) -> ClientRecord:
    return ClientRecord(
        id="K1", kind=kind, name="SIA Tests", code="40003000001", vat_number=None, address=None, email=None,
        phone=None, billing_arrangement=arrangement,
    )  # fmt: skip


async def test_allow_decides_unconditional_scopes_from_the_mandate_without_the_record() -> None:
    policy = PolicyFile()
    principal, lookups = _principal(policy, frozenset({"BILLING_READ"}), _client("LEGAL_PERSON", "INVOICE"))
    await principal.allow("K1", "BILLING_READ")
    assert lookups == []
    with pytest.raises(Forbidden, match="SIA Tests"):  # the refusal names the client: the record is read
        await principal.allow("K1", "PERMITS_READ")
    assert lookups == ["K1"]
    with pytest.raises(NotFound):
        await principal.allow("K2", "BILLING_READ")


@pytest.mark.parametrize(
    ("kind", "arrangement", "scope"),
    [("NATURAL_PERSON", "INVOICE", "REPORTS_GENERATE"), ("LEGAL_PERSON", "DIRECT_DEBIT", "PAYMENTS_MAKE")],
)
async def test_allow_reads_the_record_when_the_policy_depends_on_it(
    kind: str, arrangement: str, scope: str
) -> None:
    principal, lookups = _principal(PolicyFile(), None, _client(kind, arrangement))
    with pytest.raises(Forbidden):
        await principal.allow("K1", scope)
    assert lookups == ["K1"]
    allowed, _ = _principal(PolicyFile(), None, _client("LEGAL_PERSON", "INVOICE"))
    await allowed.allow("K1", scope)
