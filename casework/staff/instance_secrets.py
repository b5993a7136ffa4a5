"""Per-installation secrets, generated on first use and kept in the database."""

import secrets

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from casework.staff.models import InstanceSetting
from foundation.db import insert_ignore


async def instance_secret(session: AsyncSession, key: str) -> str:
    """A random secret generated on first use and kept in the database."""
    await insert_ignore(session, InstanceSetting, {"key": key, "value": secrets.token_hex(32)})
    value = await session.scalar(select(InstanceSetting.value).where(InstanceSetting.key == key))
    assert value is not None
    return value
