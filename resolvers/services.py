"""The long-lived services a request may use, created once at start-up by ``gateway.wiring``."""

from __future__ import annotations

from dataclasses import dataclass

from adapters.billing.port import BillingPort
from adapters.documents.port import DocumentsPort
from adapters.permits.port import PermitsPort
from auth.accounts import Accounts
from auth.banks import BankTokens, RateLimits
from auth.identity import Identity
from auth.links import LinkSigner
from auth.policy import PolicyFile
from auth.receipts import ReceiptSigner
from auth.sessions import Sessions
from gateway.audit import AuditJournal
from gateway.idempotency import IdempotentRequests
from gateway.mail import Mailer
from gateway.outbox import Outbox
from gateway.settings import Settings
from gateway.store import Store
from schema.trusted import TrustedDocuments


@dataclass
class Services:
    settings: Settings
    store: Store
    accounts: Accounts
    sessions: Sessions
    policy: PolicyFile
    links: LinkSigner
    mailer: Mailer
    identity: Identity
    billing: BillingPort
    permits: PermitsPort
    documents: DocumentsPort
    bank_tokens: BankTokens
    rate_limits: RateLimits
    trusted: TrustedDocuments
    receipts: ReceiptSigner
    idempotency: IdempotentRequests
    outbox: Outbox
    audit: AuditJournal
