"""The scope policy file (terms 7, 8): the contract's default, arrangement removals, live reload."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from auth.policy import DEFAULT_POLICY, Policy, PolicyError, PolicyFile


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
