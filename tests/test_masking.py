"""The one masking function, held to a corpus of realistic Mexican comments
(tests/data/privacy_corpus.yml): no piece of personal data survives, and everyday comments
come out (nearly always) unchanged."""

import re
import unicodedata
from pathlib import Path
from typing import Any

import pytest
import yaml

from casework.privacy.masking import MASK, mask_personal_data

CORPUS = yaml.safe_load(
    (Path(__file__).parent / "data" / "privacy_corpus.yml").read_text(encoding="utf-8")
)
PERSONAL: list[dict[str, Any]] = CORPUS["personal"]
INNOCUOUS: list[str] = CORPUS["innocuous"]
MAX_OVER_MASKED = 0.05  # share of innocuous comments the function may change


def _plain(text: str) -> str:
    """Case, accents, full-width forms and invisible characters set aside."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(
        c for c in decomposed if not unicodedata.combining(c) and unicodedata.category(c) != "Cf"
    ).casefold()


def _compact(text: str) -> str:
    return re.sub(r"[\s.\-()\[\]/_#]", "", text)


def leaked(masked: str, piece: str) -> bool:
    """Whether `piece` survives in `masked` in any spelling: as a whole word for letters;
    ignoring separators, or as five of its digits in a row, for anything with digits."""
    text, piece = _plain(masked), _plain(piece)
    if piece.isalpha():
        return re.search(rf"(?<!\w){re.escape(piece)}(?!\w)", text) is not None
    if _compact(piece) in _compact(text):
        return True
    digits, found = re.sub(r"\D", "", piece), re.sub(r"\D", "", text)
    if len(digits) >= 7:
        return any(digits[i : i + 5] in found for i in range(len(digits) - 4))
    return False


def test_the_corpus_is_large_and_varied() -> None:
    assert len(PERSONAL) >= 60 and len(INNOCUOUS) >= 50
    assert sum(len(entry["leaks"]) for entry in PERSONAL) >= 100


@pytest.mark.parametrize("entry", PERSONAL, ids=lambda e: e["text"][:40])
def test_no_personal_data_survives_masking(entry: dict[str, Any]) -> None:
    masked = mask_personal_data(entry["text"], entry.get("names", ()))
    left = [piece for piece in entry["leaks"] if leaked(masked, piece)]
    assert not left, f"{left} left in {masked!r}"
    if entry["leaks"]:
        assert MASK in masked


def test_everyday_comments_are_left_almost_always_untouched() -> None:
    changed = [text for text in INNOCUOUS if mask_personal_data(text) != text]
    assert len(changed) / len(INNOCUOUS) <= MAX_OVER_MASKED, changed


@pytest.mark.parametrize(
    "text",
    ["Muy bien, gracias", "Pagué $1,250.00 del predial 2025", "Esperé 45 minutos"],
)
def test_text_without_personal_data_is_returned_as_it_is(text: str) -> None:
    assert mask_personal_data(text) == text


def test_neighbouring_pieces_become_one_mask() -> None:
    masked = mask_personal_data("Datos: LOMP800101MJCPRR06, 4775550199, juan@correo.example")
    assert masked == f"Datos: {MASK}"


def test_the_leak_check_itself_finds_pieces_in_any_spelling() -> None:
    """The corpus test is only as good as `leaked`: it must see through separators, case,
    accents and partial numbers."""
    assert leaked("curp lomp 800101 mjcprr 06", "LOMP800101MJCPRR06")
    assert leaked("tel (55) 1234-[dato personal]", "5512345678")
    assert leaked("Soy ROSA", "Rosa") and leaked("gracias a Perez", "Pérez")
    assert leaked("correo JUAN.PEREZ arroba", "juan.perez")
    assert not leaked("mañana", "Ana") and not leaked(f"Soy {MASK}", "Rosa")


def test_every_invisible_character_is_removed_before_reading() -> None:
    """Each format character (Unicode category Cf) inside a phone number is seen through."""
    invisible = [chr(c) for c in range(0x110000) if unicodedata.category(chr(c)) == "Cf"]
    for char in invisible:
        masked = mask_personal_data(f"tel 477{char}555{char}0199")
        assert masked == f"tel {MASK}", (hex(ord(char)), masked)
