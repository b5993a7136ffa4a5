"""Which aspect of a procedure a question is about, from cue phrases (accents removed).

Strong cues name the aspect; weak ones ("pagar", "atienden") count only when no strong cue
is present. The cues are also features of the learned aspect classifier
(nlu.aspect_classifier), which weighs them against the rest of the sentence ("la platica q
piden ... tiene costo?" asks the cost). Several questions in one message ("requisitos y
cuánto cuesta", "where and how much") are found clause by clause (`clauses`, `aspects_asked`):
each clause split at punctuation or a conjunction asks at most one aspect, in the order
written. The English cues let basic English and Spanglish questions be read the same way.
"""

import re

STRONG: dict[str, tuple[str, ...]] = {
    "requirements": (
        "requisito",
        "requisitos",
        "requirements",
        "requirement",
        "what documents",
        "which documents",
        "what do i need",
        "what i need",
        "what papers",
        "paperwork",
        "papeles",
        "papeleria",
        "documentos",
        "documentacion",
        "que piden",
        "que me piden",
        "que necesito",
        "que ocupo",
        "que llevo",
        "que le llevo",
        "que les llevo",
        "que lleva",
        "que llevamos",
        "que le llevamos",
        "que hay que llevar",
        "que debo llevar",
        "que se necesita",
        "que necesita",
        "que ocupa",
        "que se ocupa",
    ),
    "cost": (
        "cuesta",
        "cuestan",
        "how much",
        "cost",
        "costs",
        "price",
        "fee",
        "fees",
        "costo",
        "costos",
        "precio",
        "cuanto sale",
        "cuanto cobran",
        "cobran",
        "cuanto es",
        "tarifa",
        "gratis",
        "gratuito",
        "cuanto hay que pagar",
        "cuanto se paga",
        "cuanto pago",
        "cuanto tengo que pagar",
        "cuanto vale",
        "cobra",
        "tiene costo",
        "que precio",
        "cuanto me va a salir",
        "cuanto saldria",
    ),
    "hours": (
        "horario",
        "horarios",
        "what time",
        "what hours",
        "opening hours",
        "office hours",
        "are you open",
        "schedule",
        "a que hora",
        "que hora",
        "abren",
        "cierran",
        "que dias",
        "sabados",
        "domingos",
        "hasta que hora",
        "desde que hora",
        "abre",
        "abiertas",
        "abiertos",
        "a que horas",
        "que horas",
        "dias festivos",
        "cuando toca",
        "que dia toca",
        "que dia pasa",
        "que dias pasa",
        "cada cuando pasa",
    ),
    "location": (
        "donde",
        "direccion",
        "where",
        "address",
        "which office",
        "ubicacion",
        "queda",
        "a donde",
        "en que lugar",
        "en que oficina",
        "que oficina",
        "como llego",
        "en donde",
        "que dependencia",
        "con quien voy",
        "en el oxxo",
        "en oxxo",
        "en que banco",
    ),
    "duration": (
        "tarda",
        "tardan",
        "how long",
        "how many days",
        "how soon",
        "tardara",
        "cuanto tiempo",
        "plazo",
        "cuantos dias",
        "demora",
        "cuando me lo dan",
        "cuando me la dan",
        "cuando me entregan",
        "en cuanto tiempo",
        "que tan rapido",
        "dias habiles",
        "se tardan",
        "cuando me lo entregan",
        "en cuanto me lo dan",
        "en cuanto me la dan",
        "cuando me la entregan",
        "cuando la tengo",
        "cuando lo tengo",
        "cuando estaria",
        "mismo dia",
        "luego luego",
        "tardado",
        "en cuanto me dan",
        "en cuanto lo dan",
        "en cuanto la dan",
        "en cuanto lo entregan",
        "en cuanto la entregan",
    ),
    "validity": (
        "vigencia",
        "vigente",
        "expire",
        "expires",
        "valid for",
        "is it valid",
        "vence",
        "caduca",
        "cuanto dura",
        "renovar",
        "renueva",
        "cada cuando",
        "expira",
        "sirve por",
        "valido por",
        "vencimiento",
        "para siempre",
        "por un año",
        "por año",
        "por mes",
        "cuanto tiempo sirve",
        "cuanto tiempo es valido",
        "cuanto tiempo tengo para",
        "cuantos dias dura",
        "cuantos dias sirve",
        "cuanto tiempo dura",
        "cuanto tiempo vale",
        "hasta cuando sirve",
        "hasta cuando es valido",
        "todavia sirve",
        "sigue sirviendo",
        "sigue valiendo",
        "sigue vigente",
        "caducidad",
        "me sirve",
        "le sirve",
        "sirve todo",
        "vale todo",
        "vale para todo",
        "me dura",
        "le dura",
        "es valida",
        "es valido",
        "son validas",
        "son validos",
        "good for",
        "valid",
    ),
    "online": (
        "en linea",
        "internet",
        "website",
        "pagina",
        "portal",
        "web",
        "link",
        "liga",
        "online",
        "por celular",
        "desde mi casa",
        "desde casa",
        "sin ir",
        "virtual",
        "por la red",
        "app",
        "aplicacion",
        "correo electronico",
        "por correo",
        "transferencia",
        "spei",
        "digital",
        "en la pagina",
    ),
    "legal_basis": (
        "fundamento",
        "ley",
        "law",
        "legal basis",
        "regulation",
        "leyes",
        "reglamento",
        "legal",
        "articulo",
        "base legal",
        "normativa",
        "norma",
        "normatividad",
        "se basa",
        "se basan",
        "legalmente",
        "fundamento legal",
        "juridico",
        "codigo",
    ),
}
WEAK: dict[str, tuple[str, ...]] = {
    "cost": ("pagar", "pago", "pagan", "descuento", "descuentan", "discount"),
    "hours": ("hora", "atienden", "abierto", "sabado", "domingo", "fin de semana"),
    "location": ("oficina", "lugar"),
    "duration": ("tiempo", "cuando"),
}


# Cues with a gap: what is asked for between the question word and the verb ("que permiso
# ocupo", "que papeles nos piden", "que le llevo" is not one: "que llevo 5 años aqui"), or
# none for any person of the verb ("que ocupamos", "que necesitan"); not a need stated with
# its object ("fijese q mi mama ocupa su acta")
GAPPED: dict[str, re.Pattern[str]] = {
    "requirements": re.compile(
        r"\bque (?:\w+ ){0,2}(?:ocup|necesit|requier)\w*\b"
        r"(?! (?:su|sus|el|la|los|las|un|una|mi|mis)\b)"
        r"|\bque (?:\w+ ){1,2}pid(?:e|en|ieron)\b"
    ),
}


def _first(words: str, cues: dict[str, tuple[str, ...]]) -> str | None:
    found = _first_at(words, cues)
    return found[1] if found else None


def _first_at(
    words: str, cues: dict[str, tuple[str, ...]], gapped: bool = False
) -> tuple[int, str] | None:
    """The first cue in `words`, longest first where two start together: (the character
    where it starts, its aspect); with `gapped`, the GAPPED cues too."""
    padded = f" {words} "
    best: tuple[int, int, str] | None = None
    for aspect, phrases in cues.items():
        for phrase in phrases:
            at = padded.find(f" {phrase} ")
            if at >= 0:
                key = (at, -len(phrase), aspect)
                best = key if best is None or key < best else best
    if gapped:
        for aspect, pattern in GAPPED.items():
            found = pattern.search(padded)
            if found:
                key = (found.start() - 1, -len(found.group()), aspect)
                best = key if best is None or key < best else best
    return (best[0], best[2]) if best else None


def find_aspect(words: str) -> str | None:
    """`words` is normalised text (see nlu.normalize)."""
    return _first(words, STRONG) or _first(words, WEAK)


# Where one question ends and the next may start: punctuation, or a conjunction between
# words ("donde se saca y cuanto cuesta", "where and how much"). Not "o": "cuesta o es gratis?"
# and "en el oxxo o por internet?" ask one thing two ways, unless a question word follows it.
CLAUSE_BREAK = re.compile(
    r"[,;:?!¿¡.()\n]+|\s(?:y|e|and|ademas|tambien|aparte|plus|tmb)(?=\s)"
    r"|\s(?:o|or|ni)(?=\s+(?:donde|cuanto|cuando|a (?:que|q|k) hora|where|how much)\b)",
    re.IGNORECASE,
)  # "se paga en linea o donde": "o" before a question word starts another question
# A question word starts a new question when the words before it already asked one:
# "cuanto cuesta q papeles piden" asks the cost, then the requirements.
QUESTION_WORDS = frozenset(
    "q que cuanto cuanta cuantos cuantas donde cuando como cual cuales".split()
    + "how what where when which".split()
)
ALONE = {"cuanto": "cost", "cuanto es": "cost", "how much": "cost"}  # "donde y cuanto?"
# How to do it, asked beside another aspect ("como se inscribe y cuanto cuesta"), asks what
# it takes: the requirements. Alone, "como le hago" is a general question.
HOW = (
    "como se",
    "como le",
    "como lo",
    "como la",
    "como me",
    "como saco",
    "como hago",
    "como tramito",
    "que tramite",
    "que tramites",
    "how do i",
    "how can i",
)


# what the citizen cannot do or lacks, not a question: "no tengo tiempo de ir", "ni por donde"
# (but "la constancia de no adeudo cuanto cuesta" asks)
NEGATED = re.compile(r"\b(?:ni|no (?:tengo|tenemos|tiene|tienen|se|sabemos|hay|puedo|podemos))\b")
# an apology for the hour of writing asks no hours: "buenas noches, perdon la hora"
COURTESY = re.compile(
    r"\b(?:perdon|perdone|perdona|disculpe|disculpa|disculpen)(?: por)? la hora\b"
)
VAGUE = ("cuando", "tiempo")
NEGATION_REACH = 3  # words before a cue where a negation makes it what the citizen lacks


def clauses(text: str) -> list[str]:
    """`text` (raw) cut where a new question may start; pieces as written, empty ones
    dropped."""
    return [c.strip() for c in CLAUSE_BREAK.split(text) if c.strip()]


def _questions(words: str) -> list[str]:
    """A normalised clause cut where a second question starts right after a strong cue:
    a question word with a strong cue of its own next to it ("cuanto cuesta q papeles"), not
    a question inside the first ("q ley dice cuanto se cobra")."""
    split = words.split()
    pieces, start = [], 0
    for at, word in enumerate(split):
        if (
            word in QUESTION_WORDS
            and at > start
            and _ends_with_cue(split[start:at])
            and _first(" ".join(split[at : at + 3]), STRONG)
        ):
            pieces.append(" ".join(split[start:at]))
            start = at
    return [*pieces, " ".join(split[start:])] if split else []


def _ends_with_cue(words: list[str]) -> bool:
    joined = f" {' '.join(words)}"
    return any(joined.endswith(f" {p}") for phrases in STRONG.values() for p in phrases)


def _clause_aspect(words: str, weak_cues: bool = True) -> str | None:
    """The aspect one clause asks, if any: not what it says the citizen lacks ("no tengo
    tiempo de ir", "no tengo pa pagar"), and "cuando"/"tiempo" alone ask nothing there.
    Without `weak_cues`, only a strong cue or "cuanto" alone counts."""
    weak = {a: tuple(c for c in cues if c not in VAGUE) for a, cues in WEAK.items()}
    words = COURTESY.sub(" ", words)
    found = _first_at(words, STRONG, gapped=True) or (_first_at(words, weak) if weak_cues else None)
    if found is None:
        return ALONE.get(words)
    at, aspect = found
    if aspect == "duration" and _first(words[at:], {"validity": STRONG["validity"]}):
        aspect = "validity"  # "cuantos dias es valida", "cuanto tiempo me dura": how long
        # the paper lasts, said with a question about time
    near = " ".join(words[:at].split()[-NEGATION_REACH:])  # "no tenemos hijos q necesitamos
    # pa separarnos" asks what they need: the negation is about something else
    negation = NEGATED.search(near)
    if negation is None:
        return aspect
    # a question word after the negation starts what is asked: "no se q papeles piden",
    # "no tenemos hijos q piden pa el divorcio"; "no tengo pa pagar" asks nothing
    after = near[negation.end() :].split() + words[at:].split()[:1]
    return aspect if QUESTION_WORDS & set(after) else None


def aspects_asked(prepared: list[str], weak_cues: bool = True) -> list[str]:
    """Every aspect the clauses ask (each already normalised), in the order asked, each
    once: a question asks the aspect of its first strong cue, or of its first weak one
    (unless not `weak_cues`), or "cuanto" alone asks the cost; "como se hace" asks the
    requirements when another aspect is asked too."""
    found: list[tuple[int, str]] = []
    how: list[int] = []
    questions = [q for words in prepared for q in _questions(words)]
    for at, words in enumerate(questions):
        aspect = _clause_aspect(words, weak_cues)
        if aspect:
            found.append((at, aspect))
        elif _first(words, {"requirements": HOW}):
            how.append(at)
    if found and how:
        found = sorted([*found, *((at, "requirements") for at in how)])
    ordered: list[str] = []
    for _, aspect in found:
        if aspect not in ordered:
            ordered.append(aspect)
    return ordered


def cue_phrases() -> set[str]:
    """Every aspect cue phrase: kept out of procedure matching."""
    return {p for cues in (STRONG, WEAK) for phrases in cues.values() for p in phrases}


def _last(words: str, cues: dict[str, tuple[str, ...]]) -> str | None:
    padded = f" {words} "
    best: tuple[int, int, str] | None = None
    for aspect, phrases in cues.items():
        for phrase in phrases:
            at = padded.rfind(f" {phrase} ")
            if at >= 0:
                key = (at + len(phrase), len(phrase), aspect)
                best = key if best is None or key > best else best
    return best[2] if best else None


def cue_features(words: str) -> list[str]:
    """Tokens naming the cues found in `words`: the first and the last strong aspect (a
    question often ends the message: "el papel q piden en la escuela, cuanto cuesta?"), the
    first weak one and every aspect with a strong cue anywhere."""
    padded = f" {words} "
    anywhere = sorted({a for a, phrases in STRONG.items() for p in phrases if f" {p} " in padded})
    return [
        f"cuestrong{_first(words, STRONG) or 'none'}",
        f"cuelast{_last(words, STRONG) or 'none'}",
        f"cueweak{_first(words, WEAK) or 'none'}",
        *(f"cueany{a}" for a in anywhere),
    ]
