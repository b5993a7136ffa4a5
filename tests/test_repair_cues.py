"""The cues conversation repair reads (bot/cues.py, bot/cues.es-MX.yml): a cancel said
anywhere, waiting, what follows a leading yes."""

import pytest

from bot import cues
from nlu.normalize import normalize


@pytest.mark.parametrize(
    "text",
    [
        "nel, mejor ahi muere, ya no lo quiero reportar",
        "uy no, si me van a pedir la curp mejor lo dejo asi",
        "no pues no, mi curp no se la doy a nadie, cancela",
        "ah no ya no hace falta, ya volvio a prender",
        "olvídalo, no me llegó nada",
    ],
)
def test_a_cancel_is_found_wherever_it_is_said(text: str) -> None:
    assert cues.drops(text)


@pytest.mark.parametrize(
    "text",
    [
        "la lampara ya no prende desde el lunes",
        "no tengo foto",
        "nel",
        "perdón, no es bache, se rompió el tubo del agua",
        "me cancelaron la toma de agua sin avisar",
    ],
)
def test_no_cancel_is_made_up(text: str) -> None:
    assert not cues.drops(text)


@pytest.mark.parametrize(
    "text", ["sabes q mejor no, ya lo arreglaron", "uy no", "pues ya no, gracias"]
)
def test_a_cancel_after_a_filler_is_a_cancel(text: str) -> None:
    assert cues.cancels(text)


@pytest.mark.parametrize(
    ("text", "only"),
    [
        ("ahorita se la mando", True),
        ("espera tantito porfa", True),
        ("espera, es hidalgo 120", False),
        ("un momento, la direccion es morelos 4", False),
    ],
)
def test_waiting_is_a_whole_message(text: str, only: bool) -> None:
    assert cues.is_only_of(normalize(text), "wait", "courtesy") is only


@pytest.mark.parametrize(
    ("text", "rest"),
    [
        ("si, la lampara no prende", "la lampara no prende"),
        ("sí acepto, es en la calle Hidalgo 20", "es en la calle Hidalgo 20"),
        ("ok va, de acuerdo", ""),
        ("pues si claro gracias", ""),
        ("la lampara no prende, si", ""),  # no leading yes: nothing is taken from it
    ],
)
def test_what_follows_a_leading_yes(text: str, rest: str) -> None:
    assert cues.after_answer(text) == rest


@pytest.mark.parametrize(
    ("text", "small_talk"),
    [
        ("jaja oye eres robot verdad", True),
        ("¿cómo estás?", True),
        ("are you a bot?", True),
        ("como esta mi reporte", False),  # a status question, not small talk
        ("eres un robot, la lampara de mi calle no prende", False),
    ],
)
def test_small_talk_is_a_whole_message(text: str, small_talk: bool) -> None:
    words = normalize(text)
    assert (cues.has("chitchat", words) and len(cues.rest_of(words).split()) <= 1) is small_talk
