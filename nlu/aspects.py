"""Which aspect of a procedure a question is about, from cue phrases (accents removed).

Strong cues name the aspect; weak ones ("pagar", "atienden") count only when no strong cue
is present. When several aspects are asked, the first one in the sentence wins.
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
    ),
}
WEAK: dict[str, tuple[str, ...]] = {
    "cost": ("pagar", "pago", "pagan"),
    "hours": ("hora", "atienden", "abierto"),
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


def cue_words() -> set[str]:
    """Every word used as an aspect cue: kept out of procedure matching."""
    return {
        w
        for cues in (STRONG, WEAK)
        for phrases in cues.values()
        for p in phrases
        for w in p.split()
    }
