"""Records the permit registry returns."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal


@dataclass(frozen=True, slots=True)
class PermitRecord:
    id: str
    holder_id: str  # the billing system's client id
    number: str
    service_type: str  # LAND_MOBILE | FIXED | BROADCASTING | SATELLITE | MARITIME | AERONAUTICAL | AMATEUR
    status: str  # VALID | SUSPENDED | EXPIRED | CANCELLED
    issued_on: date
    valid_from: date
    valid_until: date | None


@dataclass(frozen=True, slots=True)
class AssignmentRecord:
    frequency_mhz: Decimal
    bandwidth_khz: Decimal
    emission_designator: str  # e.g. 16K0F3E
    power_w: Decimal | None
    erp_dbw: Decimal | None
    direction: str  # TX | RX | TXRX


@dataclass(frozen=True, slots=True)
class StationRecord:
    id: str
    permit_id: str
    name: str
    call_sign: str | None
    station_class: str  # ITU class: FB, FX, ML, BC, AT ...
    latitude: float | None
    longitude: float | None
    address: str | None
    antenna_height_m: float | None
    azimuth_deg: float | None
    polarization: str | None
    assignments: tuple[AssignmentRecord, ...]


@dataclass(frozen=True, slots=True)
class ReceiptRecord:
    number: str
    content_sha256: str
    signed_at: datetime
    signature: str
    document_id: str | None


@dataclass(frozen=True, slots=True)
class ApplicationRecord:
    id: str
    client_id: str
    kind: str  # NEW_PERMIT | AMEND_PERMIT | RENEW_PERMIT | CANCEL_PERMIT | SERVICE_REGISTRATION | ...
    subject: str
    body: str
    status: str  # SUBMITTED | IN_REVIEW | APPROVED | REJECTED
    submitted_at: datetime
    submitted_by: str
    permit_id: str | None
    receipt: ReceiptRecord | None
