"""The audit journal (terms 9, 18, 23.1, 23.3): append-only, hash-chained, verifiable.

Every record's ``hash`` is the SHA-256 of the canonical JSON of all its columns but ``seq`` and ``hash``;
that document includes ``prev_hash``, the hash of the record before (64 zeros for the first), so editing,
removing or reordering any record breaks the chain from that record on, and ``verify`` names where.

Appends are serialised so that the chain never forks: an ``asyncio.Lock`` inside one process, and in the
database an advisory transaction lock (PostgreSQL) or SQLite's write lock, taken before the last hash is read.
``seq`` is assigned under that lock as the previous one plus one, so a rolled-back append leaves no gap
(a sequence would), and a gap therefore always means a removed record.

Limit of any hash chain kept in one place: dropping the newest records leaves a shorter chain that still
verifies. Exports (``export_csv``) carry the hashes, so an older export's last hash shows such truncation.
"""

from __future__ import annotations

import asyncio
import csv
import hashlib
import io
import json
import logging
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from gateway.db import as_utc, audit_log, fit, utcnow
from gateway.redaction import REDACTED, iso_utc, redact

__all__ = ["REDACTED", "AuditJournal", "AuditPage", "AuditRecord", "VerifyResult", "redact"]

log = logging.getLogger("gateway.audit")

GENESIS = "0" * 64
# Any constant works, as long as every instance uses the same one (and it differs from the migrations' lock).
_PG_AUDIT_LOCK = 7_402_310_923
_BATCH = 1000
COLUMNS = (
    "seq",
    "at",
    "principal_kind",
    "principal",
    "acting_for",
    "ip",
    "user_agent",
    "operation",
    "outcome",
    "request_id",
    "details",
    "prev_hash",
    "hash",
)


def canonical_json(value: Any) -> str:
    """Sorted keys, no spaces, non-ASCII kept: one text for one value, on every machine."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def record_hash(row: Mapping[Any, Any]) -> str:
    """The SHA-256 of every column but ``seq`` and ``hash``; ``details`` is the stored JSON text, parsed."""
    document = {k: row[k] for k in COLUMNS if k not in ("seq", "hash")}
    document["at"] = iso_utc(row["at"])
    details = row["details"]
    document["details"] = json.loads(details) if isinstance(details, str) else details
    return hashlib.sha256(canonical_json(document).encode("utf-8")).hexdigest()


@dataclass(frozen=True, slots=True)
class AuditRecord:
    """One row of the journal, ``details`` parsed."""

    seq: int
    at: datetime
    principal_kind: str
    principal: str | None
    acting_for: str | None
    ip: str | None
    user_agent: str | None
    operation: str
    outcome: str
    request_id: str | None
    details: dict[str, Any]
    prev_hash: str
    hash: str


@dataclass(frozen=True, slots=True)
class VerifyResult:
    """``ok`` when all ``checked`` records chain up; otherwise the first broken record and why."""

    ok: bool
    checked: int
    first_bad_seq: int | None = None
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class AuditPage:
    """Records newest first, whether older ones follow, and how many match in all."""

    records: list[AuditRecord]
    has_more: bool
    total: int


def _record(row: sa.Row[Any]) -> AuditRecord:
    m = row._mapping
    try:
        details = json.loads(m["details"])
    except (TypeError, ValueError):
        details = {"unreadable": str(m["details"])}
    at = as_utc(m["at"])
    assert at is not None
    return AuditRecord(**{**{k: m[k] for k in COLUMNS}, "at": at.astimezone(UTC), "details": details})


def _filters(
    *, operation: str | None, principals: tuple[str, ...] | None, since: datetime | None
) -> list[sa.ColumnElement[bool]]:
    where: list[sa.ColumnElement[bool]] = []
    if operation:
        where.append(audit_log.c.operation == operation)
    if principals:
        where.append(audit_log.c.principal.in_(principals))
    if since is not None:
        where.append(audit_log.c.at >= as_utc(since))
    return where


class AuditJournal:
    """The journal over the gateway's database. One per process is enough; it is safe to share."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self._lock = asyncio.Lock()
        self._pending: set[asyncio.Task[int]] = set()  # fire-and-forget records kept alive until done

    async def record(
        self,
        *,
        principal_kind: str,
        principal: str | None,
        acting_for: str | None = None,
        ip: str | None = None,
        user_agent: str | None = None,
        operation: str,
        outcome: str,
        request_id: str | None = None,
        details: Mapping[str, Any] | None = None,
        conn: AsyncConnection | None = None,
    ) -> int:
        """Append one record (``details`` redacted here) and return its ``seq``.

        With ``conn`` the record joins the caller's open transaction and stands or falls with it; the
        database lock taken here is then held until the caller commits, which keeps the chain linear. Further
        records in that transaction must pass the same ``conn``: one written through another connection
        would wait for the lock that the caller's own transaction holds.
        """
        values: dict[str, Any] = {
            "principal_kind": fit(audit_log, "principal_kind", principal_kind),
            "principal": fit(audit_log, "principal", principal),
            "acting_for": fit(audit_log, "acting_for", acting_for),
            "ip": fit(audit_log, "ip", ip),
            "user_agent": fit(audit_log, "user_agent", user_agent),
            "operation": fit(audit_log, "operation", operation),
            "outcome": fit(audit_log, "outcome", outcome),
            "request_id": fit(audit_log, "request_id", request_id),
            "details": canonical_json(redact(dict(details or {}))),
        }
        if conn is not None:
            # Only the database lock here: the caller's transaction may hold it already (an earlier record,
            # or on SQLite any earlier write), and a task holding the in-process lock may be waiting for it.
            return await self._append(conn, values)
        async with self._lock, self.engine.begin() as own:
            return await self._append(own, values)

    async def _append(self, conn: AsyncConnection, values: dict[str, Any]) -> int:
        if conn.dialect.name == "postgresql":
            await conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_AUDIT_LOCK})
        else:
            # SQLite: a write that changes nothing takes the database's write lock now, before the last
            # hash is read, as BEGIN IMMEDIATE would; another process waits (busy timeout) instead of forking.
            await conn.execute(sa.update(audit_log).where(sa.false()).values(seq=audit_log.c.seq))
        last = (
            await conn.execute(
                sa.select(audit_log.c.seq, audit_log.c.hash).order_by(audit_log.c.seq.desc()).limit(1)
            )
        ).first()
        seq, prev_hash = (int(last.seq) + 1, str(last.hash)) if last else (1, GENESIS)
        # Taken under the lock, so that time never runs backwards along the chain.
        row = {**values, "at": utcnow(), "prev_hash": prev_hash}
        row["hash"] = record_hash(row)
        await conn.execute(audit_log.insert().values(seq=seq, **row))
        return seq

    def policy_reloaded(self, version: int, path: str) -> None:
        """``PolicyFile(on_reload=...)``: record a reload of the scope policy from synchronous code.

        The policy is read inside resolvers, so the record is written by a task of the running loop.
        """
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            log.warning(
                "policy version %s loaded from %s outside an event loop: not journalled", version, path
            )
            return
        task = loop.create_task(
            self.record(
                principal_kind="system",
                principal="policy-file",
                operation="policy.reload",
                outcome="ok",
                details={"version": version, "path": path},
            )
        )
        self._pending.add(task)
        task.add_done_callback(self._reload_done)

    def _reload_done(self, task: asyncio.Task[int]) -> None:
        self._pending.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("could not journal a policy reload", exc_info=task.exception())

    async def drain(self) -> None:
        """Wait for the records written in the background (policy reloads); for shutdown and tests."""
        while self._pending:
            await asyncio.gather(*list(self._pending), return_exceptions=True)

    async def _batches(self, where: list[sa.ColumnElement[bool]]) -> AsyncIterator[list[AuditRecord]]:
        """Every matching record in ``seq`` order, in short queries: no connection is held between batches,
        so a slow reader of a long export never pins a database connection."""
        cursor = 0
        while True:
            query = sa.select(audit_log).where(audit_log.c.seq > cursor, *where)
            async with self.engine.connect() as conn:
                rows = (await conn.execute(query.order_by(audit_log.c.seq).limit(_BATCH))).all()
            if not rows:
                return
            batch = [_record(r) for r in rows]
            yield batch
            cursor = batch[-1].seq

    async def verify(self) -> VerifyResult:
        """Walk the chain in ``seq`` order, recomputing every hash; stop at the first broken record."""
        expected_seq, prev_hash, checked = 1, GENESIS, 0
        async for batch in self._raw_batches():
            for m in batch:
                seq = int(m["seq"])
                if seq != expected_seq:
                    missing = f"{expected_seq}" if seq == expected_seq + 1 else f"{expected_seq}-{seq - 1}"
                    return VerifyResult(False, checked, seq, f"gap in seq: record {missing} is missing")
                try:
                    recomputed = record_hash(m)
                    # Written canonical, so any other spelling of the same JSON is an edit as well.
                    canonical = canonical_json(json.loads(m["details"])) == m["details"]
                except (TypeError, ValueError):
                    recomputed, canonical = "", False
                if recomputed != m["hash"] or not canonical:
                    return VerifyResult(
                        False, checked, seq, "hash does not match the content: the record was altered"
                    )
                if m["prev_hash"] != prev_hash:
                    return VerifyResult(
                        False,
                        checked,
                        seq,
                        "prev_hash is not the hash of the record before: a record was removed or reordered",
                    )
                expected_seq, prev_hash, checked = seq + 1, m["hash"], checked + 1
        return VerifyResult(True, checked)

    async def _raw_batches(self) -> AsyncIterator[list[sa.RowMapping]]:
        """Rows as stored (``details`` as text), for hashing exactly what is there."""
        cursor = 0
        while True:
            query = (
                sa.select(audit_log).where(audit_log.c.seq > cursor).order_by(audit_log.c.seq).limit(_BATCH)
            )
            async with self.engine.connect() as conn:
                rows = [r._mapping for r in (await conn.execute(query)).all()]
            if not rows:
                return
            yield rows
            cursor = int(rows[-1]["seq"])

    async def page(
        self,
        *,
        first: int,
        after_seq: int | None = None,
        operation: str | None = None,
        principals: tuple[str, ...] | None = None,
        since: datetime | None = None,
    ) -> AuditPage:
        """``first`` records newest first, older than ``after_seq`` when given; filters combine with AND."""
        where = _filters(operation=operation, principals=principals, since=since)
        query = sa.select(audit_log).where(*where)
        if after_seq is not None:
            query = query.where(audit_log.c.seq < after_seq)
        async with self.engine.connect() as conn:
            rows = (await conn.execute(query.order_by(audit_log.c.seq.desc()).limit(first + 1))).all()
            total = (
                await conn.execute(sa.select(sa.func.count()).select_from(audit_log).where(*where))
            ).scalar()
        return AuditPage([_record(r) for r in rows[:first]], len(rows) > first, int(total or 0))

    async def export_csv(self, *, since: datetime | None = None) -> AsyncIterator[str]:
        """The journal as CSV text, oldest first, a batch at a time (a header line first).

        Cells that a spreadsheet would run as a formula get a leading apostrophe (OWASP's advice), so such a
        cell reads differently from the database: the chain is checked with ``gateway audit verify``.
        """
        yield _csv_line(COLUMNS)
        async for batch in self._batches(_filters(operation=None, principals=None, since=since)):
            yield "".join(_csv_line(_csv_cells(r)) for r in batch)


def parse_since(text: str | None) -> datetime | None:
    """``2026-01-31`` (midnight UTC) or a full ISO 8601 time (UTC when it has no offset)."""
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        moment = datetime.combine(date.fromisoformat(text), datetime.min.time())
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _csv_cells(r: AuditRecord) -> list[str]:
    cells = [
        str(r.seq),
        iso_utc(r.at),
        r.principal_kind,
        r.principal or "",
        r.acting_for or "",
        r.ip or "",
        r.user_agent or "",
        r.operation,
        r.outcome,
        r.request_id or "",
        canonical_json(r.details),
        r.prev_hash,
        r.hash,
    ]
    return ["'" + c if c[:1] in ("=", "+", "-", "@", "\t", "\r") else c for c in cells]


def _csv_line(cells: tuple[str, ...] | list[str]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerow(cells)
    return out.getvalue()
