"""Anonymised rating rows for evaluators: API pages, CSV and XLSX exports.

Each row is one survey sent (answered or not) within a Scope, by the day it was sent (local
time). It carries no CURP, name or phone: the citizen appears only as a pseudonymous key
(`pseudonym.citizen_key`), and CURPs, phone numbers, e-mail addresses, folios and the
citizen's own name are masked inside comments.

Exports are read with SQLAlchemy Core, not ORM objects, and written in chunks of many rows, so
memory stays flat whatever the size: on PostgreSQL one read-only transaction runs one
statement through a server-side cursor; on SQLite, where any transaction holds the single
writer's lock, the rows are read in short keyset batches so the bot is never kept waiting.
"""

import asyncio
import base64
import binascii
import csv
import io
import os
import re
import tempfile
from collections.abc import AsyncIterator, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import DateTime, Row, Select, and_, case, select, type_coerce
from sqlalchemy.ext.asyncio import AsyncConnection

from casework.citizens.models import ChannelIdentity, Citizen
from casework.conversations.models import Conversation
from casework.db import Database
from casework.indicators.pseudonym import citizen_key
from casework.indicators.scope import Scope
from casework.ratings.models import Rating, RatingDimensionScore
from catalog.models import Department, Procedure
from nlu.entities import CURP, EMAIL, FOLIO, PHONE

MASK = "[dato personal]"
MAX_PAGE = 1000  # rows per API page, at most
CHUNK_ROWS = 5000  # rows fetched and written at a time by the exports
TIMEZONE = "America/Mexico_City"
XLSX_SHEET_ROWS = 1_048_575  # Excel's limit (1,048,576) less the header row
SUBJECTS = {"request": "solicitud", "handoff": "canalizacion"}
HEAD = (
    "id",
    "enviada_en",
    "respondida_en",
    "canal",
    "asunto",
    "tramite_id",
    "tramite",
    "area_id",
    "area",
    "calificacion",
)
TAIL = ("comentario", "ciudadano")

# A name introduced in the text ("me llamo Juan Pérez", "mi nombre es ..."): the words after it.
_SELF_NAMED = re.compile(
    r"\b(me llamo|mi nombre es|atentamente)\b(\s*[:,]?\s*)((?:[^\W\d_]+\.?\s*){1,4})",
    re.IGNORECASE,
)
_REPEATED = re.compile(rf"{re.escape(MASK)}(?:[\s,]*{re.escape(MASK)})+")


def _mask_introduced_name(match: re.Match[str]) -> str:
    words = match.group(3)
    return f"{match.group(1)}{match.group(2)}{MASK}{words[len(words.rstrip()) :]}"


class ExportError(ValueError):
    pass


def columns(dimensions: Sequence[str]) -> list[str]:
    """The header of the CSV and XLSX exports."""
    return [*HEAD, *(f"calificacion_{d}" for d in dimensions), *TAIL]


def mask_personal_data(text: str, names: Iterable[str | None] = ()) -> str:
    """`text` with CURPs, folios, e-mails, phone numbers and the given names (the citizen's,
    the chat's display name) replaced by "[dato personal]", and so any name introduced with
    "me llamo" or "mi nombre es". Masks too much rather than too little."""
    for pattern in (CURP, FOLIO, EMAIL, PHONE):
        text = pattern.sub(MASK, text)
    text = _SELF_NAMED.sub(_mask_introduced_name, text)
    for name in names:
        if not name:
            continue
        parts = [p for p in re.split(r"\W+", name) if len(p) >= 3]
        for part in sorted(parts, key=len, reverse=True):
            text = re.sub(rf"\b{re.escape(part)}\b", MASK, text, flags=re.IGNORECASE)
    return _REPEATED.sub(MASK, text)


# --- the query --------------------------------------------------------------------------------


def _plain_datetime(column: Any) -> Any:
    """The column read as a bare DateTime: skips the per-value UTC type decorator (the rows
    are normalised in `_Shaper`), which counts at a million rows."""
    return type_coerce(column, DateTime(timezone=True))


def _select(scope: Scope, timezone: str, dimensions: Sequence[str]) -> Select[Any]:
    ratings = Rating.__table__
    procedures = Procedure.__table__
    departments = Department.__table__
    start, end = scope.bounds(timezone)
    source = ratings.outerjoin(procedures, procedures.c.id == ratings.c.procedure_id).outerjoin(
        departments, departments.c.id == ratings.c.department_id
    )
    scores = []
    for number, dimension in enumerate(dimensions):
        alias = RatingDimensionScore.__table__.alias(f"dim{number}")
        source = source.outerjoin(
            alias, and_(alias.c.rating_id == ratings.c.id, alias.c.dimension == dimension)
        )
        scores.append(alias.c.score)
    # The names to mask in a comment, read only for rows that have one.
    citizen_name = select(Citizen.name).where(Citizen.id == ratings.c.citizen_id).scalar_subquery()
    display_name = (
        select(ChannelIdentity.display_name)
        .join(Conversation, Conversation.identity_id == ChannelIdentity.id)
        .where(Conversation.id == ratings.c.conversation_id)
        .scalar_subquery()
    )
    has_comment = ratings.c.comment.is_not(None)
    query = (
        select(
            ratings.c.id,
            _plain_datetime(ratings.c.asked_at),
            _plain_datetime(ratings.c.answered_at),
            ratings.c.channel,
            ratings.c.subject,
            ratings.c.procedure_id,
            procedures.c.name,
            ratings.c.department_id,
            departments.c.name,
            ratings.c.score,
            *scores,
            ratings.c.comment,
            ratings.c.citizen_id,
            case((has_comment, citizen_name), else_=None),
            case((has_comment, display_name), else_=None),
        )
        .select_from(source)
        .where(ratings.c.asked_at >= start, ratings.c.asked_at < end)
        .order_by(ratings.c.id)
    )
    if scope.procedure_id:
        query = query.where(ratings.c.procedure_id == scope.procedure_id)
    if scope.department_id:
        query = query.where(ratings.c.department_id == scope.department_id)
    if scope.channel:
        query = query.where(ratings.c.channel == scope.channel)
    return query


async def _dimensions(conn: AsyncConnection) -> list[str]:
    """Every extra dimension that has scores or is switched on somewhere, in name order."""
    from casework.ratings.models import SurveyDimension

    scored = select(RatingDimensionScore.dimension).distinct()
    enabled = select(SurveyDimension.dimension).distinct()
    found = set(await conn.scalars(scored)) | set(await conn.scalars(enabled))
    return sorted(found)


class _Shaper:
    """Turns query rows into export values: local ISO times, Spanish subject names, masked
    comments and citizen keys (cached: citizens repeat)."""

    def __init__(self, secret: bytes, timezone: str, dimensions: Sequence[str]) -> None:
        self.secret = secret
        self.zone = ZoneInfo(timezone)
        self.width = len(dimensions)
        self.keys: dict[int, str | None] = {}

    def local(self, value: datetime | None) -> str | None:
        if value is None:
            return None
        if value.tzinfo is None:  # SQLite keeps UTC without an offset
            value = value.replace(tzinfo=UTC)
        return value.astimezone(self.zone).isoformat(timespec="seconds")

    def key(self, citizen_id: int | None) -> str | None:
        if citizen_id is None:
            return None
        found = self.keys.get(citizen_id)
        if found is None:
            if len(self.keys) > 200_000:
                self.keys.clear()
            found = self.keys[citizen_id] = citizen_key(self.secret, citizen_id)
        return found

    def values(self, row: Row[Any]) -> list[Any]:
        """The flat export values, in `columns()` order."""
        width = self.width
        comment = row[10 + width]
        if comment:
            comment = mask_personal_data(comment, (row[12 + width], row[13 + width]))
        return [
            row[0],
            self.local(row[1]),
            self.local(row[2]),
            row[3],
            SUBJECTS.get(row[4], row[4]),
            *row[5 : 10 + width],
            comment,
            self.key(row[11 + width]),
        ]

    def record(self, row: Row[Any], dimensions: Sequence[str]) -> dict[str, Any]:
        """One row for the JSON API, the dimension scores grouped."""
        values = self.values(row)
        scores = values[10 : 10 + self.width]
        record = dict(zip(HEAD, values[:10], strict=True))
        record["dimensiones"] = {
            d: score for d, score in zip(dimensions, scores, strict=True) if score is not None
        }
        record["comentario"], record["ciudadano"] = values[-2], values[-1]
        return record


# --- API pages ---------------------------------------------------------------------------------


def encode_cursor(last_id: int) -> str:
    return base64.urlsafe_b64encode(f"r{last_id}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> int:
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        text = ""
    if not re.fullmatch(r"r\d{1,18}", text):
        raise ExportError("el cursor no es válido; use el next_cursor de la página anterior")
    return int(text[1:])


@dataclass(frozen=True)
class RatingPage:
    rows: list[dict[str, Any]]
    next_cursor: str | None  # None on the last page


async def rating_page(
    conn: AsyncConnection,
    scope: Scope,
    secret: bytes,
    *,
    cursor: str | None = None,
    limit: int = 100,
    timezone: str = TIMEZONE,
) -> RatingPage:
    """One page of rows in id order, after `cursor` (keyset pagination: a row added or removed
    meanwhile never shifts the pages, and each row comes exactly once)."""
    if not 1 <= limit <= MAX_PAGE:
        raise ExportError(f"limit debe estar entre 1 y {MAX_PAGE}")
    after = decode_cursor(cursor) if cursor else None
    dimensions = await _dimensions(conn)
    query = _select(scope, timezone, dimensions)
    if after is not None:
        query = query.where(Rating.__table__.c.id > after)
    rows = (await conn.execute(query.limit(limit + 1))).all()
    shaper = _Shaper(secret, timezone, dimensions)
    records = [shaper.record(row, dimensions) for row in rows[:limit]]
    more = len(rows) > limit
    return RatingPage(records, encode_cursor(records[-1]["id"]) if more else None)


# --- exports -----------------------------------------------------------------------------------


async def _partitions(
    db: Database, scope: Scope, timezone: str, dimensions: Sequence[str], chunk_rows: int
) -> AsyncIterator[Sequence[Row[Any]]]:
    """The scope's rows in id order, `chunk_rows` at a time."""
    query = _select(scope, timezone, dimensions)
    if db.engine.dialect.name == "postgresql":
        async with db.engine.connect() as conn:
            conn = await conn.execution_options(postgresql_readonly=True)
            result = await conn.stream(query.execution_options(yield_per=chunk_rows))
            async for partition in result.partitions(chunk_rows):
                yield partition
        return
    last: int | None = None
    while True:
        batch = query if last is None else query.where(Rating.__table__.c.id > last)
        async with db.transaction() as session:
            rows = (await session.execute(batch.limit(chunk_rows))).all()
        if rows:
            yield rows
        if len(rows) < chunk_rows:
            return
        last = rows[-1][0]


async def export_dimensions(db: Database) -> list[str]:
    async with db.engine.connect() as conn:
        return await _dimensions(conn)


async def csv_chunks(
    db: Database,
    scope: Scope,
    secret: bytes,
    timezone: str = TIMEZONE,
    chunk_rows: int = CHUNK_ROWS,
) -> AsyncIterator[bytes]:
    """The scope's rows as UTF-8 CSV (comma-separated, header first), in chunks of
    `chunk_rows` rows. Memory stays flat whatever the number of rows."""
    dimensions = await export_dimensions(db)
    shaper = _Shaper(secret, timezone, dimensions)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(columns(dimensions))
    values = shaper.values
    async for partition in _partitions(db, scope, timezone, dimensions, chunk_rows):
        writer.writerows([values(row) for row in partition])
        yield buffer.getvalue().encode()
        buffer.seek(0)
        buffer.truncate()
    if buffer.tell():
        yield buffer.getvalue().encode()


async def xlsx_path(
    db: Database,
    scope: Scope,
    secret: bytes,
    timezone: str = TIMEZONE,
    chunk_rows: int = CHUNK_ROWS,
) -> str:
    """Write the scope's rows to a new temporary .xlsx file (openpyxl's write-only mode:
    rows go to disk as they come) and return its path; the caller deletes it. Past Excel's
    row limit the rows go on in another sheet."""
    from openpyxl import Workbook

    dimensions = await export_dimensions(db)
    shaper = _Shaper(secret, timezone, dimensions)
    header = columns(dimensions)
    workbook = Workbook(write_only=True)
    state = {"sheet": None, "rows": XLSX_SHEET_ROWS, "number": 0}

    def append(rows: list[list[Any]]) -> None:
        for row in rows:
            if state["rows"] >= XLSX_SHEET_ROWS:
                state["number"] += 1
                title = "calificaciones"
                if state["number"] > 1:
                    title = f"calificaciones {state['number']}"
                state["sheet"] = workbook.create_sheet(title)
                state["sheet"].append(header)
                state["rows"] = 0
            state["sheet"].append(row)
            state["rows"] += 1

    handle, path = tempfile.mkstemp(prefix="ventanilla-", suffix=".xlsx")
    os.close(handle)
    try:
        async for partition in _partitions(db, scope, timezone, dimensions, chunk_rows):
            rows = [shaper.values(row) for row in partition]
            await asyncio.to_thread(append, rows)
        if state["sheet"] is None:  # no rows: the header alone
            workbook.create_sheet("calificaciones").append(header)
        await asyncio.to_thread(workbook.save, path)
    except BaseException:
        os.unlink(path)
        raise
    return path


async def xlsx_chunks(
    db: Database,
    scope: Scope,
    secret: bytes,
    timezone: str = TIMEZONE,
    chunk_rows: int = CHUNK_ROWS,
) -> AsyncIterator[bytes]:
    """The XLSX export as bytes: built in a temporary file, streamed, then deleted."""
    path = await xlsx_path(db, scope, secret, timezone, chunk_rows)
    try:
        with open(path, "rb") as handle:  # noqa: ASYNC230 - a local temporary file
            while chunk := await asyncio.to_thread(handle.read, 256 * 1024):
                yield chunk
    finally:
        os.unlink(path)
