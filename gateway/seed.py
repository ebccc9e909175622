"""Seeds the contract's sandbox personas into an empty database (sandbox runs only)."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy.exc import IntegrityError

from auth.accounts import Accounts
from auth.passwords import hash_password
from gateway.db import utcnow
from sandbox.personas import DEMO_PASSWORD, PERSONAS


async def seed_personas(accounts: Accounts) -> bool:
    """Create every persona with its mandates when there is no user yet; True when it seeded.

    Instances starting together may race here: the loser hits a unique e-mail and leaves it to the winner.
    """
    if await accounts.count_users() > 0:
        return False
    try:
        await _seed(accounts)
    except IntegrityError:
        return False
    return True


async def _seed(accounts: Accounts) -> None:
    password_hash = await asyncio.to_thread(hash_password, DEMO_PASSWORD)
    now = utcnow()
    today = now.date()
    for persona in PERSONAS:
        user_id = await accounts.create_user(
            email=persona.email,
            full_name=persona.full_name,
            phone=persona.phone,
            personal_code=persona.personal_code,
            self_client_id=persona.self_client_id,
            role=persona.role,
            password_hash=password_hash,
            password_changed_at=now - timedelta(days=persona.password_age_days),
        )
        for mandate in persona.mandates:
            await accounts.add_mandate(
                user_id=user_id,
                client_id=mandate.client_id,
                scopes=mandate.scopes,
                valid_from=today - timedelta(days=400),
                valid_until=persona.mandate_valid_until(mandate, today),
                revoked_at=now - timedelta(days=3) if mandate.revoked else None,
            )
