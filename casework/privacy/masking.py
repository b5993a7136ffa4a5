"""Masking personal data in free text that leaves for evaluators or the public.

`mask_personal_data` is the one function every such path uses: the evaluators' API, the CSV
and XLSX exports and the back office ratings list (comments of surveys). It replaces with
"[dato personal]" what identifies a person in a Mexican citizen's comment:

- CURP, RFC (with or without homoclave), clave de elector, written together or with spaces,
  dashes or dots anywhere, in any case, even with full-width or invisible characters;
- long numbers (7 digits or more, however grouped: phones in every format, INE's OCR and CIC)
  and codes mixing letters and digits (IDMEX..., mistyped CURPs), folios;
- e-mail addresses, also written "juan arroba gmail punto com" or "juan (at) gmail . com";
- street addresses with a number ("calle Hidalgo 23 col. centro", "av. juarez #145 int 3",
  "manzana 4 lote 12", "C.P. 37000");
- names introduced as such ("me llamo", "mi nombre es", "soy", "atte.", "sr.", "lic.",
  "gracias", "saludos"), a common first name followed by a common surname anywhere, and the
  names the system already knows for the citizen (their own, the chat's display name).

It masks too much rather than too little, but keeps everyday comments intact: money, dates,
times, years, short numbers, the street a report was about without a house number. The corpus
it is held to (tests/data/privacy_corpus.yml) lists both kinds. The text is normalised first
(NFKC, invisible characters removed), so what comes out is that normalised text.
"""

import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cache, lru_cache
from itertools import islice
from pathlib import Path

import yaml

MASK = "[dato personal]"
WORDS_FILE = Path(__file__).with_name("words.es-MX.yml")
Span = tuple[int, int]

# --- normalising --------------------------------------------------------------------------------


def _fold_table() -> dict[int, str]:
    """Lower case without accents, one character for one (so positions stay the same)."""
    table = {}
    for code in range(0x41, 0x250):
        char = chr(code)
        lower = char.lower()
        if len(lower) != 1:
            continue
        base = unicodedata.normalize("NFD", lower)[0]
        if base != char:
            table[code] = base
    return table


_FOLD = _fold_table()


_DIGIT = re.compile(r"[0-9]")


# Invisible format characters (Unicode category Cf, as of Unicode 14: zero-width spaces, soft
# hyphens, direction marks, tags) that could split a CURP or a phone; deleted before reading.
_INVISIBLE = re.compile(
    "[\u00ad\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2\u180e\u200b-\u200f"
    "\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb\U000110bd\U000110cd"
    "\U00013430-\U0001343f\U0001bca0-\U0001bca3\U0001d173-\U0001d17a\U000e0001"
    "\U000e0020-\U000e007f]"
)


def _prepare(text: str) -> str:
    """NFKC (full-width letters and digits become plain ones) without invisible characters."""
    if text.isascii():
        return text
    return _INVISIBLE.sub("", unicodedata.normalize("NFKC", text))


_NON_ASCII = re.compile(r"[^\x00-\x7f]")


def fold(text: str) -> str:
    """Lower case without accents, position for position."""
    lowered = text.lower()
    if lowered.isascii():
        return lowered
    if len(lowered) != len(text):  # a rare letter whose lower case is longer ("İ")
        return text.translate(_FOLD)
    return _NON_ASCII.sub(lambda m: _FOLD.get(ord(m.group()), m.group()), lowered)


# --- identifiers and numbers ----------------------------------------------------------------------

_SEP = r"[\s.\-]?"  # what people put between the characters of a code


def _code(classes: list[str], optional_last: bool = False) -> re.Pattern[str]:
    """A code whose characters may be separated by a space, a dash or a dot."""
    body = _SEP.join(classes[:-1] if optional_last else classes)
    if optional_last:
        body += f"(?:{_SEP}{classes[-1]})?"
    return re.compile(rf"(?<![a-z0-9]){body}(?![a-z0-9])")


_L, _D = "[a-z]", "[0-9]"
CURP = _code(
    [_L, "[aeioux]", _L, _L, *[_D] * 6, "[hmx]", *[_L] * 5, "[a-z0-9]", _D], optional_last=True
)
ELECTOR_KEY = _code([*[_L] * 6, *[_D] * 8, "[hmx]", *[_D] * 3])
RFC = re.compile(
    r"(?<![a-z0-9&ñ])[a-zñ&]{3,4}[\s.\-]?([0-9]{6})(?:[\s.\-]?([a-z0-9]{3}))?(?![a-z0-9])"
)
FOLIO = re.compile(r"(?<![a-z0-9])[a-z0-9]{2,8}[\s\-]20[0-9]{2}[\s\-]?[0-9]{6}(?![0-9])")
FOLIO_CUE = re.compile(
    r"\b(?:folio|expediente|reporte|ticket|solicitud)\b"
    r"(?:\s*(?:no\.?|num\.?|numero|n°|nº|#|:|es)(?![a-z]))*\s*#?\s*([a-z0-9\-]+)"
)
# Digits grouped any way: "(55) 1234-5678", "+52 1 55 1234 5678", "477.555.01.99".
DIGIT_RUN = re.compile(r"[0-9](?:[ \t().\-/]{0,3}[0-9])*")
LONG_NUMBER = 7  # digits: a local phone number has 7 or 8; INE's CIC 9, its OCR 13
DATE = re.compile(r"[0-9]{1,2}\s?[/.\-]\s?[0-9]{1,2}\s?[/.\-]\s?[0-9]{2,4}")
YEARS = re.compile(r"(?:19|20)[0-9]{2}\s?[\-/]\s?(?:19|20)[0-9]{2}")
MIXED_CODE = re.compile(r"(?<![a-z0-9])(?=[a-z]*[0-9])(?=[0-9]*[a-z])[a-z0-9]{8,}(?![a-z0-9])")
# A licence plate: the first group with a digit in the few words after "placa(s)".
PLATE = re.compile(
    r"\bplacas?\b(?:[\s:]+[a-z]+){0,5}?[\s:]+"
    r"((?=[a-z\-]*[0-9])[a-z0-9]{1,4}(?:[\s\-][a-z0-9]{1,4}){0,3})(?![a-z0-9])"
)


def _identifiers(folded: str) -> Iterator[Span]:
    for pattern in (CURP, ELECTOR_KEY, FOLIO):
        for found in pattern.finditer(folded):
            yield found.span()
    for found in RFC.finditer(folded):
        digits, homoclave = found.group(1), found.group(2)
        if homoclave or (1 <= int(digits[2:4]) <= 12 and 1 <= int(digits[4:6]) <= 31):
            yield found.span()
    for found in FOLIO_CUE.finditer(folded):
        if sum(c.isdigit() for c in found.group(1)) >= 3:
            yield found.span(1)
    for found in PLATE.finditer(folded):
        yield found.span(1)
    for found in MIXED_CODE.finditer(folded):
        if sum(c.isdigit() for c in found.group()) >= 4:
            yield found.span()
    for found in DIGIT_RUN.finditer(folded):
        run = found.group()
        if sum(c.isdigit() for c in run) < LONG_NUMBER:
            continue
        if DATE.fullmatch(run) or YEARS.fullmatch(run):
            continue
        if folded[: found.start()].rstrip().endswith("$"):  # money
            continue
        start = found.start()
        if start and folded[start - 1] in "+(":
            start -= 1
        yield start, found.end()


# --- e-mail addresses ---------------------------------------------------------------------------

_LOCAL = r"[a-z0-9._%+\-]+"
_LABEL = r"[a-z0-9\-]+"
_DOT = r"(?:\.|\(\s*dot\s*\)|\[\s*dot\s*\]|\{\s*dot\s*\}|<\s*dot\s*>|\bpunto\b|\bdot\b)"
_AT = r"(?:\(\s*at\s*\)|\[\s*at\s*\]|\{\s*at\s*\}|<\s*at\s*>|\barroba\b)"
# "@" and its spelled-out forms: the domain may even lack its dot ("juan@gmail").
EMAIL = re.compile(rf"{_LOCAL}(?:@|\s@\s|\s*{_AT}\s*){_LABEL}(?:\s*{_DOT}\s*{_LABEL})*")
# A bare English "at" only with a dotted domain after it ("lupita at gmail dot com").
EMAIL_AT_WORD = re.compile(rf"{_LOCAL}\s+at\s+{_LABEL}(?:\s*{_DOT}\s*{_LABEL})+")
# A social network handle: "@lupita.glez".
HANDLE = re.compile(r"(?<![\w.])@[a-z0-9_.]{3,}[a-z0-9_]")
_EMAIL_WORDS = frozenset(("arroba", "at"))


def _emails(folded: str) -> Iterator[Span]:
    for pattern in (EMAIL, EMAIL_AT_WORD, HANDLE):
        for found in pattern.finditer(folded):
            yield found.span()


# --- street addresses ---------------------------------------------------------------------------

STREET_KEYWORDS = frozenset(
    "calle av avda avenida blvd blvr boulevard bulevar bulevard privada priv callejon cjon "
    "cerrada cda andador prolongacion prol calzada calz circuito cto paseo camino carretera "
    "retorno periferico libramiento diagonal domicilio direccion vivo".split()
)
STREET = re.compile(rf"\b(?:{'|'.join(sorted(STREET_KEYWORDS - {'vivo'}))}|vivo en)\b")
BLOCK_LOT = re.compile(
    r"\b(?:manzana|mza|mz)\.?\s*#?\s*[0-9a-z]{1,4}\s*,?\s*(?:lote|lte|lt)\.?\s*#?\s*[0-9a-z]{1,4}\b"
)
# No street keyword, but a "#" number or a colonia after the number: "Hidalgo #23",
# "Morelos 115, colonia Obrera".
_SETTLEMENT_WORDS = r"(?:col|colonia|fracc|fraccionamiento|barrio)\b"
BARE_ADDRESS = re.compile(
    r"(?:[a-z0-9ñ]+\.?\s+){1,3}(?:#\s?[0-9]+[a-z]?(?:-[a-z0-9]+)?"
    rf"|[0-9]+[a-z]?(?:-[a-z0-9]+)?(?=\s*,?\s*{_SETTLEMENT_WORDS}))"
)
_BARE_ADDRESS_CUE = re.compile(rf"#|\b{_SETTLEMENT_WORDS}")
POSTCODE = re.compile(r"(?<![a-z])(?:c\.\s?p\.?|cp\.?|codigo postal)\s*:?\s*[0-9]{5}\b")
_TOKEN = re.compile(r"#?[a-z0-9/ñ]+(?:-[a-z0-9]+)?\.?|[,;:!?\n()]")
_HOUSE_NUMBER = re.compile(r"#?[0-9]+[a-z]?(?:-[a-z0-9]+)?\.?|s/n\.?|sn\.?")
_NUMBER_WORDS = {"no", "no.", "num", "num.", "numero", "n°", "#"}
_INTERIOR = {"int", "int.", "interior", "depto", "depto.", "dpto", "dpto.", "departamento"}
_INTERIOR |= {"local", "casa", "edificio", "edif", "edif.", "piso"}
_SETTLEMENT = {"col", "col.", "colonia", "fracc", "fracc.", "fraccionamiento", "barrio"}
_SETTLEMENT |= {"unidad", "residencial", "u.h.", "conjunto"}
_ABBREVIATIONS = _NUMBER_WORDS | _INTERIOR | _SETTLEMENT | {"av.", "blvd.", "priv.", "cda."}
STREET_WORDS = 7  # a street's name and its number fit in this many words


def _addresses(folded: str, digits: bool) -> Iterator[Span]:
    if digits:
        yield from (found.span() for found in POSTCODE.finditer(folded))
        for pattern in (BLOCK_LOT, BARE_ADDRESS):
            if pattern is BARE_ADDRESS and not _BARE_ADDRESS_CUE.search(folded):
                continue
            for found in pattern.finditer(folded):
                yield found.start(), _address_tail(folded, found.end())
    for found in STREET.finditer(folded):
        tokens = list(islice(_TOKEN.finditer(folded, found.end()), STREET_WORDS + 1))
        end = _house_number_end(tokens)
        if end is not None:
            yield found.start(), _address_tail(folded, end)


def _house_number_end(tokens: list[re.Match[str]]) -> int | None:
    """Where the house number after a street keyword ends ("Hidalgo 23", "5 de Mayo No. 120",
    "16 de Septiembre s/n"), or None when a sentence goes on without one ("la calle está
    llena de baches desde 2023")."""
    not_names = _lexicon().not_names
    for n, token in enumerate(tokens[:STREET_WORDS]):
        word = token.group()
        following = tokens[n + 1].group() if n + 1 < len(tokens) else ""
        if _HOUSE_NUMBER.fullmatch(word) and following != "de":  # "5 de Mayo" is a name
            return token.end()
        if word in ",;!?\n":
            return None
        if word in _NUMBER_WORDS and _HOUSE_NUMBER.fullmatch(following):
            continue
        if n == 0 and word in ("es", "en", ":"):  # "mi domicilio es ...", "vivo en ..."
            continue
        if word.rstrip(".") in not_names and word not in PARTICLES:
            return None  # a sentence, not a street's name
        if word.endswith(".") and word not in _ABBREVIATIONS:
            return None  # the sentence ended
    return None


def _address_tail(folded: str, end: int) -> int:
    """Extend an address past its number: "int 3", ", col. Centro", "Fracc. Las Flores"."""
    tokens = list(islice(_TOKEN.finditer(folded, end), 8))
    n = 0
    if n + 1 < len(tokens) and tokens[n].group() in _INTERIOR:
        end, n = tokens[n + 1].end(), n + 2
    if n < len(tokens) and tokens[n].group() == ",":
        n += 1
    if n < len(tokens) and tokens[n].group() in _SETTLEMENT:
        words = 0
        for token in tokens[n + 1 : n + 5]:
            if token.group() in ",;!?\n":
                break
            end, words = token.end(), words + 1
            if token.group().endswith("."):
                break
    return end


# --- names ------------------------------------------------------------------------------------

# Cues after which a name comes; the strong ones are followed by a name whatever its case.
Cues = tuple[tuple[str, ...], ...]
STRONG_CUES: Cues = (("me", "llamo"), ("mi", "nombre", "completo", "es"), ("mi", "nombre", "es"))
STRONG_CUES += (("mi", "nombre"),)
STRONG_CUES += (("atte",), ("att",), ("atentamente",), ("firma",))
WEAK_CUES: Cues = (("soy",), ("habla",), ("le", "escribe"), ("les", "escribe"))
WEAK_CUES += (("saludos",), ("gracias",), ("pregunten", "por"), ("familia",))
HONORIFICS = "sr sra srta senor senora senorita don dona lic licenciado licenciada ing"
HONORIFICS += " ingeniero ingeniera dr dra doctor doctora profe profesor profesora mtro mtra"
HONORIFICS += " maestro maestra arq arquitecto arquitecta contador contadora"
WEAK_CUES += tuple((h,) for h in HONORIFICS.split())
PARTICLES = {"de", "del", "la", "las", "los"}
NAME_WORDS = 5  # at most this many words are taken as one name
_WORD = re.compile(r"[^\W\d_]+")
_CUE_GAP = re.compile(r"[\s.,:\-]*")
_NAME_GAP = re.compile(r"[ \t]+|[ \t]*-[ \t]*")


@dataclass(frozen=True)
class _Lexicon:
    """casework/privacy/words.es-MX.yml"""

    first_names: frozenset[str]
    surnames: frozenset[str]
    ambiguous: frozenset[str]  # first names that are everyday words too
    places: frozenset[str]
    not_names: frozenset[str]
    known: frozenset[str]  # first names and surnames
    triggers: frozenset[str]  # words that may start a name: cues' first words, first names
    # A cue's first word -> (cue, strong) for each cue starting with it, longest first.
    cues: dict[str, list[tuple[tuple[str, ...], bool]]]


@cache
def _lexicon() -> _Lexicon:
    data = yaml.safe_load(WORDS_FILE.read_text(encoding="utf-8"))
    words = {key: frozenset(value.split()) for key, value in data.items()}
    cues: dict[str, list[tuple[tuple[str, ...], bool]]] = {}
    for cue, strong in [(c, True) for c in STRONG_CUES] + [(c, False) for c in WEAK_CUES]:
        cues.setdefault(cue[0], []).append((cue, strong))
    for found in cues.values():
        found.sort(key=lambda item: -len(item[0]))
    return _Lexicon(
        words["first_names"],
        words["surnames"],
        words["ambiguous_first_names"],
        words["place_words"],
        words["not_names"],
        words["first_names"] | words["surnames"],
        frozenset(cues) | words["first_names"],
        cues,
    )


class _Words:
    """The words of a text with their positions, folded and as written."""

    def __init__(self, text: str, folded: str) -> None:
        self.text = text
        self.spans = [m.span() for m in _WORD.finditer(folded)]
        self.folded = [folded[a:b] for a, b in self.spans]

    def gap(self, n: int) -> str:
        """What lies between word n and word n + 1."""
        return self.text[self.spans[n][1] : self.spans[n + 1][0]]

    def capitalised(self, n: int) -> bool:
        return self.text[self.spans[n][0]].isupper()


def _names(text: str, folded: str, parts: frozenset[str]) -> Iterator[Span]:
    """Names after a cue, common first names (with their surnames), and the `parts` of the
    names known for the citizen."""
    lexicon = _lexicon()
    words = _Words(text, folded)
    count = len(words.folded)
    n = 0
    while n < count:
        taken = 0
        for cue, strong in lexicon.cues.get(words.folded[n], ()):
            if tuple(words.folded[n : n + len(cue)]) != cue:
                continue
            last = n + len(cue) - 1
            if last + 1 < count and _CUE_GAP.fullmatch(words.gap(last)):
                taken = _name_after(words, last + 1, strong)
            if taken:
                a, b = words.spans[last + 1][0], words.spans[last + taken][1]
                yield a, b
                n = last + taken
            break
        if not taken and _starts_a_name(words, n, lexicon):
            taken = _name_after(words, n, strong=False)
            yield words.spans[n][0], words.spans[n + taken - 1][1]
            n += taken - 1
        n += 1
    if parts:
        for found in _words_pattern(parts).finditer(folded):
            yield found.span()


def _starts_a_name(words: _Words, n: int, lexicon: _Lexicon) -> bool:
    """A common first name with no cue before it: a name unless a place word comes before
    ("calle Miguel Hidalgo"), and for a first name that is an everyday word too ("Rosa",
    "Julio"), only with a surname after it."""
    word = words.folded[n]
    if word not in lexicon.first_names:
        return False
    if n and words.folded[n - 1] in lexicon.places:
        return False
    if word not in lexicon.ambiguous:
        return True
    return (
        n + 1 < len(words.folded)
        and words.folded[n + 1] in lexicon.surnames
        and _NAME_GAP.fullmatch(words.gap(n)) is not None
    )


def _name_after(words: _Words, start: int, strong: bool) -> int:
    """How many words from `start` make a name (0: none). After a strong cue any word that is
    not a common one counts; otherwise a known first name or surname, or a capitalised word."""
    lexicon = _lexicon()
    known = lexicon.known

    def name_like(n: int) -> bool:
        word = words.folded[n]
        if word in lexicon.not_names:
            return False
        return strong or word in known or words.capitalised(n)

    if not name_like(start):
        return 0
    end = start + 1
    while end < len(words.folded) and end - start < NAME_WORDS:
        if not _NAME_GAP.fullmatch(words.gap(end - 1)):
            break
        if name_like(end):
            end += 1
        elif (
            words.folded[end] in PARTICLES
            and end + 1 < len(words.folded)
            and _NAME_GAP.fullmatch(words.gap(end))
            and (words.folded[end + 1] in PARTICLES or name_like(end + 1))
        ):
            end += 1  # "María de la Luz", "Juan del Valle"
        else:
            break
    while words.folded[end - 1] in PARTICLES:  # never end on "de"
        end -= 1
    return end - start


@lru_cache(maxsize=4096)
def _known_parts(names: tuple[str, ...]) -> frozenset[str]:
    """The words of the known names worth masking: 3 letters or more, not everyday words."""
    parts = {p for name in names for p in _WORD.findall(fold(_prepare(name))) if len(p) >= 3}
    return frozenset(parts) - _lexicon().not_names


@lru_cache(maxsize=1024)
def _words_pattern(words: frozenset[str]) -> re.Pattern[str]:
    alternatives = "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))
    return re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)")


# --- the function -------------------------------------------------------------------------------

_JOINABLE = re.compile(r"[\s,;]*")


def mask_personal_data(text: str, names: Iterable[str | None] = ()) -> str:
    """`text` with every piece of personal data replaced by "[dato personal]" (see the module's
    description); `names` are names known for the citizen (None ignored)."""
    text = _prepare(text)
    folded = fold(text)
    words = frozenset(_WORD.findall(folded))  # cheap checks first: most comments hold no data
    digits = _DIGIT.search(folded) is not None
    lexicon = _lexicon()
    spans: list[Span] = []
    if digits:
        spans.extend(_identifiers(folded))
    if "@" in folded or not words.isdisjoint(_EMAIL_WORDS):
        spans.extend(_emails(folded))
    if digits or not words.isdisjoint(STREET_KEYWORDS):
        spans.extend(_addresses(folded, digits))
    parts = _known_parts(tuple(n for n in names if n))
    if parts or not words.isdisjoint(lexicon.triggers):
        spans.extend(_names(text, folded, parts))
    if not spans:
        return text
    return _replace(text, spans)


def _replace(text: str, spans: list[Span]) -> str:
    """Each run of overlapping or neighbouring spans becomes one mask."""
    spans.sort()
    merged: list[list[int]] = []
    for start, end in spans:
        if merged and (start <= merged[-1][1] or _JOINABLE.fullmatch(text, merged[-1][1], start)):
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    out, at = [], 0
    for start, end in merged:
        out.append(text[at:start])
        out.append(MASK)
        at = end
    out.append(text[at:])
    return "".join(out)
