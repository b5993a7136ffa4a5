"""The evaluators' API: anonymised rating rows page by page, as CSV and as XLSX, and the
indicators; every call audited; no CURP, name, phone or e-mail ever leaves."""

import csv
import io
import os
import tempfile
import unicodedata
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from typing import Any

import httpx
import openpyxl
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from backoffice.app import create_app
from casework.citizens.models import ChannelIdentity, Citizen
from casework.conversations.models import Conversation
from casework.indicators.export import csv_chunks
from casework.indicators.pseudonym import citizen_key, pseudonym_secret
from casework.indicators.scope import Scope
from casework.privacy.masking import MASK, mask_personal_data
from casework.ratings.models import Rating, RatingDimensionScore
from casework.staff.models import StaffUser
from casework.staff.tokens import create_token
from catalog.models import Department, Procedure
from foundation.audit import AuditEntry
from foundation.db import Database
from foundation.settings import Settings, amended
from tests.indicator_seed import rating as seed_rating
from tests.support import valid_curp

BASE = "/api/v1/evaluacion"
CURP_ANA = valid_curp("TORA850312MGTRZN0")
CURP_LUIS = valid_curp("MELU900101HGTNSS0")
PHONE = "4151234567"
# Personal data that must never appear in any export.
SECRETS = (CURP_ANA, CURP_LUIS, "Torres", "Ruiz", "Mendoza", "Anita", PHONE, "ana@correo.example")


@pytest.fixture
async def app(
    loaded_db: Database, settings: Settings, staff_of_every_role: dict[str, str]
) -> FastAPI:
    return create_app(settings, loaded_db, settings.web.secret_key)


@pytest.fixture
async def token(loaded_db: Database, staff_of_every_role: dict[str, str]) -> str:
    async with loaded_db.transaction() as session:
        staff = await session.scalar(select(StaffUser).where(StaffUser.username == "evaluadora"))
        assert staff is not None
        _row, plain = await create_token(session, staff, "pruebas")
    return plain


@pytest.fixture
async def api(app: FastAPI, token: str) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url="http://t",
        headers={"Authorization": f"Bearer {token}"},
    ) as client:
        yield client


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


async def _person(
    session: Any, curp: str, name: str, channel: str, address: str, shown: str
) -> tuple[Citizen, Conversation]:
    citizen = Citizen(curp=curp, name=name)
    session.add(citizen)
    await session.flush()
    identity = ChannelIdentity(
        channel=channel, address=address, display_name=shown, citizen_id=citizen.id
    )
    session.add(identity)
    await session.flush()
    conversation = Conversation(identity_id=identity.id)
    session.add(conversation)
    await session.flush()
    return citizen, conversation


@pytest.fixture
async def ratings(loaded_db: Database) -> dict[str, Any]:
    """Ana (Telegram) rated her pothole report in March with a comment full of personal
    data; Luis (WhatsApp) has 20 predial surveys in April, every third one unanswered."""
    async with loaded_db.transaction() as session:
        ana, ana_chat = await _person(
            session, CURP_ANA, "Ana Torres Ruiz", "telegram", PHONE, "Anita"
        )
        luis, luis_chat = await _person(
            session, CURP_LUIS, "Luis Mendoza", "whatsapp", "5214159876543", "Luis M"
        )
        pothole = Rating(
            subject="request",
            conversation_id=ana_chat.id,
            citizen_id=ana.id,
            procedure_id="reporte-bache",
            department_id="obras-publicas",
            channel="telegram",
            score=2,
            comment=(
                f"Soy Ana Torres, mi CURP es {CURP_ANA} y mi cel {PHONE}, "
                "escríbanme a ana@correo.example; el bache sigue ahí"
            ),
            # 23:30 on 10 March in Mexico City.
            asked_at=utc(2026, 3, 11, 5, 30),
            answered_at=utc(2026, 3, 11, 6, 0),
        )
        session.add(pothole)
        await session.flush()
        session.add_all(
            [
                RatingDimensionScore(rating_id=pothole.id, dimension="tiempo", score=1),
                RatingDimensionScore(rating_id=pothole.id, dimension="trato", score=4),
            ]
        )
        predial = []
        for n in range(20):
            answered = n % 3 != 2
            rating = Rating(
                subject="handoff",
                conversation_id=luis_chat.id,
                citizen_id=luis.id,
                procedure_id="pago-predial",
                department_id="catastro",
                channel="whatsapp",
                score=(n % 5) + 1 if answered else None,
                comment="Muy amable la atención, Luis quedó contento" if n == 0 else None,
                asked_at=utc(2026, 4, 1 + n, 16, 0),
                answered_at=utc(2026, 4, 1 + n, 17, 0) if answered else None,
            )
            session.add(rating)
            predial.append(rating)
        await session.flush()
        return {
            "ana": ana.id,
            "luis": luis.id,
            "pothole": pothole.id,
            "predial": [r.id for r in predial],
        }


async def _secret(db: Database, settings: Settings) -> bytes:
    async with db.transaction() as session:
        return await pseudonym_secret(session, settings.evaluation)


def _no_personal_data(text: str) -> None:
    for value in SECRETS:
        assert value.lower() not in text.lower(), value


async def _walk(api: httpx.AsyncClient, **params: Any) -> tuple[list[dict[str, Any]], int]:
    rows, pages, cursor = [], 0, None
    while True:
        query = {**params, **({"cursor": cursor} if cursor else {})}
        response = await api.get(f"{BASE}/calificaciones", params=query)
        assert response.status_code == 200, response.text
        body = response.json()
        rows += body["calificaciones"]
        pages += 1
        cursor = body["next_cursor"]
        if cursor is None:
            return rows, pages
        assert pages < 100


# --- pseudonym ---------------------------------------------------------------------------


def test_the_citizen_key_is_stable_secret_dependent_and_reveals_nothing() -> None:
    first = citizen_key(b"secreto-uno", 42)
    assert first == citizen_key(b"secreto-uno", 42)
    assert first != citizen_key(b"secreto-dos", 42)
    assert first != citizen_key(b"secreto-uno", 43)
    assert first is not None and len(first) == 20 and int(first, 16) >= 0
    assert citizen_key(b"secreto-uno", None) is None


async def test_the_pseudonym_secret_is_generated_once_or_taken_from_settings(
    db: Database, settings: Settings
) -> None:
    generated = await _secret(db, settings)
    assert len(generated) >= 32 and generated == await _secret(db, settings)
    configured = amended(settings, evaluation={"pseudonym_secret": "clave-del-municipio"})
    assert await _secret(db, configured) == b"clave-del-municipio"


def test_comments_lose_curps_phones_emails_folios_and_names() -> None:
    text = (
        f"Me llamo Ana Torres, CURP {CURP_ANA.lower()}, tel. +52 415 123 4567, "
        "correo ana@correo.example, folio SMA-2026-000123. Gracias"
    )
    masked = mask_personal_data(text, ["Ana Torres Ruiz", None])
    _no_personal_data(masked)
    assert "SMA-2026" not in masked and "415" not in masked
    assert masked.startswith("Me llamo " + MASK) and masked.endswith("Gracias")
    assert mask_personal_data("Todo bien, rápido y amable") == "Todo bien, rápido y amable"


# --- rows --------------------------------------------------------------------------------


async def test_pages_walk_every_row_exactly_once_in_order(
    api: httpx.AsyncClient, ratings: dict[str, Any], loaded_db: Database
) -> None:
    rows, pages = await _walk(api, desde="2026-01-01", hasta="2026-12-31", limit=6)
    ids = [row["id"] for row in rows]
    assert ids == sorted(ids) and len(ids) == len(set(ids)) == 21
    assert set(ids) == {ratings["pothole"], *ratings["predial"]}
    assert pages == 4  # 6 + 6 + 6 + 3

    # A rating added between two pages comes once, at the end; none is repeated or lost.
    year = {"desde": "2026-01-01", "hasta": "2026-12-31", "limit": 10}
    first = (await api.get(f"{BASE}/calificaciones", params=year)).json()
    async with loaded_db.transaction() as session:
        late = Rating(
            subject="request",
            conversation_id=await session.scalar(select(Conversation.id).limit(1)),
            channel="web",
            asked_at=utc(2026, 5, 1, 12, 0),
        )
        session.add(late)
        await session.flush()
        late_id = late.id
    seen = [row["id"] for row in first["calificaciones"]]
    cursor = first["next_cursor"]
    while cursor:
        page = (await api.get(f"{BASE}/calificaciones", params={**year, "cursor": cursor})).json()
        seen += [row["id"] for row in page["calificaciones"]]
        cursor = page["next_cursor"]
    assert seen == sorted([*ids, late_id])


async def test_a_row_is_anonymised_and_in_local_time(
    api: httpx.AsyncClient, ratings: dict[str, Any], loaded_db: Database, settings: Settings
) -> None:
    response = await api.get(
        f"{BASE}/calificaciones", params={"desde": "2026-03-10", "hasta": "2026-03-10"}
    )
    assert response.status_code == 200
    _no_personal_data(response.text)
    body = response.json()
    assert body["filtros"] == {
        "desde": "2026-03-10",
        "hasta": "2026-03-10",
        "tramite": None,
        "area": None,
        "canal": None,
    }
    (row,) = body["calificaciones"]
    secret = await _secret(loaded_db, settings)
    assert row == {
        "id": ratings["pothole"],
        "enviada_en": "2026-03-10 23:30:00-06",
        "respondida_en": "2026-03-11 00:00:00-06",
        "canal": "telegram",
        "asunto": "solicitud",
        "tramite_id": "reporte-bache",
        "tramite": "Reporte de bache",
        "area_id": "obras-publicas",
        "area": row["area"],
        "calificacion": 2,
        "dimensiones": {"tiempo": 1, "trato": 4},
        "comentario": row["comentario"],
        "ciudadano": citizen_key(secret, ratings["ana"]),
    }
    assert row["area"] and "Obras" in row["area"]
    assert MASK in row["comentario"] and row["comentario"].endswith("el bache sigue ahí")
    # Same citizen, same key, in every row and every export.
    rows, _ = await _walk(api, desde="2026-04-01", hasta="2026-04-30", limit=1000)
    assert {r["ciudadano"] for r in rows} == {citizen_key(secret, ratings["luis"])}


async def test_filters_narrow_the_rows(api: httpx.AsyncClient, ratings: dict[str, Any]) -> None:
    year = {"desde": "2026-01-01", "hasta": "2026-12-31"}
    by_channel, _ = await _walk(api, **year, canal="telegram")
    assert [r["id"] for r in by_channel] == [ratings["pothole"]]
    by_procedure, _ = await _walk(api, **year, tramite="pago-predial")
    assert len(by_procedure) == 20
    by_area, _ = await _walk(api, **year, area="obras-publicas")
    assert [r["id"] for r in by_area] == [ratings["pothole"]]
    april_days, _ = await _walk(api, desde="2026-04-05", hasta="2026-04-09")
    assert [r["id"] for r in april_days] == ratings["predial"][4:9]
    nothing, _ = await _walk(api, desde="2025-01-01", hasta="2025-12-31")
    assert nothing == []


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"desde": "2026-13-01"}, "«desde» debe ser una fecha"),
        ({"desde": "2026-05-01", "hasta": "2026-04-01"}, "posterior"),
        ({"canal": "fax"}, "«canal» debe ser uno de"),
        ({"tramite": "no-existe"}, "No existe el trámite"),
        ({"area": "no-existe"}, "No existe el área"),
        ({"limit": "0"}, "«limit» debe estar entre 1 y 1000"),
        ({"limit": "1001"}, "«limit» debe estar entre 1 y 1000"),
        ({"cursor": "no es un cursor"}, "El cursor no es válido"),
        ({"cursor": "cjEyYQ"}, "El cursor no es válido"),
    ],
)
async def test_bad_parameters_are_explained_in_spanish(
    api: httpx.AsyncClient, params: dict[str, str], message: str
) -> None:
    response = await api.get(f"{BASE}/calificaciones", params=params)
    assert response.status_code == 400, response.text
    assert message in response.json()["detail"]


# --- exports -----------------------------------------------------------------------------


async def test_the_csv_export_holds_every_row_anonymised(
    api: httpx.AsyncClient, ratings: dict[str, Any]
) -> None:
    params = {"desde": "2026-01-01", "hasta": "2026-12-31"}
    response = await api.get(f"{BASE}/calificaciones.csv", params=params)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert response.headers["content-disposition"] == (
        'attachment; filename="calificaciones_2026-01-01_2026-12-31.csv"'
    )
    text = response.content.decode("utf-8")
    _no_personal_data(text)
    table = list(csv.DictReader(io.StringIO(text)))
    assert list(table[0]) == [
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
        "calificacion_tiempo",
        "calificacion_trato",
        "comentario",
        "ciudadano",
    ]
    walked, _ = await _walk(api, **params, limit=1000)
    assert [int(row["id"]) for row in table] == [r["id"] for r in walked]
    for row, record in zip(table, walked, strict=True):
        assert row["enviada_en"] == record["enviada_en"]
        assert row["respondida_en"] == (record["respondida_en"] or "")
        assert row["calificacion"] == str(record["calificacion"] or "")
        assert row["comentario"] == (record["comentario"] or "")
        assert row["ciudadano"] == record["ciudadano"]
        assert row["calificacion_tiempo"] == str(record["dimensiones"].get("tiempo", ""))
    assert "Muy amable la atención" in table[1]["comentario"]
    assert "Luis" not in table[1]["comentario"]


async def test_the_csv_comes_in_chunks_of_many_rows(
    loaded_db: Database, ratings: dict[str, Any], settings: Settings
) -> None:
    scope = Scope(date(2026, 1, 1), date(2026, 12, 31))
    secret = await _secret(loaded_db, settings)
    chunks = [c async for c in csv_chunks(loaded_db, scope, secret, chunk_rows=8)]
    if loaded_db.engine.dialect.name == "sqlite":  # PostgreSQL's COPY sends ~256 kB chunks
        assert [c.count(b"\n") for c in chunks] == [1 + 8, 8, 5]  # the header goes first
    lines = b"".join(chunks).decode().splitlines()
    assert len(lines) == 22 and lines[0].startswith("id,")
    whole = [c async for c in csv_chunks(loaded_db, scope, secret)]
    assert b"".join(whole) == b"".join(chunks)


async def test_every_backend_masks_comments_and_keys_citizens_alike(
    loaded_db: Database, ratings: dict[str, Any], settings: Settings
) -> None:
    """The CSV export on PostgreSQL is written by the database (times, citizen keys) with the
    comments masked in Python; it must say exactly what the Python path says."""
    comments = [
        'Dijo "gracias", luego: me llamo Luis Mendoza; fin',
        "Atentamente, luis mendoza",
        "LUIS, tel 415-987-6543 y correo luis.m+x@correo.example",
        f"curp {CURP_LUIS.lower()} folio sma-2026-000001",
        "Sin datos personales, solo un\nsalto de línea, y comas",
        '=HYPERLINK("http://malo.example")',
        "",
    ]
    async with loaded_db.transaction() as session:
        ids = []
        for n, comment in enumerate(comments):
            rating = Rating(
                subject="request",
                conversation_id=(await session.get(Rating, ratings["predial"][0])).conversation_id,
                citizen_id=ratings["luis"],
                channel="whatsapp",
                comment=comment,
                asked_at=utc(2026, 6, 1 + n, 12, 0),
            )
            session.add(rating)
            await session.flush()
            ids.append(rating.id)
    secret = await _secret(loaded_db, settings)
    scope = Scope(date(2026, 6, 1), date(2026, 6, 30))
    text = b"".join([c async for c in csv_chunks(loaded_db, scope, secret)]).decode()
    _no_personal_data(text)
    table = list(csv.DictReader(io.StringIO(text)))
    assert [int(row["id"]) for row in table] == ids
    names = ("Luis Mendoza", "Luis M")
    expected = [mask_personal_data(c, names) for c in comments]
    expected[-2] = "'" + expected[-2]  # never a formula in a spreadsheet
    assert [row["comentario"] for row in table] == expected
    assert {row["ciudadano"] for row in table} == {citizen_key(secret, ratings["luis"])}
    assert table[0]["enviada_en"] == "2026-06-01 06:00:00-06"


FORMULAS = [
    "=1+1",
    "+1",
    "-1",
    "@SUM(A1)",
    "\t=1",
    "\r=1",
    "\n=1",
    "  =1+1",
    " \t-2+3",
    "\u3000=1+1",
    "\u00a0@A1",
    "＝1+1",
    "＋1",
    "－1",
    "＠SUM(A1)",
    "﹦1",
    "−1",
]


def starts_a_formula(cell: str) -> bool:
    """What a spreadsheet may run: a formula sign first, also after blanks or in its
    full-width or small forms, unless an apostrophe comes first."""
    if not cell or cell.startswith("'"):
        return False
    if cell[0] in "\t\r\n":
        return True
    first = unicodedata.normalize("NFKC", cell.lstrip(" \t\r\n\u00a0\u3000"))[:1]
    return first in ("=", "+", "-", "@", "\u2212")


async def test_no_csv_cell_starts_a_spreadsheet_formula(
    loaded_db: Database, ratings: dict[str, Any], settings: Settings
) -> None:
    """Comments, and the catalogue's names written by the database itself on PostgreSQL,
    for every formula trigger."""
    async with loaded_db.transaction() as session:
        for n, formula in enumerate(FORMULAS):
            await seed_rating(session, utc(2026, 7, 1 + n, 12, 0), 3, comment=formula)
        procedure = await session.get(Procedure, "pago-predial")
        department = await session.get(Department, "catastro")
        assert procedure is not None and department is not None
        procedure.name = '\u3000＝HYPERLINK("http://malo.example")'
        department.name = " -2+3 Catastro"
    secret = await _secret(loaded_db, settings)
    scope = Scope(date(2026, 7, 1), date(2026, 7, 31))
    text = b"".join([c async for c in csv_chunks(loaded_db, scope, secret)]).decode()
    table = list(csv.DictReader(io.StringIO(text)))
    assert len(table) == len(FORMULAS)
    assert all(starts_a_formula(formula) for formula in FORMULAS)  # the check sees them all
    dangerous = [
        (column, cell)
        for row in table
        for column, cell in row.items()
        if starts_a_formula(cell or "")
    ]
    assert dangerous == []
    assert {row["tramite"] for row in table} == {"'" + procedure.name}
    assert {row["area"] for row in table} == {"'" + department.name}


async def test_the_xlsx_export_holds_the_same_rows_and_leaves_no_file_behind(
    api: httpx.AsyncClient,
    ratings: dict[str, Any],
    tmp_path: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    params = {"desde": "2026-01-01", "hasta": "2026-12-31", "tramite": "pago-predial"}
    response = await api.get(f"{BASE}/calificaciones.xlsx", params=params)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/vnd.openxmlformats")
    assert (
        "calificaciones_2026-01-01_2026-12-31_pago-predial.xlsx"
        in (response.headers["content-disposition"])
    )
    assert [p for p in os.listdir(tmp_path) if p.startswith("ventanilla-")] == []
    workbook = openpyxl.load_workbook(io.BytesIO(response.content), read_only=True)
    sheet = workbook["calificaciones"]
    values = [list(row) for row in sheet.iter_rows(values_only=True)]
    header, rows = values[0], values[1:]
    assert header[0] == "id" and header[-1] == "ciudadano"
    walked, _ = await _walk(api, **params, limit=1000)
    assert [row[0] for row in rows] == [r["id"] for r in walked]
    assert [row[header.index("calificacion")] for row in rows] == [
        r["calificacion"] for r in walked
    ]
    assert rows[0][header.index("enviada_en")] == walked[0]["enviada_en"]
    _no_personal_data(str(values))
    workbook.close()

    empty = await api.get(
        f"{BASE}/calificaciones.xlsx", params={"desde": "2020-01-01", "hasta": "2020-01-31"}
    )
    sheet = openpyxl.load_workbook(io.BytesIO(empty.content), read_only=True)["calificaciones"]
    assert len(list(sheet.iter_rows(values_only=True))) == 1  # the header alone


async def test_every_api_call_is_in_the_audit_log(
    api: httpx.AsyncClient, ratings: dict[str, Any], loaded_db: Database
) -> None:
    await api.get(f"{BASE}/calificaciones", params={"canal": "whatsapp", "hasta": "2026-12-31"})
    await api.get(
        f"{BASE}/calificaciones.csv", params={"tramite": "pago-predial", "hasta": "2026-12-31"}
    )
    await api.get(f"{BASE}/calificaciones.xlsx", params={"hasta": "2026-12-31"})
    async with loaded_db.transaction() as session:
        evaluator = await session.scalar(
            select(StaffUser.id).where(StaffUser.username == "evaluadora")
        )
        entries = list(
            await session.scalars(
                select(AuditEntry).where(AuditEntry.action.like("api.%")).order_by(AuditEntry.id)
            )
        )
    assert [(e.action, e.entity_id) for e in entries] == [
        ("api.read", f"{BASE}/calificaciones"),
        ("api.export", f"{BASE}/calificaciones.csv"),
        ("api.export", f"{BASE}/calificaciones.xlsx"),
    ]
    assert {e.staff_user_id for e in entries} == {evaluator}
    assert entries[0].after is not None and entries[0].after["filtros"]["canal"] == "whatsapp"
    assert entries[1].after == {
        "filtros": {
            "desde": "2026-01-01",
            "hasta": "2026-12-31",
            "tramite": "pago-predial",
            "area": None,
            "canal": None,
        },
        "formato": "csv",
    }
    assert entries[2].after is not None and entries[2].after["formato"] == "xlsx"


# --- indicators --------------------------------------------------------------------------


async def test_the_indicators_come_with_their_definitions_and_by_month(
    api: httpx.AsyncClient, ratings: dict[str, Any]
) -> None:
    from casework.indicators.service import METRICS

    response = await api.get(
        f"{BASE}/indicadores",
        params={"desde": "2026-03-01", "hasta": "2026-04-30", "agrupar": "mes"},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    found = {item["clave"]: item for item in body["indicadores"]}
    assert list(found) == list(METRICS)
    assert found["ratings_answered"]["valor"] == 1 + 14
    assert found["csat"]["nombre"] and found["csat"]["unidad"] == "%"
    months = {(s["desde"], s["hasta"]): s["valores"] for s in body["series"]}
    assert list(months) == [("2026-03-01", "2026-03-31"), ("2026-04-01", "2026-04-30")]
    assert months["2026-03-01", "2026-03-31"]["ratings_answered"]["valor"] == 1
    assert months["2026-04-01", "2026-04-30"]["ratings_answered"]["valor"] == 14

    weeks = (
        await api.get(
            f"{BASE}/indicadores",
            params={"desde": "2026-04-01", "hasta": "2026-04-14", "agrupar": "semana"},
        )
    ).json()["series"]
    # Wednesday 1 April to Sunday 5, then Monday to Sunday, then Monday 13 and Tuesday 14.
    assert [(s["desde"], s["hasta"]) for s in weeks] == [
        ("2026-04-01", "2026-04-05"),
        ("2026-04-06", "2026-04-12"),
        ("2026-04-13", "2026-04-14"),
    ]
    bad = await api.get(f"{BASE}/indicadores", params={"agrupar": "año"})
    assert bad.status_code == 400 and "«agrupar»" in bad.json()["detail"]
    too_many = await api.get(
        f"{BASE}/indicadores",
        params={"desde": "2020-01-01", "hasta": "2026-12-31", "agrupar": "semana"},
    )
    assert too_many.status_code == 400 and "Demasiados periodos" in too_many.json()["detail"]
