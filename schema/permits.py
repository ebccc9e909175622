"""Permits, stations and frequency assignments (terms 2.10: technical parameters of existing permits)."""

from __future__ import annotations

from collections.abc import Awaitable, Sequence
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated

import strawberry

from adapters.permits.records import AssignmentRecord, PermitRecord, StationRecord
from resolvers import clients as resolve_clients
from resolvers import documents as resolve_documents
from resolvers import permits as resolve
from resolvers.context import Context
from resolvers.rows import Outcome, Rows
from schema.base import Node, convert_all, to_global_id
from schema.documents import Document
from schema.enums import PermitStatus, ServiceType
from schema.execution import NOT_AHEAD, resolved_ahead

if TYPE_CHECKING:
    from schema.clients import Client

Info = strawberry.Info[Context, None]


@strawberry.type(description="One frequency assigned to a station.")
class FrequencyAssignment:
    """The GraphQL type of a station's assignments, whose values are the registry's ``AssignmentRecord``s as
    they are: the same attributes, and a type without ``is_type_of`` reads any object's (a large client's page
    has some 300 assignments; converting each cost more than answering it)."""

    frequency_mhz: Decimal = strawberry.field(name="frequencyMHz", description="Centre frequency in MHz.")
    bandwidth_khz: Decimal = strawberry.field(name="bandwidthKHz", description="Necessary bandwidth in kHz.")
    emission_designator: str = strawberry.field(description="ITU emission designator, e.g. 16K0F3E.")
    power_w: Decimal | None = strawberry.field(name="powerW", description="Transmitter power in W.")
    erp_dbw: Decimal | None = strawberry.field(name="erpDBW", description="Effective radiated power in dBW.")
    direction: str = strawberry.field(description="TX, RX or TXRX.")


@strawberry.type(description="A radio station of a permit, with its technical parameters.")
class Station(Node):
    name: str = strawberry.field(description="Name or site of the station.")
    call_sign: str | None = strawberry.field(description="Call sign, where the service uses one.")
    station_class: str = strawberry.field(description="ITU station class: FB, FX, ML, BC, AT ...")
    latitude: float | None = strawberry.field(description="WGS 84 latitude in degrees.")
    longitude: float | None = strawberry.field(description="WGS 84 longitude in degrees.")
    address: str | None = strawberry.field(description="Postal address of the site.")
    antenna_height_m: float | None = strawberry.field(
        name="antennaHeightM", description="Antenna height above ground in metres."
    )
    azimuth_deg: float | None = strawberry.field(description="Main beam azimuth in degrees from north.")
    polarization: str | None = strawberry.field(description="Antenna polarisation: H, V, ...")
    assignments: Sequence[AssignmentRecord] = strawberry.field(
        description="Assigned frequencies.", graphql_type=list[FrequencyAssignment]
    )

    @classmethod
    def from_record(cls, r: StationRecord) -> Station:
        return cls(
            id=to_global_id("Station", r.id),
            name=r.name,
            call_sign=r.call_sign,
            station_class=r.station_class,
            latitude=r.latitude,
            longitude=r.longitude,
            address=r.address,
            antenna_height_m=r.antenna_height_m,
            azimuth_deg=r.azimuth_deg,
            polarization=r.polarization,
            assignments=r.assignments,
        )


@strawberry.type(description="A radio permit (licence) from the permit registry.")
class Permit(Node):
    number: str = strawberry.field(description="Permit number.")
    service_type: ServiceType = strawberry.field(description="Radio service.")
    status: PermitStatus = strawberry.field(description="State of the permit.")
    issued_on: date = strawberry.field(description="Date of issue.")
    valid_from: date = strawberry.field(description="First day of validity.")
    valid_until: date | None = strawberry.field(description="Last day of validity; null when open-ended.")
    record: strawberry.Private[PermitRecord]
    # Fetched with the other rows of its page (resolvers.rows), when the page's resolver did so.
    page_stations: strawberry.Private[Rows[Sequence[StationRecord]]] = None

    @strawberry.field(description="The permit holder.")
    async def holder(self, info: Info) -> Annotated[Client, strawberry.lazy("schema.clients")]:
        from schema.clients import Client, prefetch_clients

        prefetch_clients(info, [self.record.holder_id])
        return Client.from_record(await resolve_clients.client(info.context, self.record.holder_id))

    def _stations_outcome(self) -> Outcome[Sequence[StationRecord]] | None:
        """The stations' outcome, when the page's resolver has fetched them."""
        rows = self.page_stations
        return rows.get(self.record.id) if rows is not None else None

    def _stations_ahead(self) -> list[Station]:
        """The stations, when the page's resolver has fetched them without error (else ``NOT_AHEAD``)."""
        outcome = self._stations_outcome()
        if outcome is None or outcome.error is not None:
            return NOT_AHEAD  # type: ignore[no-any-return]
        return convert_all(outcome.value, Station.from_record)

    @strawberry.field(
        description="The stations of the permit with their frequency assignments.",
        graphql_type=list[Station] | None,
    )
    @resolved_ahead(_stations_ahead)
    def stations(self, info: Info) -> list[Station] | Awaitable[list[Station]]:
        outcome = self._stations_outcome()
        if outcome is None:
            return self._stations(info)
        return convert_all(outcome.get(), Station.from_record)

    async def _stations(self, info: Info) -> list[Station]:
        if self.page_stations is not None:
            await self.page_stations  # graphql-core's path may ask before the page's load is in
        outcome = self._stations_outcome()
        if outcome is None:
            return convert_all(await resolve.stations(info.context, self.record), Station.from_record)
        return convert_all(outcome.get(), Station.from_record)

    @strawberry.field(description="Documents of the permit (needs DOCUMENTS_READ on the holder).")
    async def documents(self, info: Info) -> list[Document] | None:
        records = await resolve_documents.documents_of_permit(
            info.context, self.record.holder_id, self.record.id
        )
        return [Document.from_record(d) for d in records]

    @classmethod
    def from_record(cls, r: PermitRecord, stations: Rows[Sequence[StationRecord]] = None) -> Permit:
        return cls(
            id=to_global_id("Permit", r.id),
            number=r.number,
            service_type=ServiceType(r.service_type),
            status=PermitStatus(r.status),
            issued_on=r.issued_on,
            valid_from=r.valid_from,
            valid_until=r.valid_until,
            record=r,
            page_stations=stations,
        )


async def linked_permit(info: Info, permit_id: str | None) -> Permit | None:
    """A permit another record points at, under the same rule as any other (PERMITS_READ)."""
    if permit_id is None:
        return None
    record = await resolve.permit(info.context, permit_id)
    return Permit.from_record(record) if record else None
