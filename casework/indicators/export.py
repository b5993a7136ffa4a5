"""Anonymised rating rows for evaluators: API pages, CSV and XLSX exports.

Each row is one survey sent (answered or not) within a Scope, by the day it was sent (local
time). It carries no CURP, name or phone: the citizen appears only as a pseudonymous key
(`pseudonym.citizen_key`), and personal data inside comments is masked by the one function
every such path uses (`casework.privacy.masking`). No CSV cell starts a spreadsheet formula.

Times are local (settings.timezone) to the second with their UTC offset, "2026-03-10
23:30:00-06", the way PostgreSQL writes them, on every path.

Exports never hold the rows in memory. On PostgreSQL the CSV is written by the database
itself (COPY of one statement in one read-only transaction) and only the comments are masked
in Python, read on a second connection that shares the COPY's snapshot; the XLSX reads the
same rows through a server-side cursor (SQLAlchemy Core, no ORM objects). On SQLite, where any
transaction holds the single writer's lock, rows are read in short keyset batches so the bot
is never kept waiting.
"""

import asyncio
import base64
import binascii
import contextlib
import csv
import hashlib
import io
import os
import re
import tempfile
from collections import deque
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import DateTime, Select, and_, case, select, text, type_coerce
from sqlalchemy.ext.asyncio import AsyncConnection

from casework.citizens.models import ChannelIdentity, Citizen
from casework.conversations.models import Conversation
from casework.indicators.pseudonym import KEY_HEX_CHARS, citizen_key
from casework.indicators.scope import Scope, scope_filters
from casework.privacy.masking import mask_personal_data
from casework.ratings.models import Rating, RatingDimensionScore
from catalog.models import Department, Procedure
from foundation.db import AnyRow, Database

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


class ExportError(ValueError):
    pass


def columns(dimensions: Sequence[str]) -> list[str]:
    """The header of the CSV and XLSX exports."""
    return [*HEAD, *(f"calificacion_{d}" for d in dimensions), *TAIL]


# What starts a formula in a spreadsheet (OWASP, "CSV injection"), also after leading blanks
# and in its full-width and small forms: such a cell gets a leading apostrophe. Written with
# literal characters only, so Python's re and PostgreSQL's regular expressions read it alike.
_BLANKS = " \t\r\n\v\f\u00a0\u1680\u2000-\u200b\u2028\u2029\u202f\u205f\u3000\ufeff"
_TRIGGERS = "=+@\t\r\n\uff1d\uff0b\uff0d\uff20\ufe66\ufe62\ufe63\ufe6b\u2212-"
FORMULA_START = f"^[{_BLANKS}]*[{_TRIGGERS}]"
_FORMULA = re.compile(FORMULA_START)


def spreadsheet_safe(text: str | None) -> str | None:
    """A CSV cell a spreadsheet will not run as a formula, its line breaks all "\n" (a bare
    "\r" is not quoted by Python's csv writer, and readers would split the row there)."""
    if not text:
        return text
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return "'" + text if _FORMULA.match(text) else text


# --- the query --------------------------------------------------------------------------------


def _plain_datetime(column: Any) -> Any:
    """The column read as a bare DateTime: skips the per-value UTC type decorator (the rows
    are normalised in `_Shaper`), which counts at a million rows."""
    return type_coerce(column, DateTime(timezone=True))


def _names() -> tuple[Any, Any]:
    """The names to mask in a rating's comment: the citizen's and the chat's display name."""
    ratings = Rating.__table__
    citizen_name = select(Citizen.name).where(Citizen.id == ratings.c.citizen_id).scalar_subquery()
    display_name = (
        select(ChannelIdentity.display_name)
        .join(Conversation, Conversation.identity_id == ChannelIdentity.id)
        .where(Conversation.id == ratings.c.conversation_id)
        .scalar_subquery()
    )
    return citizen_name, display_name


def _in_scope(query: Select[Any], scope: Scope, timezone: str) -> Select[Any]:
    ratings = Rating.__table__
    start, end = scope.bounds(timezone)
    query = query.where(
        ratings.c.asked_at >= start,
        ratings.c.asked_at < end,
        *scope_filters(
            scope,
            procedure=ratings.c.procedure_id,
            department=ratings.c.department_id,
            channel=ratings.c.channel,
        ),
    )
    return query.order_by(ratings.c.id)


def _comment_select(scope: Scope, timezone: str) -> Select[Any]:
    """id, comment and the names to mask in it, for the rows of the scope with a comment."""
    ratings = Rating.__table__
    citizen_name, display_name = _names()
    query = select(ratings.c.id, ratings.c.comment, citizen_name, display_name)
    return _in_scope(query.where(ratings.c.comment.is_not(None)), scope, timezone)


def _select(
    scope: Scope, timezone: str, dimensions: Sequence[str], names: bool = True
) -> Select[Any]:
    ratings = Rating.__table__
    procedures = Procedure.__table__
    departments = Department.__table__
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
    citizen_name, display_name = _names() if names else (None, None)
    has_comment = ratings.c.comment.is_not(None)
    query = select(
        ratings.c.id.label("id"),
        _plain_datetime(ratings.c.asked_at).label("asked_at"),
        _plain_datetime(ratings.c.answered_at).label("answered_at"),
        ratings.c.channel.label("channel"),
        ratings.c.subject.label("subject"),
        ratings.c.procedure_id.label("procedure_id"),
        procedures.c.name.label("procedure_name"),
        ratings.c.department_id.label("department_id"),
        departments.c.name.label("department_name"),
        ratings.c.score.label("score"),
        *(score.label(f"dim{n}") for n, score in enumerate(scores)),
        ratings.c.comment.label("comment"),
        ratings.c.citizen_id.label("citizen_id"),
        *(
            (
                case((has_comment, citizen_name), else_=None).label("citizen_name"),
                case((has_comment, display_name), else_=None).label("display_name"),
            )
            if names
            else ()
        ),
    ).select_from(source)
    return _in_scope(query, scope, timezone)


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
        """Local time to the second with its UTC offset, as PostgreSQL writes it in the CSV
        export: "2026-03-10 23:30:00-06" (ISO 8601 with a space)."""
        if value is None:
            return None
        if value.tzinfo is None:  # SQLite keeps UTC without an offset
            value = value.replace(tzinfo=UTC)
        local = value.astimezone(self.zone)
        offset = local.utcoffset()
        minutes = int(offset.total_seconds()) // 60 if offset else 0
        hours, rest = divmod(abs(minutes), 60)
        sign = "-" if minutes < 0 else "+"
        suffix = f"{sign}{hours:02d}" + (f":{rest:02d}" if rest else "")
        return f"{local:%Y-%m-%d %H:%M:%S}{suffix}"

    def key(self, citizen_id: int | None) -> str | None:
        if citizen_id is None:
            return None
        found = self.keys.get(citizen_id)
        if found is None:
            if len(self.keys) > 200_000:
                self.keys.clear()
            found = self.keys[citizen_id] = citizen_key(self.secret, citizen_id)
        return found

    def values(self, row: AnyRow) -> list[Any]:
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

    def record(self, row: AnyRow, dimensions: Sequence[str]) -> dict[str, Any]:
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
    if not re.fullmatch(r"r[0-9]{1,18}", text):
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
) -> AsyncIterator[Sequence[AnyRow]]:
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


def _hmac_pads(secret: bytes) -> tuple[str, str]:
    """HMAC-SHA256's inner and outer padded keys (RFC 2104), in hex: with them PostgreSQL's
    own sha256() computes exactly `pseudonym.citizen_key`."""
    key = hashlib.sha256(secret).digest() if len(secret) > 64 else secret
    key = key.ljust(64, b"\0")
    return bytes(b ^ 0x36 for b in key).hex(), bytes(b ^ 0x5C for b in key).hex()


_PLACEHOLDER = re.compile(rb"\x01(\d+)")
_SNAPSHOT = re.compile(r"[0-9A-F]+-[0-9A-F]+(-[0-9A-F]+)?")


def _pg_copy_sql(scope: Scope, timezone: str, dimensions: Sequence[str], dialect: Any) -> str:
    """The export as one PostgreSQL query whose columns are the CSV's, for COPY: times to the
    second in the session's time zone, subjects in Spanish, citizen keys computed once per
    citizen from the padded HMAC keys set in the transaction (never in the statement's text).
    A comment is left as a placeholder, \\x01 and the row's id, filled in by Python."""
    inner = _select(scope, timezone, dimensions, names=False).compile(
        dialect=dialect, compile_kwargs={"literal_binds": True}
    )
    subjects = " ".join(f"WHEN '{k}' THEN '{v}'" for k, v in SUBJECTS.items())
    fields = [
        "s.id",
        "date_trunc('second', s.asked_at)",
        "date_trunc('second', s.answered_at)",
        "s.channel",
        f"CASE s.subject {subjects} ELSE s.subject END",
        "s.procedure_id",
        _pg_spreadsheet_safe("s.procedure_name"),
        "s.department_id",
        _pg_spreadsheet_safe("s.department_name"),
        "s.score",
        *(f"s.dim{n}" for n in range(len(dimensions))),
        "CASE WHEN s.comment IS NOT NULL THEN chr(1) || s.id::text END",
        "ck.key",
    ]
    names = columns(dimensions)
    listed = ", ".join(f'{sql} AS "{name}"' for sql, name in zip(fields, names, strict=True))
    pad = "(SELECT decode(current_setting('ventanilla.hmac_{}'), 'hex'))"
    key = (
        f"left(encode(sha256({pad.format('outer')} || sha256({pad.format('inner')} || "
        f"convert_to(c.id::text, 'UTF8'))), 'hex'), {KEY_HEX_CHARS})"
    )
    # Computed once per citizen: PostgreSQL memoizes the lateral lookup by citizen_id and keeps
    # the rows in id order (a hash join would sort the whole export first).
    citizen = (
        f"LEFT JOIN LATERAL (SELECT {key} AS key FROM citizens AS c "
        "WHERE c.id = s.citizen_id OFFSET 0) AS ck ON true"
    )
    return f"SELECT {listed} FROM ({inner}) AS s {citizen} ORDER BY s.id"


def _pg_spreadsheet_safe(column: str) -> str:
    """`spreadsheet_safe` in PostgreSQL, for the free-text columns the database writes."""
    return f"CASE WHEN {column} ~ '{FORMULA_START}' THEN '''' || {column} ELSE {column} END"


class _Comments:
    """The scope's comments in id order, read alongside the COPY (same snapshot) and masked
    in Python, to replace the COPY's placeholders chunk by chunk."""

    def __init__(self, result: Any) -> None:
        self.rows = result.partitions(CHUNK_ROWS)
        self.ahead: deque[AnyRow] = deque()
        self.done = False

    async def fill(self, data: bytes) -> bytes:
        wanted = [int(found) for found in _PLACEHOLDER.findall(data)]
        masked: dict[int, bytes] = {}
        while wanted and not self.done:
            while self.ahead and self.ahead[0][0] <= wanted[-1]:
                rating_id, comment, citizen_name, display_name = self.ahead.popleft()
                clean = spreadsheet_safe(mask_personal_data(comment, (citizen_name, display_name)))
                quoted = (clean or "").replace('"', '""')
                masked[rating_id] = b'"' + quoted.encode() + b'"'
            if self.ahead:
                break
            try:
                self.ahead = deque(await anext(self.rows))
            except StopAsyncIteration:
                self.done = True
        # A placeholder without its comment (impossible with one snapshot) gets nothing.
        return _PLACEHOLDER.sub(lambda m: masked.get(int(m.group(1)), b""), data)


async def _pg_csv_chunks(
    db: Database, scope: Scope, secret: bytes, timezone: str, dimensions: Sequence[str]
) -> AsyncIterator[bytes]:
    """PostgreSQL writes the CSV itself (COPY ... TO STDOUT, one statement in one read-only
    transaction) and Python only masks the comments, read on a second connection sharing the
    COPY's snapshot. The bytes go on in chunks of about 256 kB; a small queue between the
    COPY and the reader keeps memory flat when the client reads slowly."""
    sql = _pg_copy_sql(scope, timezone, dimensions, db.engine.dialect)
    inner, outer = _hmac_pads(secret)
    queue: asyncio.Queue[bytes | None] = asyncio.Queue(maxsize=16)
    options = {"isolation_level": "REPEATABLE READ", "postgresql_readonly": True}
    async with db.engine.connect() as copying, db.engine.connect() as reading:
        copying = await copying.execution_options(**options)
        snapshot = (await copying.execute(text("SELECT pg_export_snapshot()"))).scalar_one()
        await copying.execute(
            text(
                "SELECT set_config('TimeZone', :zone, true), set_config('jit', 'off', true), "
                "set_config('ventanilla.hmac_inner', :inner, true), "
                "set_config('ventanilla.hmac_outer', :outer, true)"
            ),
            {"zone": timezone, "inner": inner, "outer": outer},
        )
        reading = await reading.execution_options(**options)
        if not _SNAPSHOT.fullmatch(snapshot):
            raise RuntimeError(f"unexpected snapshot id {snapshot!r}")
        await reading.execute(text(f"SET TRANSACTION SNAPSHOT '{snapshot}'"))
        comments = _Comments(
            await reading.stream(
                _comment_select(scope, timezone).execution_options(yield_per=CHUNK_ROWS)
            )
        )
        raw = (await copying.get_raw_connection()).driver_connection
        assert raw is not None

        async def copy() -> None:
            try:
                await raw.copy_from_query(sql, output=queue.put, format="csv", header=True)
            finally:
                await queue.put(None)

        task = asyncio.create_task(copy())
        try:
            pending: list[bytes] = []
            size = 0
            while (data := await queue.get()) is not None:
                if b"\x01" in data:
                    data = await comments.fill(data)
                pending.append(data)
                size += len(data)
                if size >= 256 * 1024:
                    yield b"".join(pending)
                    pending, size = [], 0
            if pending:
                yield b"".join(pending)
            await task  # raises what the COPY raised
        finally:
            if not task.done():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task


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
    if db.engine.dialect.name == "postgresql":
        async for chunk in _pg_csv_chunks(db, scope, secret, timezone, dimensions):
            yield chunk
        return
    shaper = _Shaper(secret, timezone, dimensions)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns(dimensions))
    values = shaper.values
    free_text = (HEAD.index("tramite"), HEAD.index("area"), len(columns(dimensions)) - 2)

    def safe(row: AnyRow) -> list[Any]:
        cells = values(row)
        for at in free_text:  # procedure and department names, the comment
            cells[at] = spreadsheet_safe(cells[at])
        return cells

    async for partition in _partitions(db, scope, timezone, dimensions, chunk_rows):
        writer.writerows([safe(row) for row in partition])
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
    """Write the scope's rows to a new temporary .xlsx file and return its path; the caller
    deletes it. XlsxWriter's constant-memory mode flushes each row to disk as it is written;
    texts stay texts (a comment starting with "=" is never a formula). Past Excel's row limit
    the rows go on in another sheet."""
    import xlsxwriter

    dimensions = await export_dimensions(db)
    shaper = _Shaper(secret, timezone, dimensions)
    header = columns(dimensions)
    handle, path = tempfile.mkstemp(prefix="ventanilla-", suffix=".xlsx")
    os.close(handle)
    workbook = xlsxwriter.Workbook(
        path,
        {
            "constant_memory": True,
            "strings_to_formulas": False,
            "strings_to_urls": False,
            "strings_to_numbers": False,
        },
    )
    bold = workbook.add_format({"bold": True})
    state: dict[str, Any] = {"sheet": None, "row": XLSX_SHEET_ROWS + 1, "number": 0}

    def new_sheet() -> None:
        state["number"] += 1
        title = "calificaciones"
        if state["number"] > 1:
            title = f"calificaciones {state['number']}"
        state["sheet"] = workbook.add_worksheet(title)
        state["sheet"].write_row(0, 0, header, bold)
        state["row"] = 1

    def append(rows: list[list[Any]]) -> None:
        for row in rows:
            if state["row"] > XLSX_SHEET_ROWS:
                new_sheet()
            state["sheet"].write_row(state["row"], 0, row)
            state["row"] += 1

    try:
        async for partition in _partitions(db, scope, timezone, dimensions, chunk_rows):
            rows = [shaper.values(row) for row in partition]
            await asyncio.to_thread(append, rows)
        if state["sheet"] is None:  # no rows: the header alone
            new_sheet()
        await asyncio.to_thread(workbook.close)
    except BaseException:
        with contextlib.suppress(Exception):
            workbook.close()
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
