"""Terms 9 in the logs: e-mail addresses and personal codes masked in every record; and API.md's "no upstream
detail ever reaches a client": a system's refusal is logged (masked), the client gets the gateway's words."""

from __future__ import annotations

import logging

import pytest
from graphql import GraphQLError

from adapters.errors import UpstreamConflict, UpstreamRejected
from gateway.errors import from_upstream
from gateway.redaction import mask_emails, mask_pii, mask_pii_in_logs
from schema.errors import format_error


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("mail sent to anna.ozola@example.lv: hi", "mail sent to a***@example.lv: hi"),
        ("From: Jānis <janis.berzins@esakari.example>", "From: Jānis <j***@esakari.example>"),
        ("to a+b@x.co and c_d@mail.example.lv", "to a***@x.co and c***@mail.example.lv"),
        ("no address here, 3 @ 4", "no address here, 3 @ 4"),
    ],
)
def test_e_mail_addresses_keep_their_first_letter_and_domain(text: str, masked: str) -> None:
    assert mask_emails(text) == masked


def test_pii_masks_addresses_and_personal_codes_but_not_company_numbers() -> None:
    text = "liga.liepa@example.lv 010190-12345 321234-56789 40003012345"
    assert mask_pii(text) == "l***@example.lv 010190-***** 321234-***** 40003012345"


def test_every_log_record_is_masked_whatever_its_logger(caplog: pytest.LogCaptureFixture) -> None:
    mask_pii_in_logs()
    mask_pii_in_logs()  # once is enough; a second call does not wrap twice
    with caplog.at_level(logging.INFO):
        logging.getLogger("gateway.mail").info("mail to %s: %s", "anna.ozola@example.lv", "Portal issue")
        logging.getLogger("somewhere.else").warning("code %s", "010190-12345")
        logging.getLogger("gateway.x").info("nothing personal: %d rows", 3)
    assert [r.getMessage() for r in caplog.records] == [
        "mail to a***@example.lv: Portal issue",
        "code 010190-*****",
        "nothing personal: 3 rows",
    ]


@pytest.mark.parametrize("refusal", [UpstreamRejected, UpstreamConflict])
def test_a_systems_refusal_reaches_the_log_not_the_client(
    refusal: type[UpstreamRejected], caplog: pytest.LogCaptureFixture
) -> None:
    mask_pii_in_logs()
    cause = refusal("billing", "row 7 of table inv_main: owner anna.ozola@example.lv is locked")
    translated = from_upstream(cause)
    translated.__cause__ = cause
    with caplog.at_level(logging.WARNING, logger="gateway.errors"):
        formatted = format_error(GraphQLError("x", original_error=translated), "req-1")
    assert formatted["extensions"] == {"code": "BAD_USER_INPUT", "requestId": "req-1"}
    assert "inv_main" not in formatted["message"] and "billing system" in formatted["message"]
    assert "request id" in formatted["message"]
    [logged] = [r.getMessage() for r in caplog.records]
    assert "req-1" in logged and "inv_main" in logged and "a***@example.lv" in logged
    raw = format_error(GraphQLError("x", original_error=cause), "req-2")  # raised untranslated
    assert raw["extensions"]["requestId"] == "req-2" and "inv_main" not in raw["message"]
