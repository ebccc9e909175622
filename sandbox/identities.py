"""Who the sandbox identity broker and partner banks know: persons with personal codes, and OAuth clients.

Names and codes of the portal personas come from ``sandbox.personas``, so the broker, the banks and the seeded
portal accounts can never disagree. Two persons are added on purpose: Kārlis Kalns has a valid personal code
but no portal account (a login that must be refused), and Elza Vītola has a new-format (``32...``) code.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from sandbox.personas import PERSONAS

# Registration numbers of the contract's legal persons, for the broker's ``representation`` claim.
BALTIJAS_RADIO_REG = "40003571601"
JURAS_SAKARI_REG = "40003128709"

GATEWAY_CLIENT_ID = "esakari-gateway"
GATEWAY_CLIENT_SECRET = "esakari-gateway-secret"  # noqa: S105 (a published sandbox credential)
GATEWAY_AUDIENCE = "esakari-gateway"
GATEWAY_CALLBACK_PATH = "/auth/unified/callback"
BANK_IDS = ("demo-bank", "other-bank")
SETTLEMENT_SCOPE = "settlement:read"

# A fixed namespace so that ``sub`` stays the same for a person across restarts and instances.
_SUB_NAMESPACE = uuid.UUID("6f1c8a52-3d0e-4c1b-9a57-2b8e0c4d7f10")


@dataclass(frozen=True)
class Person:
    """A natural person as the unified-login broker (and a bank) identifies them."""

    given_name: str
    family_name: str
    personal_code: str
    amr: tuple[str, ...] = ("eid",)  # how they authenticate at the broker: eid, eparaksts, bank, ...
    representation: tuple[str, ...] = ()  # "DP:<reg. no.>-PK:<personal code>" per legal person represented

    @property
    def name(self) -> str:
        """Given and family name."""
        return f"{self.given_name} {self.family_name}"

    @property
    def sub(self) -> str:
        """The broker's stable subject identifier (derived from the personal code, never the code itself)."""
        return str(uuid.uuid5(_SUB_NAMESPACE, self.personal_code))


def _split(full_name: str) -> tuple[str, str]:
    given, _, family = full_name.rpartition(" ")
    return given, family


def _persona(code: str, amr: str, represents: Iterable[str] = ()) -> Person:
    persona = next(p for p in PERSONAS if p.personal_code == code)
    given, family = _split(persona.full_name)
    return Person(given, family, code, (amr,), tuple(f"DP:{reg}-PK:{code}" for reg in represents))


def default_persons() -> tuple[Person, ...]:
    """Every persona with a personal code, one person without a portal account, one new-format code."""
    return (
        _persona("140385-12341", "eid"),  # Jānis Bērziņš
        _persona("030168-10774", "eparaksts", [BALTIJAS_RADIO_REG]),  # Anna Ozola
        _persona("220791-15123", "bank", [BALTIJAS_RADIO_REG]),  # Pēteris Kalniņš
        _persona("111200-23455", "eparaksts_mobile"),  # Līga Liepa
        _persona("290274-19004", "eid", [JURAS_SAKARI_REG]),  # Māris Ozoliņš
        Person("Kārlis", "Kalns", "050982-12346", ("bank",)),  # valid code, no portal account
        Person("Elza", "Vītola", "321456-78901", ("eidas",)),  # new-format code, no portal account
    )


def normalize_code(code: str) -> str:
    """``DDMMYYCNNNN`` or ``DDMMYY-CNNNN`` (surrounding blanks allowed) as ``DDMMYY-CNNNN``."""
    compact = code.strip().replace("-", "")
    return f"{compact[:6]}-{compact[6:]}" if len(compact) == 11 and compact.isdigit() else code.strip()


def persons_by_code(persons: Iterable[Person]) -> dict[str, Person]:
    """Persons keyed by their (normalized) personal code."""
    return {normalize_code(p.personal_code): p for p in persons}


@dataclass(frozen=True)
class OidcClient:
    """A client registered at the broker.

    ``redirect_uris`` entries are exact URIs, or ``*<path>``: any http(s) origin followed by exactly that path
    (the sandbox is reached under many hosts and ports, but the path stays fixed).
    """

    client_id: str
    client_secret: str
    grant_types: frozenset[str]
    redirect_uris: tuple[str, ...] = ()
    scopes: frozenset[str] = frozenset()  # scopes the client-credentials grant may give

    def allows_redirect(self, uri: str) -> bool:
        """True when ``uri`` matches a registration (no fragment ever: RFC 6749 section 3.1.2)."""
        parts = urlsplit(uri)
        if parts.fragment or parts.scheme not in ("http", "https") or not parts.netloc:
            return False
        for registered in self.redirect_uris:
            if registered.startswith("*"):
                if parts.path == registered[1:] and not parts.query:
                    return True
            elif uri == registered:
                return True
        return False


def default_clients() -> tuple[OidcClient, ...]:
    """The gateway (authorization code) and the two partner banks (client credentials)."""
    return (
        OidcClient(
            GATEWAY_CLIENT_ID,
            GATEWAY_CLIENT_SECRET,
            frozenset({"authorization_code"}),
            redirect_uris=(f"*{GATEWAY_CALLBACK_PATH}",),
        ),
        *(
            OidcClient(
                bank,
                f"{bank}-secret",
                frozenset({"client_credentials"}),
                scopes=frozenset({SETTLEMENT_SCOPE}),
            )
            for bank in BANK_IDS
        ),
    )


def clients_by_id(clients: Iterable[OidcClient]) -> Mapping[str, OidcClient]:
    """Clients keyed by id."""
    return {c.client_id: c for c in clients}
