"""The pseudonymous citizen key in evaluation exports.

Exports never carry a CURP, a name or a phone number. To let evaluators still count repeat
visitors and follow one person's ratings over time, each row carries `citizen_key`: an
HMAC-SHA256 of the citizen's internal id under a server secret. The same citizen gets the same
key in every export while the secret stays the same; without the secret the key cannot be
traced back to the id, and the id itself is not personal data outside this database.
"""

import hashlib
import hmac

from sqlalchemy.ext.asyncio import AsyncSession

from casework.staff.instance_secrets import instance_secret
from foundation.settings import EvaluationSettings

SECRET_NAME = "pseudonym_key"  # the instance_settings key of the generated secret
KEY_HEX_CHARS = 20  # 80 bits: no collisions among a municipality's citizens in practice


def citizen_key(secret: bytes, citizen_id: int | None) -> str | None:
    """The pseudonym of a citizen, or None for ratings with no known citizen."""
    if citizen_id is None:
        return None
    digest = hmac.new(secret, str(citizen_id).encode(), hashlib.sha256).hexdigest()
    return digest[:KEY_HEX_CHARS]


async def pseudonym_secret(session: AsyncSession, settings: EvaluationSettings) -> bytes:
    """`VENTANILLA_PSEUDONYM_SECRET`, or a random secret generated once and kept in the
    database. Changing it changes every key (old and new exports can no longer be joined)."""
    if settings.pseudonym_secret:
        return settings.pseudonym_secret.encode()
    return (await instance_secret(session, SECRET_NAME)).encode()
