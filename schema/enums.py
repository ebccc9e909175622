"""The contract's enums (``shared/contract/schema-outline.graphql``): names and values are fixed."""

from __future__ import annotations

from enum import Enum

import strawberry


@strawberry.enum(description="Natural or legal person (terms 2.3).")
class PersonKind(Enum):
    NATURAL_PERSON = "NATURAL_PERSON"
    LEGAL_PERSON = "LEGAL_PERSON"


@strawberry.enum(description="How the viewer acts for a client: as that person, or through a mandate.")
class AccessRole(Enum):
    SELF = "SELF"
    REPRESENTATIVE = "REPRESENTATIVE"


@strawberry.enum(description="Service scopes (terms 7, 8): what a user may do for a client.")
class Scope(Enum):
    PERMITS_READ = "PERMITS_READ"
    BILLING_READ = "BILLING_READ"
    PAYMENTS_MAKE = "PAYMENTS_MAKE"
    DOCUMENTS_READ = "DOCUMENTS_READ"
    APPLICATIONS_SUBMIT = "APPLICATIONS_SUBMIT"
    REPORTS_GENERATE = "REPORTS_GENERATE"
    CONTACTS_UPDATE = "CONTACTS_UPDATE"
    REPRESENTATIVES_MANAGE = "REPRESENTATIVES_MANAGE"


@strawberry.enum(description="The client's billing arrangement (terms 3).")
class BillingArrangement(Enum):
    INVOICE = "INVOICE"
    PREPAYMENT = "PREPAYMENT"
    DIRECT_DEBIT = "DIRECT_DEBIT"


@strawberry.enum(description="Radio service of a permit.")
class ServiceType(Enum):
    LAND_MOBILE = "LAND_MOBILE"
    FIXED = "FIXED"
    BROADCASTING = "BROADCASTING"
    SATELLITE = "SATELLITE"
    MARITIME = "MARITIME"
    AERONAUTICAL = "AERONAUTICAL"
    AMATEUR = "AMATEUR"


@strawberry.enum(description="State of a permit.")
class PermitStatus(Enum):
    VALID = "VALID"
    SUSPENDED = "SUSPENDED"
    EXPIRED = "EXPIRED"
    CANCELLED = "CANCELLED"


@strawberry.enum(description="Settlement state of an invoice.")
class InvoiceStatus(Enum):
    UNPAID = "UNPAID"
    PARTIALLY_PAID = "PARTIALLY_PAID"
    PAID = "PAID"
    OVERDUE = "OVERDUE"
    CANCELLED = "CANCELLED"


@strawberry.enum(description="Kind of a document in the document store.")
class DocumentKind(Enum):
    INVOICE = "INVOICE"
    PERMIT = "PERMIT"
    APPLICATION = "APPLICATION"
    RECEIPT = "RECEIPT"
    REPORT = "REPORT"
    CORRESPONDENCE = "CORRESPONDENCE"


@strawberry.enum(description="Kind of an application to the company.")
class ApplicationKind(Enum):
    NEW_PERMIT = "NEW_PERMIT"
    AMEND_PERMIT = "AMEND_PERMIT"
    RENEW_PERMIT = "RENEW_PERMIT"
    CANCEL_PERMIT = "CANCEL_PERMIT"
    SERVICE_REGISTRATION = "SERVICE_REGISTRATION"
    SERVICE_CANCELLATION = "SERVICE_CANCELLATION"
    FREE_FORM = "FREE_FORM"


@strawberry.enum(description="Where an application stands.")
class ApplicationStatus(Enum):
    SUBMITTED = "SUBMITTED"
    IN_REVIEW = "IN_REVIEW"
    APPROVED = "APPROVED"
    REJECTED = "REJECTED"


@strawberry.enum(description="Kind of a generated report.")
class ReportKind(Enum):
    STATEMENT = "STATEMENT"
    RECONCILIATION = "RECONCILIATION"


@strawberry.enum(description="Settlement state of a client, for partner banks.")
class SettlementState(Enum):
    SETTLED = "SETTLED"
    OUTSTANDING = "OUTSTANDING"
    OVERDUE = "OVERDUE"


@strawberry.enum(description="State of a portal account (terms 5, 12, 21).")
class AccountState(Enum):
    ACTIVE = "ACTIVE"
    LOCKED = "LOCKED"
    BLOCKED = "BLOCKED"
    TERMINATED = "TERMINATED"


@strawberry.enum(description="Why an account was blocked or terminated (terms 5, 21).")
class AccountStateReason(Enum):
    USER_REQUEST = "USER_REQUEST"
    NO_LEGAL_BASIS = "NO_LEGAL_BASIS"
    SUSPECTED_MISUSE = "SUSPECTED_MISUSE"
    TERMS_VIOLATION = "TERMS_VIOLATION"
