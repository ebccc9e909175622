"""The audit journal's hash chain (terms 23.3): appends, redaction, and what `verify` finds when tampered."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from auth.policy import DEFAULT_POLICY, PolicyFile
from gateway.audit import GENESIS, AuditJournal, record_hash
from gateway.db import audit_log, create_engine, utcnow
from gateway.redaction import REDACTED, redact


async def _fill(journal: AuditJournal, n: int) -> None:
    for i in range(n):
        await journal.record(
            principal_kind="user",
            principal=f"user-{i}",
            acting_for="K100001",
            ip="192.0.2.7",
            user_agent="pytest",
            operation="acceptTerms",
            outcome="ok",
            request_id=f"req-{i:08d}",
            details={"version": i},
        )


async def _sql(engine: AsyncEngine, statement: sa.Executable) -> None:
    async with engine.begin() as conn:
        await conn.execute(statement)


async def test_records_chain_from_sixty_four_zeros(engine: AsyncEngine) -> None:
    journal = AuditJournal(engine)
    await _fill(journal, 3)
    async with engine.connect() as conn:
        rows = [r._mapping for r in (await conn.execute(sa.select(audit_log).order_by("seq"))).all()]
    assert [r["seq"] for r in rows] == [1, 2, 3]
    assert rows[0]["prev_hash"] == GENESIS
    assert rows[1]["prev_hash"] == rows[0]["hash"] and rows[2]["prev_hash"] == rows[1]["hash"]
    assert all(record_hash(r) == r["hash"] for r in rows)
    assert await journal.verify() == (await journal.verify()) and (await journal.verify()).ok


async def test_an_empty_journal_verifies(engine: AsyncEngine) -> None:
    result = await AuditJournal(engine).verify()
    assert result.ok and result.checked == 0 and result.first_bad_seq is None


async def test_an_edited_outcome_is_found_at_its_record(engine: AsyncEngine) -> None:
    journal = AuditJournal(engine)
    await _fill(journal, 5)
    await _sql(engine, sa.update(audit_log).where(audit_log.c.seq == 3).values(outcome="denied"))
    result = await journal.verify()
    assert not result.ok and result.first_bad_seq == 3 and result.checked == 2
    assert result.reason is not None and "altered" in result.reason


async def test_edited_details_are_found(engine: AsyncEngine) -> None:
    journal = AuditJournal(engine)
    await _fill(journal, 3)
    await _sql(engine, sa.update(audit_log).where(audit_log.c.seq == 2).values(details='{"version":9}'))
    assert (await journal.verify()).first_bad_seq == 2
    # The same JSON spelt differently is an edit too: records are written in one canonical spelling.
    await _sql(engine, sa.update(audit_log).where(audit_log.c.seq == 2).values(details='{"version": 1}'))
    result = await journal.verify()
    assert (result.ok, result.first_bad_seq) == (False, 2)


async def test_a_recomputed_hash_still_breaks_the_next_link(engine: AsyncEngine) -> None:
    """Whoever edits a record and recomputes its hash is found by the record after it."""
    journal = AuditJournal(engine)
    await _fill(journal, 4)
    async with engine.begin() as conn:
        row = dict((await conn.execute(sa.select(audit_log).where(audit_log.c.seq == 2))).one()._mapping)
        row["outcome"] = "denied"
        await conn.execute(
            sa.update(audit_log).where(audit_log.c.seq == 2).values(outcome="denied", hash=record_hash(row))
        )
    result = await journal.verify()
    assert (result.ok, result.first_bad_seq) == (False, 3)
    assert result.reason is not None and "removed or reordered" in result.reason


async def test_a_deleted_record_is_a_gap(engine: AsyncEngine) -> None:
    journal = AuditJournal(engine)
    await _fill(journal, 5)
    await _sql(engine, sa.delete(audit_log).where(audit_log.c.seq == 3))
    result = await journal.verify()
    assert (result.ok, result.first_bad_seq, result.checked) == (False, 4, 2)
    assert result.reason is not None and "record 3 is missing" in result.reason


async def test_a_deleted_first_record_is_found(engine: AsyncEngine) -> None:
    journal = AuditJournal(engine)
    await _fill(journal, 3)
    await _sql(engine, sa.delete(audit_log).where(audit_log.c.seq == 1))
    result = await journal.verify()
    assert (result.ok, result.first_bad_seq) == (False, 2)


async def test_a_swapped_pair_is_found(engine: AsyncEngine) -> None:
    journal = AuditJournal(engine)
    await _fill(journal, 5)
    async with engine.begin() as conn:
        # Three steps, as a primary key cannot hold both numbers at once.
        await conn.execute(sa.update(audit_log).where(audit_log.c.seq == 2).values(seq=-2))
        await conn.execute(sa.update(audit_log).where(audit_log.c.seq == 3).values(seq=2))
        await conn.execute(sa.update(audit_log).where(audit_log.c.seq == -2).values(seq=3))
    result = await journal.verify()
    assert (result.ok, result.first_bad_seq) == (False, 2)
    assert result.reason is not None and "removed or reordered" in result.reason


async def test_fifty_concurrent_appends_keep_one_chain(engine: AsyncEngine) -> None:
    journal = AuditJournal(engine)
    await asyncio.gather(*(_fill(journal, 1) for _ in range(50)))
    result = await journal.verify()
    assert result.ok and result.checked == 50


async def test_two_journals_on_two_engines_do_not_fork_the_chain(engine: AsyncEngine) -> None:
    """Two instances (separate pools, so only the database lock orders them) appending at once."""
    other = create_engine(engine.url.render_as_string(hide_password=False))
    try:
        first, second = AuditJournal(engine), AuditJournal(other)
        await asyncio.gather(*(_fill(j, 1) for _ in range(20) for j in (first, second)))
    finally:
        await other.dispose()
    result = await AuditJournal(engine).verify()
    assert result.ok and result.checked == 40


async def test_two_records_in_a_callers_transaction_amid_other_appends_do_not_deadlock(
    engine: AsyncEngine,
) -> None:
    """The outbox's case: its own writes and two records in one transaction while others append."""
    journal = AuditJournal(engine)

    async def in_transaction() -> None:
        async with engine.begin() as conn:
            for step in ("queued", "sent"):
                await journal.record(
                    principal_kind="system", principal=None, operation=step, outcome="ok", conn=conn
                )
                await asyncio.sleep(0.02)  # the others queue up behind the lock meanwhile

    work = [in_transaction(), *(_fill(journal, 1) for _ in range(10)), in_transaction()]
    await asyncio.wait_for(asyncio.gather(*work), timeout=25)
    result = await journal.verify()
    assert result.ok and result.checked == 14


async def test_a_record_in_a_rolled_back_transaction_leaves_no_gap(engine: AsyncEngine) -> None:
    journal = AuditJournal(engine)
    await _fill(journal, 1)

    class Abort(Exception):
        pass

    with pytest.raises(Abort):
        async with engine.begin() as conn:
            await journal.record(
                principal_kind="system", principal=None, operation="x", outcome="ok", conn=conn
            )
            raise Abort
    await _fill(journal, 1)
    result = await journal.verify()
    assert result.ok and result.checked == 2


async def test_details_are_redacted_and_columns_fit(engine: AsyncEngine) -> None:
    journal = AuditJournal(engine)
    seq = await journal.record(
        principal_kind="anonymous",
        principal="x" * 1000 + "\x00",
        user_agent="U" * 5000,
        operation="auth.login",
        outcome="invalid_credentials",
        details={"input": {"newPassword": "Secret-123", "note": "code 140385-12341"}},
    )
    page = await journal.page(first=10)
    [record] = page.records
    assert record.seq == seq and len(record.principal or "") == 254 and len(record.user_agent or "") == 400
    assert record.details == {"input": {"newPassword": REDACTED, "note": "code 140385-*****"}}
    assert (await journal.verify()).ok


async def test_paging_newest_first_with_filters(engine: AsyncEngine) -> None:
    journal = AuditJournal(engine)
    await _fill(journal, 5)
    await journal.record(principal_kind="staff", principal="s", operation="blockUser", outcome="ok")
    page = await journal.page(first=2)
    assert [r.seq for r in page.records] == [6, 5] and page.has_more and page.total == 6
    rest = await journal.page(first=10, after_seq=5)
    assert [r.seq for r in rest.records] == [4, 3, 2, 1] and not rest.has_more
    blocks = await journal.page(first=10, operation="blockUser")
    assert [r.principal for r in blocks.records] == ["s"] and blocks.total == 1
    assert (await journal.page(first=10, principals=("user-1", "user-2"))).total == 2
    assert (await journal.page(first=10, since=utcnow() + timedelta(minutes=1))).total == 0


async def test_csv_export_has_a_header_and_every_record(engine: AsyncEngine) -> None:
    journal = AuditJournal(engine)
    await _fill(journal, 3)
    await journal.record(principal_kind="anonymous", principal="=cmd()", operation="auth.login", outcome="x")
    text = "".join([chunk async for chunk in journal.export_csv()])
    lines = text.splitlines()
    assert lines[0].startswith("seq,at,principal_kind,principal") and len(lines) == 5
    assert "'=cmd()" in lines[4]  # a spreadsheet shows it, it does not run it
    later = "".join([c async for c in journal.export_csv(since=utcnow() + timedelta(minutes=1))])
    assert len(later.splitlines()) == 1


async def test_policy_reload_is_journalled_through_the_callback(engine: AsyncEngine, tmp_path: Path) -> None:
    import os

    journal = AuditJournal(engine)
    path = tmp_path / "policy.toml"
    path.write_text(DEFAULT_POLICY.read_text())
    holder = PolicyFile(path, check_every=0, on_reload=journal.policy_reloaded)
    path.write_text(DEFAULT_POLICY.read_text().replace("version = 1", "version = 7"))
    os.utime(path, ns=(1, 10**18))
    assert holder.current().version == 7
    await journal.drain()
    [record] = (await journal.page(first=5)).records
    assert (record.operation, record.principal_kind, record.details["version"]) == (
        "policy.reload",
        "system",
        7,
    )


def test_redact_removes_secrets_at_any_depth_and_masks_personal_codes() -> None:
    value = {
        "password": "Radio-2026",
        "input": {
            "currentPassword": "a",
            "newPassword": "b",
            "token": "t",
            "accessToken": "t2",
            "client_secret": "s",
            "assertion": "eyJ...",
            "Authorization": "Bearer x",
            "code_verifier": "v",
            "personalCode": "140385-12341",
            "personal_code": "32123456789",
            "mustChangePassword": True,
        },
        "list": [{"secret": "s"}, "Jānis 140385-12341 and 32123456789, company 40003571601"],
    }
    assert redact(value) == {
        "password": REDACTED,
        "input": {
            "currentPassword": REDACTED,
            "newPassword": REDACTED,
            "token": REDACTED,
            "accessToken": REDACTED,
            "client_secret": REDACTED,
            "assertion": REDACTED,
            "Authorization": REDACTED,
            "code_verifier": REDACTED,
            "personalCode": REDACTED,
            "personal_code": REDACTED,
            "mustChangePassword": True,
        },
        "list": [{"secret": REDACTED}, "Jānis 140385-***** and 321234-*****, company 40003571601"],
    }
    assert json.dumps(redact({"when": utcnow(), "n": float("nan")}))
