"""Dates as citizens write them: "hoy", "mañana", "el lunes", "15 de diciembre", "3/12/2026"."""

import re
from datetime import date, timedelta

from nlu.normalize import normalize

WEEKDAYS = ("lunes", "martes", "miercoles", "jueves", "viernes", "sabado", "domingo")
MONTHS = (
    "enero febrero marzo abril mayo junio julio agosto septiembre octubre noviembre diciembre"
).split()
_RELATIVE = {"hoy": 0, "manana": 1, "pasado manana": 2, "ayer": -1, "antier": -2}
_NUMERIC = re.compile(r"\b(\d{1,2})[/-](\d{1,2})(?:[/-](\d{2,4}))?\b")
_WRITTEN = re.compile(r"\b(\d{1,2}) de (" + "|".join(MONTHS) + r")(?: de (\d{4}))?\b")


def find_date(text: str, today: date) -> date | None:
    """The first date mentioned, resolved against `today` (future-leaning for weekdays)."""
    words = normalize(text).replace("ñ", "n")
    if m := _NUMERIC.search(text):
        day, month, year = int(m.group(1)), int(m.group(2)), m.group(3)
        full_year = int(year) + (2000 if year and len(year) == 2 else 0) if year else today.year
        try:
            return date(full_year, month, day)
        except ValueError:
            return None
    if m := _WRITTEN.search(words):
        try:
            year = int(m.group(3)) if m.group(3) else today.year
            return date(year, MONTHS.index(m.group(2)) + 1, int(m.group(1)))
        except ValueError:
            return None
    padded = f" {words} "
    for phrase, offset in sorted(_RELATIVE.items(), key=lambda kv: -len(kv[0])):
        if f" {phrase} " in padded and not (phrase == "manana" and " en la manana " in padded):
            return today + timedelta(days=offset)
    for index, name in enumerate(WEEKDAYS):
        if f" {name} " in padded:
            ahead = (index - today.weekday()) % 7 or 7
            return today + timedelta(days=ahead)
    return None
