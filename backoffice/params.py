"""Numbers a route takes from a path, a query or a form, bounded before any query sees them.

A row id is a 32-bit integer on PostgreSQL (foundation.db.MAX_ROW_ID): a larger one names
nothing, and PostgreSQL would refuse the query with an error. Ids outside 1 … 2^31 - 1 are
refused with 422 (FastAPI's validation, logged by the app), and numbers typed into filters
are read only when they fit.
"""

import re
from typing import Annotated

from fastapi import Path, Query

from foundation.db import MAX_ROW_ID

MAX_PAGE = 1_000_000
_ID = re.compile(r"[0-9]{1,10}")  # ASCII digits only: "²".isdigit() is true, int("²") fails

RowId = Annotated[int, Path(ge=1, le=MAX_ROW_ID, description="A database id")]
QueryId = Annotated[int | None, Query(ge=1, le=MAX_ROW_ID, description="A database id")]
Page = Annotated[int, Query(ge=1, le=MAX_PAGE, description="Page number, from 1")]


def id_in(text: str) -> int | None:
    """The id typed in a filter or a form field, or None when `text` is not one."""
    return int(text) if _ID.fullmatch(text) and int(text) <= MAX_ROW_ID else None
