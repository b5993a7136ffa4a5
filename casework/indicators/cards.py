"""Indicator cards (fichas de indicador) as the municipal development plan writes them: what is
measured, how, from where, the baseline, a target per year and the ODS targets it serves, with
a traffic light comparing this year's value so far with this year's target.

Evaluators keep them in the back office; `validate_card` checks what they type (or what a YAML
file holds) and explains each problem in Spanish.
"""

import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from casework.indicators.models import IndicatorCard
from casework.indicators.scope import Scope
from casework.indicators.service import METRICS, metric_value
from casework.staff.models import InstanceSetting, StaffUser
from catalog.models import Department, Procedure
from foundation.audit import audit
from foundation.db import insert_ignore
from foundation.sql import next_period, periods

SAMPLE_CARDS = Path(__file__).resolve().parent / "cards.es-MX.yml"
FREQUENCIES = ("mensual", "trimestral", "semestral", "anual")
LIGHTS = {
    "verde": "Cumple la meta",
    "amarillo": "Cerca de la meta",
    "rojo": "Lejos de la meta",
    "gris": "Sin datos o sin meta",
}
FIELDS = (
    "code",
    "name",
    "description",
    "formula",
    "metric",
    "unit",
    "frequency",
    "source",
    "baseline",
    "baseline_year",
    "targets",
    "ods",
    "higher_is_better",
    "tolerance",
    "procedure_id",
    "department_id",
    "channel",
    "public",
)
_CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,29}")
# An ODS (Sustainable Development Goal) target: goal 1-17, then a number or a letter ("16.a").
_ODS = re.compile(r"(1[0-7]|[1-9])\.([1-9][0-9]?|[a-z])")
_YEARS = range(2000, 2101)
_LARGEST = Decimal(10) ** 12  # a figure beyond this is a typing slip (and overflows columns)
_YEAR = re.compile(r"[0-9]{4}")  # ASCII digits: "²".isdigit() is true, int("²") fails


class CardError(ValueError):
    """What is wrong with a card, field by field, in Spanish."""

    def __init__(self, problems: dict[str, list[str]]) -> None:
        super().__init__("; ".join(f"{k}: {', '.join(v)}" for k, v in problems.items()))
        self.problems = problems


# --- reading what was typed --------------------------------------------------------------------


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def _number(value: Any) -> Decimal | None:
    """A number typed the Mexican way or the programmer's way: "85", "85.5", "1,234.5"."""
    text = _text(value).replace(" ", "").replace("%", "")
    if "," in text and "." in text:
        text = text.replace(",", "")
    text = text.replace(",", ".")
    try:
        number = Decimal(text)
    except InvalidOperation:
        raise ValueError(value) from None
    if not number.is_finite() or abs(number) > _LARGEST:
        raise ValueError(value)
    return number


def _flag(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    return _text(value).lower() in ("1", "true", "on", "si", "sí", "yes")


def _targets(value: Any, problems: list[str]) -> dict[str, float]:
    """{"2026": 85.0}: from a mapping, or from lines like "2026: 85"."""
    if isinstance(value, Mapping):
        pairs = [(str(k), v) for k, v in value.items()]
    else:
        pairs = []
        for line in _text(value).splitlines():
            if not line.strip():
                continue
            pair = re.fullmatch(r"(\S+?)\s*[:=]\s*(.+)", line.strip())
            if pair is None:
                problems.append(f"«{line.strip()}»: escriba año y meta, por ejemplo «2026: 85»")
                continue
            pairs.append((pair.group(1), pair.group(2)))
    found: dict[str, float] = {}
    for year, target in pairs:
        if not _YEAR.fullmatch(year) or int(year) not in _YEARS:
            problems.append(f"«{year}» no es un año entre 2000 y 2100")
            continue
        if year in found:
            problems.append(f"el año {year} tiene dos metas")
            continue
        try:
            number = _number(target)
        except ValueError:
            problems.append(f"la meta de {year} («{_text(target)}») no es un número")
            continue
        assert number is not None
        found[year] = float(number)
    return dict(sorted(found.items()))


def _ods(value: Any, problems: list[str]) -> list[str]:
    items = value if isinstance(value, list | tuple) else re.split(r"[,;\s]+", _text(value))
    found = []
    for item in (_text(i) for i in items):
        if not item:
            continue
        if not _ODS.fullmatch(item.lower()):
            problems.append(f"«{item}» no es una meta ODS como «16.6» o «16.a» (objetivos 1 a 17)")
        elif item.lower() not in found:
            found.append(item.lower())
    return found


async def validate_card(
    session: AsyncSession,
    data: Mapping[str, Any],
    card: IndicatorCard | None = None,
    *,
    channels: Collection[str],
) -> dict[str, Any]:
    """The card's clean values from a form or a YAML entry, or CardError with every problem.
    Empty unit, formula and direction are taken from the metric. `channels` are the names a
    card may be narrowed to (the channel registry's, bot/channels/registry.py)."""
    problems: dict[str, list[str]] = {}

    def bad(field: str, message: str) -> None:
        problems.setdefault(field, []).append(message)

    code = _text(data.get("code"))
    if not code:
        bad("code", "escriba una clave, por ejemplo «EVAL-01»")
    elif not _CODE.fullmatch(code):
        bad("code", "use hasta 30 letras sin acentos, números, puntos o guiones")
    else:
        taken = await session.scalar(select(IndicatorCard.id).where(IndicatorCard.code == code))
        if taken is not None and (card is None or taken != card.id):
            bad("code", f"ya hay una ficha con la clave «{code}»")
    name = _text(data.get("name"))
    if not name:
        bad("name", "escriba el nombre del indicador")
    elif len(name) > 200:
        bad("name", "el nombre admite hasta 200 caracteres")
    metric = _text(data.get("metric"))
    info = METRICS.get(metric)
    if info is None:
        bad("metric", "elija uno de los indicadores que calcula Ventanilla")
    unit = _text(data.get("unit")) or (info.unit if info else "")
    if len(unit) > 40:
        bad("unit", "la unidad admite hasta 40 caracteres")
    frequency = _text(data.get("frequency")) or "mensual"
    if frequency not in FREQUENCIES:
        bad("frequency", f"elija una de: {', '.join(FREQUENCIES)}")

    baseline = baseline_year = None
    if _text(data.get("baseline")):
        try:
            baseline = _number(data.get("baseline"))
        except ValueError:
            bad("baseline", "la línea base debe ser un número")
    year_text = _text(data.get("baseline_year"))
    if year_text:
        if _YEAR.fullmatch(year_text) and int(year_text) in _YEARS:
            baseline_year = int(year_text)
        else:
            bad("baseline_year", "escriba un año entre 2000 y 2100")
    if baseline is not None and not year_text:
        bad("baseline_year", "indique el año de la línea base")

    target_problems: list[str] = []
    targets = _targets(data.get("targets"), target_problems)
    for message in target_problems:
        bad("targets", message)
    ods_problems: list[str] = []
    ods = _ods(data.get("ods"), ods_problems)
    for message in ods_problems:
        bad("ods", message)

    direction = data.get("higher_is_better")
    if direction is None or _text(direction) == "":
        higher_is_better = info.higher_is_better if info else True
    else:
        higher_is_better = _flag(direction)
    tolerance = Decimal("0.10")
    if _text(data.get("tolerance")):
        try:
            percent = _number(data.get("tolerance"))
            assert percent is not None
            if not 0 <= percent <= 100:
                raise ValueError(percent)
            tolerance = (percent / 100).quantize(Decimal("0.0001"))
        except ValueError:
            bad("tolerance", "la tolerancia es un porcentaje entre 0 y 100")

    procedure_id = _text(data.get("procedure_id")) or None
    if procedure_id and await session.get(Procedure, procedure_id) is None:
        bad("procedure_id", f"no existe el trámite «{procedure_id}»")
    department_id = _text(data.get("department_id")) or None
    if department_id and await session.get(Department, department_id) is None:
        bad("department_id", f"no existe el área «{department_id}»")
    channel = _text(data.get("channel")) or None
    if channel and channel not in channels:
        bad("channel", f"elija uno de: {', '.join(channels)}")

    if problems:
        raise CardError(problems)
    return {
        "code": code,
        "name": name,
        "description": _text(data.get("description")),
        "formula": _text(data.get("formula")) or (info.formula if info else ""),
        "metric": metric,
        "unit": unit,
        "frequency": frequency,
        "source": _text(data.get("source")),
        "baseline": baseline,
        "baseline_year": baseline_year,
        "targets": targets,
        "ods": ods,
        "higher_is_better": higher_is_better,
        "tolerance": tolerance,
        "procedure_id": procedure_id,
        "department_id": department_id,
        "channel": channel,
        "public": _flag(data.get("public")),
    }


def form_values(card: IndicatorCard | None) -> dict[str, Any]:
    """A card as the edit form shows it (targets one per line, tolerance as a percentage)."""
    if card is None:
        return {field: "" for field in FIELDS} | {"frequency": "mensual", "tolerance": "10"}
    values = {field: getattr(card, field) for field in FIELDS}
    values["targets"] = "\n".join(f"{year}: {_plain(t)}" for year, t in card.targets.items())
    values["ods"] = ", ".join(card.ods)
    values["baseline"] = "" if card.baseline is None else _plain(card.baseline)
    values["baseline_year"] = card.baseline_year or ""
    values["tolerance"] = _plain(card.tolerance * 100)
    values["higher_is_better"] = "1" if card.higher_is_better else "0"
    for field in ("procedure_id", "department_id", "channel"):
        values[field] = values[field] or ""
    return values


def _plain(number: Any) -> str:
    text = f"{Decimal(str(number)):f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def _snapshot(card: IndicatorCard) -> dict[str, Any]:
    values = {field: getattr(card, field) for field in FIELDS}
    values["baseline"] = None if card.baseline is None else _plain(card.baseline)
    values["tolerance"] = _plain(card.tolerance)
    return values


# --- changes -----------------------------------------------------------------------------------


async def create_card(
    session: AsyncSession,
    actor: StaffUser | None,
    data: Mapping[str, Any],
    *,
    channels: Collection[str],
) -> IndicatorCard:
    values = await validate_card(session, data, channels=channels)
    card = IndicatorCard(**values)
    session.add(card)
    await session.flush()
    await audit(
        session, actor, "indicator_card.create", "indicator_card", card.id, None, _snapshot(card)
    )
    return card


async def update_card(
    session: AsyncSession,
    actor: StaffUser,
    card: IndicatorCard,
    data: Mapping[str, Any],
    *,
    channels: Collection[str],
) -> None:
    values = await validate_card(session, data, card, channels=channels)
    before = _snapshot(card)
    for field, value in values.items():
        setattr(card, field, value)
    after = _snapshot(card)
    if after != before:
        changed = [f for f in FIELDS if before[f] != after[f]]
        await audit(
            session,
            actor,
            "indicator_card.update",
            "indicator_card",
            card.id,
            {f: before[f] for f in changed},
            {f: after[f] for f in changed},
        )


async def delete_card(session: AsyncSession, actor: StaffUser, card: IndicatorCard) -> None:
    await audit(
        session, actor, "indicator_card.delete", "indicator_card", card.id, _snapshot(card), None
    )
    await session.delete(card)


async def get_card(session: AsyncSession, card_id: int) -> IndicatorCard | None:
    """The card, locked for this transaction (it is about to be shown for editing or
    changed)."""
    return await session.get(IndicatorCard, card_id, with_for_update=True)


async def list_cards(session: AsyncSession, public_only: bool = False) -> list[IndicatorCard]:
    query = select(IndicatorCard).order_by(IndicatorCard.code)
    if public_only:
        query = query.where(IndicatorCard.public.is_(True))
    return list(await session.scalars(query))


# --- traffic light -----------------------------------------------------------------------------


@dataclass(frozen=True)
class CardStatus:
    card: IndicatorCard
    start: date  # the year-to-date period measured
    end: date
    value: float | None
    count: int  # observations the value rests on
    target: float | None  # this year's target, if the card has one
    light: str  # "verde" | "amarillo" | "rojo" | "gris"
    # Public page: a month of the year with some observations but fewer than the minimum, so
    # the value is not published (it would tell that month's few answers apart).
    thin_month: bool = False

    @property
    def light_label(self) -> str:
        return LIGHTS[self.light]


def traffic_light(
    value: float | None, target: float | None, higher_is_better: bool, tolerance: float
) -> str:
    """Green when the value meets the target, yellow when it misses by no more than
    `tolerance` (a share of the target), red otherwise; grey without a value or a target."""
    if value is None or target is None:
        return "gris"
    band = abs(target) * tolerance
    if higher_is_better:
        if value >= target:
            return "verde"
        return "amarillo" if value >= target - band else "rojo"
    if value <= target:
        return "verde"
    return "amarillo" if value <= target + band else "rojo"


async def card_status(
    session: AsyncSession, card: IndicatorCard, today: date, timezone: str
) -> CardStatus:
    """The card's value from 1 January to `today` (local days, included), against the target
    of `today`'s year."""
    scope = _year_to(card, today)
    measure = await metric_value(session, card.metric, scope, timezone)
    value = measure.value if measure.count else None
    target = card.targets.get(str(today.year))
    target = None if target is None else float(target)
    light = traffic_light(value, target, card.higher_is_better, float(card.tolerance))
    return CardStatus(card, scope.start, scope.end, value, measure.count, target, light)


async def all_card_status(
    session: AsyncSession, today: date, timezone: str, public_only: bool = False
) -> list[CardStatus]:
    return [
        await card_status(session, card, today, timezone)
        for card in await list_cards(session, public_only)
    ]


def _year_to(card: IndicatorCard, day: date) -> Scope:
    return Scope(date(day.year, 1, 1), day, card.procedure_id, card.department_id, card.channel)


async def public_cards(
    session: AsyncSession, through: date, timezone: str, min_count: int
) -> list[CardStatus]:
    """The cards marked public, measured from 1 January to `through` (the last day of the
    latest closed month), for the public results page. The page hides a value resting on
    fewer than `min_count` observations; `thin_month` marks a card one of whose months has
    some but fewer than `min_count`, whose value is not published either: the month it adds
    could be told from the previous publication's value."""
    found = []
    for status in await all_card_status(session, through, timezone, public_only=True):
        if status.count >= min_count:
            for month in periods(status.start, through, "month"):
                last = min(next_period(month, "month") - timedelta(days=1), through)
                scope = replace(_year_to(status.card, last), start=month)
                count = (await metric_value(session, status.card.metric, scope, timezone)).count
                if 0 < count < min_count:
                    status = replace(status, thin_month=True)
                    break
        found.append(status)
    return found


# --- the sample set ----------------------------------------------------------------------------


def read_cards_file(path: Path) -> Sequence[Mapping[str, Any]]:
    """The entries of a cards YAML file (`cards:` list, fields as in FIELDS)."""
    with path.open(encoding="utf-8") as handle:
        entries: Sequence[Mapping[str, Any]] = yaml.safe_load(handle)["cards"]
    return entries


async def load_sample_cards(
    session: AsyncSession, channels: Collection[str], path: Path = SAMPLE_CARDS
) -> int:
    """On an installation's first run, with no cards yet, load the sample cards (a flag in
    instance_settings makes sure cards an evaluator deleted do not come back). Returns how
    many were created; `channels` as for `validate_card`."""
    first_time = await insert_ignore(
        session, InstanceSetting, {"key": "sample_indicator_cards", "value": str(path.name)}
    )
    if not first_time:
        return 0
    if await session.scalar(select(func.count()).select_from(IndicatorCard)):
        return 0
    entries = read_cards_file(path)
    for entry in entries:
        await create_card(session, None, entry, channels=channels)
    return len(entries)
