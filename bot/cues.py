"""What citizens write that changes the course of a conversation: yes, no, cancel, skip, help,
a correction, a question. The phrases live in cues.es-MX.yml; this module only matches them."""

import re
from functools import lru_cache
from pathlib import Path

import yaml

from nlu.normalize import normalize, strip_accents

CUES_FILE = Path(__file__).resolve().parent / "cues.es-MX.yml"


@lru_cache
def _groups() -> dict[str, tuple[str, ...]]:
    with CUES_FILE.open(encoding="utf-8") as fh:
        raw: dict[str, list[object]] = yaml.safe_load(fh)
    for name, phrases in raw.items():
        if not all(isinstance(p, str) for p in phrases):  # YAML reads a bare no as False
            raise ValueError(f"{CUES_FILE.name}: {name}: quote every phrase that is not text")
    return {name: tuple(normalize(str(p)) for p in phrases) for name, phrases in raw.items()}


@lru_cache
def _pattern(group: str) -> re.Pattern[str]:
    phrases = sorted(_groups()[group], key=len, reverse=True)
    return re.compile(r"(?<![a-z0-9ñ])(?:" + "|".join(map(re.escape, phrases)) + r")(?![a-z0-9ñ])")


def has(group: str, words: str) -> bool:
    """Whether normalised `words` contain a phrase of `group` as whole words."""
    return _pattern(group).search(words) is not None


def found(group: str, words: str) -> str | None:
    """The first phrase of `group` in normalised `words`, or None."""
    match = _pattern(group).search(words)
    return match.group(0) if match else None


def position(group: str, words: str) -> int | None:
    """Where the first phrase of `group` starts in `words`, or None."""
    found = _pattern(group).search(words)
    return found.start() if found else None


def is_only(group: str, words: str) -> bool:
    """Whether normalised `words` are nothing but phrases of `group`."""
    return bool(words) and not _pattern(group).sub(" ", words).strip()


def is_only_of(words: str, *groups: str) -> bool:
    """Whether normalised `words` are nothing but phrases of the `groups` ("espera tantito
    porfa": wait and courtesy)."""
    rest = strip_fillers(words)
    for group in groups:
        rest = _pattern(group).sub(" ", rest)
    return bool(words) and not rest.strip()


def rest_of(words: str, groups: tuple[str, ...] = ("chitchat", "courtesy", "affirm")) -> str:
    """What normalised `words` say besides fillers and the phrases of `groups`."""
    rest = strip_fillers(words)
    for group in groups:
        rest = _pattern(group).sub(" ", rest)
    return strip_fillers(" ".join(rest.split()))


def starts_with(group: str, words: str) -> bool:
    """Whether `words` begin with a phrase of `group`, after fillers such as "oye", "y"."""
    rest = strip_fillers(words)
    found = _pattern(group).match(rest)
    return found is not None


def plain_answer(text: str) -> bool | None:
    """True for a message that is only a yes ("si", "sí claro", "ok va"), False for only a
    no ("no", "nel"), None for anything more."""
    words = strip_fillers(normalize(text))
    if is_only("affirm", words):
        return True
    if is_only("deny", words):
        return False
    return None


def label_answers(label: str) -> bool | None:
    """Which answer a choice's label gives: True for "Sí, eso", False for "No acepto", None
    for a label that is neither ("Costo")."""
    words = normalize(label)
    if starts_with("deny", words):
        return False
    if starts_with("affirm", words):
        return True
    return None


def asks(text: str) -> bool:
    """Whether a message is a question: a question mark, or a question word first ("cuánto
    cuesta…", "cómo apostillo…"), but not "como a dos cuadras" or "que se cayó la lámpara"."""
    if "?" in text or "¿" in text:
        return True
    rest = strip_fillers(normalize(text))
    found = _pattern("question").match(rest)
    if found is None:
        return False
    following = rest[found.end() :].split()[:1]
    ambiguous = found.group(0) in ("como", "que")
    return not (ambiguous and following and has("not_asking", following[0]))


def strip_fillers(words: str) -> str:
    rest = words
    while (found := _pattern("fillers").match(rest)) is not None and found.end() > 0:
        rest = rest[found.end() :].lstrip()
    return rest


def first_words(words: str, count: int) -> str:
    return " ".join(words.split()[:count])


def has_stem(group: str, words: str) -> bool:
    """Whether a word of `words` begins with a stem of `group` ("borrenlos" has "borr")."""
    stems = _groups()[group]
    return any(word.startswith(stem) for word in words.split() for stem in stems if " " not in stem)


def _alternatives(group: str) -> str:
    return "|".join(map(re.escape, sorted(_groups()[group], key=len, reverse=True)))


@lru_cache
def _number_and_colony() -> str:
    """A house number and what follows it ("18 col san juan", no further); not a number that
    counts something ("hace 3 días")."""
    counted = _alternatives("quantity")
    return rf"\d{{1,5}}(?!\d|\s+(?:{counted})\b)(?:[ ,]+[^\s.;,]+){{0,3}}"


@lru_cache
def _street() -> re.Pattern[str]:
    words, number = _alternatives("street"), _number_and_colony()
    return re.compile(rf"(?i)(?<![\w])(?:{words})\.?\s+[^\d\n,.;]{{0,30}}?{number}")


@lru_cache
def _introduced() -> re.Pattern[str]:
    """An address said after the words that announce one, with no street word: "está en
    Hidalgo 23", "mi domicilio es Morelos 45". A street name must come before the number
    ("está en 2 lugares" is no address)."""
    words, number = _alternatives("address"), _number_and_colony()
    name = r"[^\W\d][^\d\n,.;]{1,30}?"
    return re.compile(rf"(?i)(?<![\w])(?:{words})\s*:?\s+(?:es\s+)?({name}{number})")


def find_address(text: str) -> str | None:
    """A street address in `text`: a street word ("calle", "av.") followed by a number within a
    few words ("calle Abasolo 18 col San Juan"), or a street name and number after words that
    announce an address ("está en Hidalgo 23"); None when there is no number to go to."""
    plain = strip_accents(text)
    if found := _street().search(plain):
        return text[found.start() : found.end()].strip(" ,")
    if found := _introduced().search(plain):
        return text[found.start(1) : found.end(1)].strip(" ,")
    return None


_CLAUSE_END = re.compile(r"[,.;:!¡?¿\n]")


def first_clause(text: str) -> str:
    """The normalised words of `text` up to its first comma or full stop, fillers dropped."""
    return strip_fillers(normalize(_CLAUSE_END.split(text.strip(), maxsplit=1)[0]))


def cancels(text: str) -> bool:
    """Whether a message drops what is under way: "olvídalo", "ya no, mejor luego",
    "mejor no, no quiero dar mi curp"; not "ya no prende la lámpara"."""
    words = strip_fillers(normalize(text))
    if _pattern("cancel").match(words) is not None or is_only("cancel_alone", first_clause(text)):
        return True
    if (no := _pattern("deny").match(words)) is not None:
        rest = words[no.end() :].lstrip()  # "nel, ya no quiero", "no ya no"
        return _pattern("cancel").match(rest) is not None or is_only("cancel_alone", rest)
    return False


def drops(text: str) -> bool:
    """Whether a message drops what is under way in words that say nothing else, wherever they
    come ("nel, mejor ahí muere", "no pues no, mi curp no se la doy, cancela"): stronger than
    `cancels`, which only reads how a message begins."""
    return has("drop", normalize(text))


ANSWER_WORDS = 6  # how far a leading yes may reach: "sí claro, acepto", "ok va, de acuerdo"


def after_answer(text: str) -> str:
    """What a message says after a leading yes ("sí acepto, es en la calle Hidalgo 20" →
    "es en la calle Hidalgo 20"); empty when it does not begin with one."""
    tokens = text.split()
    cut = 0
    for end in range(1, min(len(tokens), ANSWER_WORDS) + 1):
        if is_only_of(normalize(" ".join(tokens[:end])), "affirm", "courtesy"):
            cut = end
    return " ".join(tokens[cut:]).strip(" ,.;:!¡") if cut else ""
