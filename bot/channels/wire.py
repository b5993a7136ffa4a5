"""What every channel's wire format must hold before anything of it is stored.

Both databases refuse some text that JSON can carry: PostgreSQL stores no NUL character, and
neither can encode a lone UTF-16 surrogate ("\\ud800") as UTF-8. A body carrying them is
refused at the door (400) instead of failing at the insert (500) or, stored, failing every
retry after.
"""

import json
import re
from typing import Annotated, Any

from pydantic import AfterValidator

_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
MAX_PROVIDER_ID = 2**63 - 1  # Telegram's ids are 64-bit integers (they are stored as text)
MAX_NAME = 200  # a chat's display name is kept in a column of this size


def storable(text: str) -> str:
    """`text` itself; ValueError if a database could not store it."""
    if _UNSTORABLE.search(text):
        raise ValueError("text with a NUL character or a lone surrogate")
    return text


StorableText = Annotated[str, AfterValidator(storable)]


def check_storable(value: Any) -> None:
    """Every string (and key) of a parsed JSON value is storable; ValueError otherwise. The
    door bounds the depth, so the recursion is bounded too."""
    if isinstance(value, str):
        storable(value)
    elif isinstance(value, dict):
        for key, item in value.items():
            storable(key)
            check_storable(item)
    elif isinstance(value, list):
        for item in value:
            check_storable(item)


def json_object(body: bytes) -> dict[str, Any]:
    """A JSON object from a request body; ValueError for anything else (bad JSON, bad
    encoding, an array, a number too long to read)."""
    data = json.loads(body)
    if not isinstance(data, dict):
        raise ValueError("not a JSON object")
    return data
