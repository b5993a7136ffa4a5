"""Entities found with patterns: CURP, folio, phone, email.

A CURP or a folio is found anywhere in the text, in any case, written whole or in pieces
separated by spaces, dashes or dots ("gode 561231 hdfrrn00", "estado sma 2026 000001"), and
is given back in its canonical form (GODE561231HDFRRN00, SMA-2026-000001).
"""

import re

CURP = re.compile(r"[A-Z][AEIOUX][A-Z]{2}\d{6}[HMX][A-Z]{5}[A-Z0-9]\d")
CURP_LENGTH = 18
CURP_PIECES = 6  # at most this many pieces make one CURP ("GODE 561231 H DF RRN 00")
PIECE = re.compile(r"[A-Za-z0-9]+")
JOINER = re.compile(r"[\s.\-_/]*")  # what may separate the pieces of a CURP
FOLIO = re.compile(
    r"(?<![A-Za-z0-9])([A-Za-z][A-Za-z0-9]{1,7})[\s.\-_/]*(\d{4})[\s.\-_/]*(\d{6})(?!\d)"
)
NOT_A_PREFIX = frozenset(
    "folio folios estado status numero num no el la mi mis de del es y reporte solicitud".split()
)  # "mi folio 2026 000001" names no prefix: the words before a folio are not part of it
EMAIL = re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b")
PHONE = re.compile(r"(?<!\d)(?:\+?52\s?)?(?:\d[\s-]?){10}(?!\d)")


def find_curp(text: str) -> str | None:
    """The first CURP in `text`, upper case, joined from pieces when it was split."""
    pieces = list(PIECE.finditer(text))
    for i, first in enumerate(pieces):
        joined = ""
        for j in range(i, min(i + CURP_PIECES, len(pieces))):
            if j > i and not JOINER.fullmatch(text[pieces[j - 1].end() : pieces[j].start()]):
                break
            joined += pieces[j].group(0).upper()
            if len(joined) >= CURP_LENGTH:
                break
        if len(joined) == CURP_LENGTH and CURP.fullmatch(joined):
            return joined
        if len(first.group(0)) > CURP_LENGTH and (m := CURP.search(first.group(0).upper())):
            return m.group(0)  # glued to a word: "curp:GODE561231HDFRRN00gracias"
    return None


def find_folio(text: str) -> str | None:
    """The first folio in `text` as PREFIX-YEAR-NUMBER, upper case."""
    for m in FOLIO.finditer(text):
        if m.group(1).lower() not in NOT_A_PREFIX:
            return f"{m.group(1).upper()}-{m.group(2)}-{m.group(3)}"
    return None


def extract(text: str) -> dict[str, str]:
    found: dict[str, str] = {}
    if folio := find_folio(text):
        found["folio"] = folio
    if curp := find_curp(text):
        found["curp"] = curp
    if m := EMAIL.search(text):
        found["email"] = m.group(0)
    if "folio" not in found and (m := PHONE.search(text)):
        found["phone"] = re.sub(r"\D", "", m.group(0))[-10:]
    return found
