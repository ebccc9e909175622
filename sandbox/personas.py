"""The contract's sandbox personas (``shared/contract/API.md``): fixed ids every build ships.

The billing-side ids below are used by the sandbox systems' seed data; the portal users and their mandates are
seeded into the gateway's own database by ``gateway.seed``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

DEMO_PASSWORD = "Radio-2026"  # noqa: S105 (the contract's published sandbox password)

# Billing-system client ids of the contract's clients.
JANIS_CLIENT = "K100001"
BALTIJAS_RADIO_CLIENT = "K200001"
JURAS_SAKARI_CLIENT = "K200002"
ILZE_CLIENT = "K100002"

ALL_SCOPES = (
    "PERMITS_READ",
    "BILLING_READ",
    "PAYMENTS_MAKE",
    "DOCUMENTS_READ",
    "APPLICATIONS_SUBMIT",
    "REPORTS_GENERATE",
    "CONTACTS_UPDATE",
    "REPRESENTATIVES_MANAGE",
)


@dataclass(frozen=True)
class PersonaMandate:
    client_id: str
    scopes: tuple[str, ...]
    valid_until_days: int | None = None  # relative to today; negative = expired
    revoked: bool = False


@dataclass(frozen=True)
class Persona:
    email: str
    full_name: str
    personal_code: str | None
    phone: str | None
    self_client_id: str | None = None
    role: str = "USER"  # USER | STAFF
    password_age_days: int = 10
    mandates: tuple[PersonaMandate, ...] = field(default_factory=tuple)

    def mandate_valid_until(self, mandate: PersonaMandate, today: date) -> date | None:
        if mandate.valid_until_days is None:
            return None
        return today + timedelta(days=mandate.valid_until_days)


PERSONAS: tuple[Persona, ...] = (
    Persona(
        email="janis.berzins@example.lv",
        full_name="Jānis Bērziņš",
        personal_code="140385-12341",
        phone="+37129123456",
        self_client_id=JANIS_CLIENT,
    ),
    Persona(
        email="anna.ozola@example.lv",
        full_name="Anna Ozola",
        personal_code="030168-10774",
        phone="+37126555111",
        mandates=(
            PersonaMandate(BALTIJAS_RADIO_CLIENT, ALL_SCOPES, valid_until_days=365),
            PersonaMandate(JANIS_CLIENT, ("BILLING_READ",), valid_until_days=180),
        ),
    ),
    Persona(
        email="peteris.kalnins@example.lv",
        full_name="Pēteris Kalniņš",
        personal_code="220791-15123",
        phone="+37127333444",
        mandates=(
            PersonaMandate(BALTIJAS_RADIO_CLIENT, ("BILLING_READ", "PAYMENTS_MAKE", "DOCUMENTS_READ"), None),
        ),
    ),
    Persona(
        email="liga.liepa@example.lv",
        full_name="Līga Liepa",
        personal_code="111200-23455",
        phone="+37128777888",
        mandates=(
            PersonaMandate(JURAS_SAKARI_CLIENT, ALL_SCOPES, valid_until_days=-1),
            PersonaMandate(BALTIJAS_RADIO_CLIENT, ALL_SCOPES, valid_until_days=200, revoked=True),
        ),
    ),
    Persona(
        email="maris.ozolins@example.lv",
        full_name="Māris Ozoliņš",
        personal_code="290274-19004",
        phone="+37129000111",
        password_age_days=120,
        mandates=(PersonaMandate(JURAS_SAKARI_CLIENT, ALL_SCOPES, valid_until_days=730),),
    ),
    Persona(
        email="ilze.kalna@example.lv",
        full_name="Ilze Kalna",
        personal_code=None,
        phone="+37120202020",
        self_client_id=ILZE_CLIENT,
    ),
    Persona(
        email="staff@esakari.example",
        full_name="Portāla administrators",
        personal_code=None,
        phone=None,
        role="STAFF",
    ),
)
