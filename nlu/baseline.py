"""The baseline: keyword rules for intents and fuzzy word overlap with procedure names.

Intents come from keyword phrases, procedures from word overlap with names and synonyms
(tolerating small typos), aspects from keyword lists. It knows nothing catalogue-specific
beyond what the catalogue itself says.
"""

from collections import Counter
from collections.abc import Iterable
from difflib import SequenceMatcher
from math import log

from nlu import entities
from nlu.normalize import normalize
from nlu.understanding import Candidate, Context, ProcedureEntry, Understanding

STOPWORDS = frozenset(
    "a al con de del el en la las lo los mi mis para por que se un una y o me es su sus "
    "como cual donde quiero necesito ocupo hacer sacar tramitar tramite informacion sobre "
    "hola buenas buenos dias tardes noches favor porfa reporte reportar solicitud "
    "solicitar pedir".split()
)

INTENT_PHRASES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("human_agent", ("asesor", "persona", "humano", "agente", "operador", "hablar con alguien")),
    ("my_data", ("mis datos", "borra mis datos", "borrar mis datos", "datos personales")),
    (
        "request_status",
        ("estado de mi", "estatus", "mis solicitudes", "mis reportes", "seguimiento", "como va"),
    ),
    ("rate_service", ("calificar", "calificacion", "encuesta", "evaluar el servicio")),
    (
        "open_request",
        (
            "reportar",
            "levantar un reporte",
            "hacer un reporte",
            "abrir una solicitud",
            "abrir solicitud",
            "nueva solicitud",
            "no prende",
            "no sirve",
            "no pasa",
            "no paso",
            "hay un",
            "hay una",
        ),
    ),
)

SMALL_TALK: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("greet", ("hola", "buenos dias", "buenas tardes", "buenas noches", "que tal", "buen dia")),
    ("thanks", ("gracias", "muy amable", "te agradezco")),
    ("goodbye", ("adios", "hasta luego", "bye", "nos vemos")),
    ("help", ("ayuda", "menu", "opciones", "que puedes hacer", "inicio")),
    ("affirm", ("si", "claro", "ok", "de acuerdo", "sale", "correcto", "va")),
    ("deny", ("no", "nel", "para nada", "negativo")),
)

ASPECT_WORDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("requirements", ("requisito", "requisitos", "papeles", "documentos", "necesito llevar")),
    ("cost", ("cuesta", "costo", "precio", "cuanto sale", "pagar", "cobran", "tarifa")),
    ("hours", ("horario", "horarios", "hora", "abren", "cierran", "atienden")),
    ("location", ("donde", "direccion", "oficina", "ubicacion", "domicilio")),
    ("duration", ("tarda", "tardan", "tiempo", "plazo", "cuantos dias", "demora")),
    ("validity", ("vigencia", "vence", "caduca", "cuanto dura", "valido")),
    ("online", ("en linea", "internet", "pagina", "portal", "web")),
    ("legal_basis", ("fundamento", "ley", "reglamento", "legal")),
)


def _has_phrase(text: str, phrases: Iterable[str]) -> bool:
    padded = f" {text} "
    return any(f" {phrase} " in padded for phrase in phrases)


def _similar(a: str, b: str) -> bool:
    if a == b:
        return True
    if min(len(a), len(b)) < 5:
        return False
    return SequenceMatcher(None, a, b).ratio() >= 0.84


class BaselineUnderstander:
    def __init__(self, procedures: Iterable[ProcedureEntry], threshold: float = 0.5) -> None:
        self.threshold = threshold
        self.procedures = {p.id: p for p in procedures}
        self._phrases: dict[str, list[list[str]]] = {
            p.id: [self._content(normalize(x)) for x in (p.name, *p.synonyms)]
            for p in self.procedures.values()
        }
        # Words many procedures share ("licencia", "constancia") tell them apart less.
        frequency = Counter(
            word for phrases in self._phrases.values() for word in {w for ph in phrases for w in ph}
        )
        total = max(len(self._phrases), 1)
        self._weight = {word: log(1 + total / n) for word, n in frequency.items()}

    @staticmethod
    def _content(text: str) -> list[str]:
        return [w for w in text.split() if w not in STOPWORDS]

    def _match(self, word: str, words: list[str]) -> float:
        """1 for the same word, 0.8 for a near spelling, 0 otherwise."""
        if word in words:
            return 1.0
        return 0.8 if any(_similar(w, word) for w in words) else 0.0

    def _score(self, words: list[str], phrase: list[str]) -> float:
        """Half how much of the phrase was said, half how much of what was said it explains."""
        if not phrase or not words:
            return 0.0
        weights = [self._weight.get(p, 1.0) for p in phrase]
        said = sum(w * self._match(p, words) for p, w in zip(phrase, weights, strict=True))
        explained = sum(self._match(w, phrase) for w in words)
        return 0.5 * said / sum(weights) + 0.5 * explained / len(words)

    def candidates(self, text: str) -> list[Candidate]:
        words = self._content(text)
        scored = [
            Candidate(pid, round(max(self._score(words, ph) for ph in phrases), 3))
            for pid, phrases in self._phrases.items()
        ]
        return sorted((c for c in scored if c.score > 0), key=lambda c: -c.score)[:5]

    def understand(self, text: str, context: Context) -> Understanding:
        norm = normalize(text)
        found = entities.extract(text)
        aspect = next((a for a, words in ASPECT_WORDS if _has_phrase(norm, words)), None)
        candidates = tuple(self.candidates(norm))
        best = candidates[0] if candidates and candidates[0].score >= self.threshold else None
        procedure_id = best.procedure_id if best else None
        confidence = best.score if best else 0.0

        if "folio" in found:
            return Understanding("request_status", None, None, 1.0, found, candidates)
        for intent, phrases in INTENT_PHRASES:
            if _has_phrase(norm, phrases):
                return Understanding(intent, procedure_id, aspect, 0.9, found, candidates)
        if procedure_id:
            return Understanding(
                "ask_procedure", procedure_id, aspect, confidence, found, candidates
            )
        if aspect and context.last_procedure_id:
            return Understanding(
                "ask_procedure", context.last_procedure_id, aspect, 0.7, found, candidates
            )
        for intent, phrases in SMALL_TALK:
            if _has_phrase(norm, phrases):
                return Understanding(intent, None, None, 0.9, found, candidates)
        if candidates:
            return Understanding(
                "ask_procedure", None, aspect, candidates[0].score, found, candidates
            )
        return Understanding("out_of_scope", None, aspect, 0.0, found, candidates)
