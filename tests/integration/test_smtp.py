"""Terms 13: the reset mail goes out over real SMTP (a local aiosmtpd server) and its link works."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from dataclasses import replace
from email import message_from_bytes
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from tests.conftest import GatewayFactory, gateway_settings
from tests.contract.test_personas import JANIS
from tests.integration.test_http import free_port


class Inbox:
    def __init__(self) -> None:
        self.mails: list[tuple[str, list[str], bytes]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.mails.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        return "250 Message accepted for delivery"


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


async def test_reset_mail_arrives_over_smtp_and_its_link_resets(
    make_gateway: GatewayFactory, tmp_path: Path, smtp: tuple[Inbox, int]
) -> None:
    inbox, port = smtp
    settings = replace(gateway_settings(tmp_path), smtp_url=f"smtp://127.0.0.1:{port}")
    gateway = await make_gateway(settings=settings)
    response = await gateway.client.post("/auth/password/forgot", json={"email": JANIS})
    assert response.status_code == 202
    for _ in range(50):
        if inbox.mails:
            break
        await asyncio.sleep(0.1)
    [(sender, recipients, content)] = inbox.mails
    assert recipients == [JANIS] and "noreply@radioatlaujas.lv" in sender
    mail = message_from_bytes(content)
    body = mail.get_payload(decode=True)
    assert isinstance(body, bytes)
    match = re.search(rb"/auth/password/reset\?token=([A-Za-z0-9_-]+)", body)
    assert match is not None
    reset = await gateway.client.post(
        "/auth/password/reset", json={"token": match.group(1).decode(), "newPassword": "Jauna-Parole-77"}
    )
    assert reset.status_code == 204
    await gateway.login(JANIS, "Jauna-Parole-77")
    assert not list(Path(settings.outbox_dir).glob("*.eml"))  # noqa: ASYNC240 (a test, reading one folder)
