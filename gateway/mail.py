"""Outgoing mail: SMTP with ``SMTP_URL`` (aiosmtplib), otherwise files under ``var/outbox/``.

``SMTP_URL`` is ``smtp://[user:password@]host[:port]`` (STARTTLS when the server offers it) or
``smtps://...`` (TLS from the start). Logs name the recipient and subject, never the body: it may hold a
one-time link.
"""

from __future__ import annotations

import logging
import time
import uuid
from email.message import EmailMessage
from pathlib import Path
from typing import Protocol
from urllib.parse import unquote, urlsplit

import aiosmtplib

log = logging.getLogger("gateway.mail")

SENDER = "Elektroniskie sakari <noreply@radioatlaujas.lv>"


def message(to: str, subject: str, body: str) -> EmailMessage:
    mail = EmailMessage()
    mail["From"] = SENDER
    mail["To"] = to
    mail["Subject"] = subject
    mail["Message-ID"] = f"<{uuid.uuid4().hex}@radioatlaujas.lv>"
    mail.set_content(body)
    return mail


class Mailer(Protocol):
    async def send(self, mail: EmailMessage) -> None: ...


class SmtpMailer:
    def __init__(self, url: str, timeout: float = 10.0) -> None:
        parts = urlsplit(url)
        self.host = parts.hostname or "localhost"
        self.use_tls = parts.scheme == "smtps"
        self.port = parts.port or (465 if self.use_tls else 25)
        self.username = unquote(parts.username) if parts.username else None
        self.password = unquote(parts.password) if parts.password else None
        self.timeout = timeout

    async def send(self, mail: EmailMessage) -> None:
        await aiosmtplib.send(
            mail,
            hostname=self.host,
            port=self.port,
            username=self.username,
            password=self.password,
            use_tls=self.use_tls,
            start_tls=None if not self.use_tls else False,
            timeout=self.timeout,
        )
        log.info("mail sent to %s: %s", mail["To"], mail["Subject"])


class FileMailer:
    """Writes each mail as an .eml file: the embedded default, so a developer can read what would go out."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    async def send(self, mail: EmailMessage) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        path = self.directory / f"{time.strftime('%Y%m%dT%H%M%S')}-{uuid.uuid4().hex[:8]}.eml"
        path.write_bytes(bytes(mail))
        log.info("mail to %s written to %s: %s", mail["To"], path, mail["Subject"])


def create_mailer(smtp_url: str | None, outbox: Path) -> Mailer:
    return SmtpMailer(smtp_url) if smtp_url else FileMailer(outbox)
