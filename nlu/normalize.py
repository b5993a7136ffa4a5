"""Text normalisation: lower case, no accents, no punctuation, single spaces."""

import re
import unicodedata

_NON_WORD = re.compile(r"[^a-z0-9ñ]+")


def strip_accents(text: str) -> str:
    if text.isascii():
        return text
    decomposed = unicodedata.normalize("NFD", text)
    kept = "".join(c for c in decomposed if unicodedata.category(c) != "Mn" or c == "\u0303")
    # keep ñ (n + combining tilde) as a letter of its own
    return unicodedata.normalize("NFC", kept)


def normalize(text: str) -> str:
    lowered = strip_accents(text.lower())
    return _NON_WORD.sub(" ", lowered).strip()


def tokens(text: str) -> list[str]:
    return normalize(text).split()
