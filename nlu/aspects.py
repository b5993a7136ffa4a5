"""Which aspect of a procedure a question is about, from cue phrases (accents removed).

Strong cues name the aspect; weak ones ("pagar", "atienden") count only when no strong cue
is present. When several aspects are asked, the first one in the sentence wins. The cues are
also features of the learned aspect classifier (nlu.aspect_classifier), which weighs them
against the rest of the sentence ("la platica q piden ... tiene costo?" asks the cost).
"""

STRONG: dict[str, tuple[str, ...]] = {
    "requirements": (
        "requisito",
        "requisitos",
        "papeles",
        "papeleria",
        "documentos",
        "documentacion",
        "que piden",
        "que me piden",
        "que necesito",
        "que ocupo",
        "que llevo",
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
    ),
    "duration": (
        "tarda",
        "tardan",
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
    ),
    "validity": (
        "vigencia",
        "vigente",
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
    ),
    "online": (
        "en linea",
        "internet",
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
    "cost": ("pagar", "pago", "pagan"),
    "hours": ("hora", "atienden", "abierto", "sabado", "domingo", "fin de semana"),
    "location": ("oficina", "lugar"),
    "duration": ("tiempo", "cuando"),
}


def _first(words: str, cues: dict[str, tuple[str, ...]]) -> str | None:
    padded = f" {words} "
    best: tuple[int, int, str] | None = None
    for aspect, phrases in cues.items():
        for phrase in phrases:
            at = padded.find(f" {phrase} ")
            if at >= 0:
                key = (at, -len(phrase), aspect)
                best = key if best is None or key < best else best
    return best[2] if best else None


def find_aspect(words: str) -> str | None:
    """`words` is normalised text (see nlu.normalize)."""
    return _first(words, STRONG) or _first(words, WEAK)


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
