"""Entities found with patterns: CURP, folio, phone, email."""

import re

CURP = re.compile(r"\b([A-Z][AEIOUX][A-Z]{2}\d{6}[HMX][A-Z]{5}[A-Z0-9]\d)\b", re.IGNORECASE)
FOLIO = re.compile(r"\b([A-Z0-9]{2,8}-\d{4}-\d{6})\b", re.IGNORECASE)
EMAIL = re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b")
PHONE = re.compile(r"(?<!\d)(?:\+?52\s?)?(?:\d[\s-]?){10}(?!\d)")


def extract(text: str) -> dict[str, str]:
    found: dict[str, str] = {}
    if m := FOLIO.search(text):
        found["folio"] = m.group(1).upper()
    if m := CURP.search(text):
        found["curp"] = m.group(1).upper()
    if m := EMAIL.search(text):
        found["email"] = m.group(0)
    if "folio" not in found and (m := PHONE.search(text)):
        found["phone"] = re.sub(r"\D", "", m.group(0))[-10:]
    return found
